"""``Downloads`` for UI tests without the service: a device key in a given keyring backend
(``keyring.backends.fail.Keyring()`` is headless Linux: the passphrase fallback), and one
that records what ``add`` was asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from downloads.api import Downloads
from downloads.context import DrmContext
from downloads.journal import Journal
from drm.keystore import PassphraseSource
from ui.downloads_service import Opener

DEVICE = "dev-ui"
FAST_SCRYPT_N = 2**10  # the real cost (2**15) only slows the tests down


def opener(folder: Path, keyring_backend: Any, cls: type[Downloads] = Downloads) -> Opener:
    def open_(passphrase: PassphraseSource) -> Downloads:
        drm = DrmContext(DEVICE, folder / "drm", keyring_backend=keyring_backend, passphrase=passphrase,
                         scrypt_n=FAST_SCRYPT_N)
        return cls(Journal(folder / "journal.sqlite3"), folder / "downloads", drm)

    return open_


class RecordingDownloads(Downloads):
    """``add`` records its arguments instead of asking the service for a license."""

    added: list[tuple[str, dict[str, Any]]] = []  # replaced per test by the fixture

    def add(self, target: str, **kw: Any) -> Any:  # type: ignore[override]
        RecordingDownloads.added.append((target, kw))
        return None
