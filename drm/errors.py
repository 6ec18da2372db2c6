"""The errors of offline playback, with words a person understands."""

from __future__ import annotations

from marquee.errors import LicenseError, StorageError

DAMAGED_MESSAGE = "This download is damaged. Re-download it?"


class DownloadDamaged(StorageError):
    """A stored file failed authentication (tampered, truncated or swapped)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, user_message=DAMAGED_MESSAGE, code="download_damaged")


def license_error(code: str, message: str, user_message: str | None = None) -> LicenseError:
    return LicenseError(message, user_message=user_message or message, code=code)
