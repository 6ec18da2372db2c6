"""Secrets at rest: the URL-signing secret, the license signing key and content keys are stored
wrapped (AES-256-GCM) under a key kept in its own 0600 file beside the database, never in a plain
column. A copy of ``service.sqlite3`` alone opens nothing.

Format of a wrapped value: ``w1:<base64(nonce | ciphertext+tag)>``; the value's name (``meta:secret``,
``content:t001``) is the associated data, so a wrapped value moved to another row does not open.
Values written by older versions (plain hex) are wrapped at start (``migrate``), with a log line.
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from marquee.private_files import read_or_create_secret
from service.store import Store

log = logging.getLogger("marquee.service.keystore")
PREFIX = "w1:"
KEY_FILE = "service.key"


class KeystoreError(RuntimeError):
    pass


class Keystore:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeystoreError("the wrapping key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def beside(cls, db_path: Path) -> "Keystore":
        """The keystore whose key file (0600, created on first use) sits beside the database."""
        text = read_or_create_secret(Path(db_path).parent / KEY_FILE, 32)
        try:
            return cls(bytes.fromhex(text.decode("ascii").strip()))
        except (ValueError, UnicodeDecodeError):
            raise KeystoreError(f"{Path(db_path).parent / KEY_FILE} is not a key this service wrote") from None

    def wrap(self, name: str, plain: bytes) -> str:
        nonce = os.urandom(12)
        return PREFIX + base64.b64encode(nonce + self._aead.encrypt(nonce, plain, name.encode())).decode("ascii")

    def unwrap(self, name: str, stored: str) -> bytes:
        if not stored.startswith(PREFIX):
            raise KeystoreError(f"{name} is not wrapped")
        try:
            raw = base64.b64decode(stored[len(PREFIX):], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], name.encode())
        except (ValueError, InvalidTag):
            raise KeystoreError(f"{name} does not open with this service's key file "
                                f"(was {KEY_FILE} replaced?)") from None

    def meta_secret(self, store: Store, key: str, make: Callable[[], bytes]) -> bytes:
        """The secret kept wrapped in meta ``key``; made (and stored wrapped) on first use."""
        name = f"meta:{key}"
        stored = store.get_meta(key)
        if stored is None:
            store.set_meta(key, self.wrap(name, make()))
            stored = store.get_meta(key)
            assert stored is not None
        return self.unwrap(name, stored)

    def content_key(self, store: Store, content_id: str, make: Callable[[], bytes], now: float) -> bytes:
        name = f"content:{content_id}"
        return self.unwrap(name, store.content_key(content_id, lambda: self.wrap(name, make()), now))

    def migrate(self, store: Store, meta_keys: tuple[str, ...]) -> int:
        """Wrap values stored in clear by older versions; how many were wrapped."""
        count = 0
        for key in meta_keys:
            value = store.get_meta(key)
            if value is not None and not value.startswith(PREFIX):
                store.set_meta(key, self.wrap(f"meta:{key}", bytes.fromhex(value)))
                count += 1
        for content_id, value in store.content_keys():
            if not value.startswith(PREFIX):
                store.set_content_key(content_id, self.wrap(f"content:{content_id}", bytes.fromhex(value)))
                count += 1
        if count:
            log.warning("wrapped %d secrets that an older version stored in clear", count)
        return count
