"""The trusted-time high-water mark on disk, sealed (AES-GCM) under a key derived from the
device private key: editing or replacing the file is detected (it then counts as a
rollback until the service confirms the time)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from drm.policy import TrustedTime

_AAD = b"marquee-trusted-time-v1"


class TimeMarkFile:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(key)

    def load(self) -> tuple[TrustedTime | None, bool]:
        """(mark, tampered). No file: (None, False)."""
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return None, False
        try:
            doc = json.loads(self._aead.decrypt(blob[:12], blob[12:], _AAD))
            return TrustedTime(float(doc["high_water"]), doc.get("server_time"), doc.get("rollback_at")), False
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None, True

    def save(self, mark: TrustedTime) -> None:
        nonce = os.urandom(12)
        body = json.dumps({"high_water": mark.high_water, "server_time": mark.server_time,
                           "rollback_at": mark.rollback_at}).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(nonce + self._aead.encrypt(nonce, body, _AAD))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
