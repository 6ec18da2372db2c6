"""One small error hierarchy for the whole app.

Every error the user can meet carries a category, a severity and a message a
person understands. Lower layers translate library exceptions (httpx, av, mpv,
sqlite3) into these at their boundary, so the layers above never see a
third-party exception type.
"""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    RECOVERABLE = "recoverable"  # retry, fail over or degrade; playback may go on
    FATAL = "fatal"  # this operation cannot succeed; tell the user


class MarqueeError(Exception):
    category = "internal"
    severity = Severity.FATAL

    def __init__(self, message: str, *, user_message: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.user_message = user_message or message
        self.code = code or self.category

    def to_dict(self) -> dict[str, str]:
        return {
            "category": self.category,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }


class ConfigError(MarqueeError):
    category = "config"


class ManifestError(MarqueeError):
    """A manifest (MPD or M3U8) that cannot be understood; the message names the element or line."""

    category = "manifest"


class NetworkError(MarqueeError):
    category = "network"
    severity = Severity.RECOVERABLE


class ServiceError(MarqueeError):
    """The reference service (or a compatible one) refused or failed a request."""

    category = "service"


class MediaError(MarqueeError):
    """Bytes that do not decode or remux: a corrupt segment, an unsupported codec."""

    category = "media"


class LicenseError(MarqueeError):
    category = "license"


class StorageError(MarqueeError):
    """Disk full, permission denied, a damaged file at rest."""

    category = "storage"
