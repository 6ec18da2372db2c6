"""The device key pair (X25519): private key in the OS keystore, or a documented fallback.

* Normal case: the raw private key (base64) is kept by ``keyring`` under service
  ``"marquee"``, user ``"device-key:<device_id>"`` (Keychain, Windows Credential
  Locker, Secret Service / KWallet).
* No keystore (headless Linux without Secret Service: ``keyring`` reports its ``fail``
  backend, or a backend refuses to store): the private key is wrapped with AES-GCM
  under ``scrypt(passphrase)`` in ``<data>/drm/device-key.json``. The passphrase comes
  from ``MARQUEE_KEY_PASSPHRASE`` or an interactive prompt. ``notice`` says which one is
  used, so the app can tell the user; there is never a plaintext key file.

Also derives the local sealing key (HKDF of the private key) that protects the
trusted-time high-water mark.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from drm.errors import license_error

SERVICE = "marquee"
PASSPHRASE_ENV = "MARQUEE_KEY_PASSPHRASE"
SCRYPT_N = 2**15
FALLBACK_NOTICE = (
    "No OS keystore is available (on Linux: no Secret Service/KWallet). Marquee keeps the device key in {path}, "
    "encrypted with a key derived from your passphrase (scrypt). Set MARQUEE_KEY_PASSPHRASE or type it when asked."
)

PassphraseSource = Callable[[bool], str]  # (creating) -> passphrase


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def raw_public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def env_or_prompt_passphrase(creating: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise license_error("passphrase_required", "no OS keystore and no passphrase",
                            f"No OS keystore is available and no passphrase was given: set {PASSPHRASE_ENV}.")
    first = getpass.getpass("Passphrase protecting the Marquee device key: ")
    if creating and getpass.getpass("Repeat it: ") != first:
        raise license_error("passphrase_mismatch", "the passphrases differ", "The two passphrases differ.")
    return first


@dataclass
class DeviceKeys:
    private: X25519PrivateKey
    storage: str  # "keyring:<backend>" or "passphrase-file:<path>"
    notice: str = ""

    @property
    def public_raw(self) -> bytes:
        return raw_public(self.private)

    @property
    def public_b64(self) -> str:
        return _b64(self.public_raw)

    def local_key(self, purpose: str) -> bytes:
        """A 32-byte key for sealing local state (never stored; derived on demand)."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"marquee-local-" + purpose.encode()).derive(raw_private(self.private))


def keystore_available(backend: Any) -> bool:
    try:
        from keyring.backends import fail
    except ImportError:  # pragma: no cover
        return False
    if isinstance(backend, fail.Keyring):
        return False
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) > 0
    except (TypeError, ValueError):
        return True


class KeyStore:
    """Loads or creates this device's key pair."""

    def __init__(self, device_id: str, key_dir: Path, *, backend: Any = None,
                 passphrase: PassphraseSource = env_or_prompt_passphrase, scrypt_n: int = SCRYPT_N) -> None:
        self.device_id = device_id
        self.key_dir = key_dir
        self._backend = backend
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n

    @property
    def fallback_path(self) -> Path:
        return self.key_dir / "device-key.json"

    def _keyring(self) -> Any:
        if self._backend is not None:
            return self._backend
        import keyring

        return keyring.get_keyring()

    @property
    def user(self) -> str:
        return f"device-key:{self.device_id}"

    def load_or_create(self) -> DeviceKeys:
        backend = self._keyring()
        if keystore_available(backend):
            try:
                stored = backend.get_password(SERVICE, self.user)
                if stored:
                    return DeviceKeys(X25519PrivateKey.from_private_bytes(_unb64(stored)),
                                      f"keyring:{type(backend).__name__}")
                key = X25519PrivateKey.generate()
                backend.set_password(SERVICE, self.user, _b64(raw_private(key)))
                return DeviceKeys(key, f"keyring:{type(backend).__name__}")
            except Exception as exc:  # keyring backends raise many types (locked, refused, D-Bus)
                notice = f"The OS keystore refused the device key ({type(exc).__name__}: {exc}). "
                return self._fallback(notice)
        return self._fallback("")

    def _fallback(self, prefix: str) -> DeviceKeys:
        path = self.fallback_path
        notice = prefix + FALLBACK_NOTICE.format(path=path)
        if path.exists():
            return DeviceKeys(self._unwrap(path), f"passphrase-file:{path}", notice)
        key = X25519PrivateKey.generate()
        passphrase = self._passphrase(True)
        salt, nonce = os.urandom(16), os.urandom(12)
        wrapping = Scrypt(salt=salt, length=32, n=self._scrypt_n, r=8, p=1).derive(passphrase.encode("utf-8"))
        ct = AESGCM(wrapping).encrypt(nonce, raw_private(key), b"marquee-device-key-v1|" + self.device_id.encode())
        doc = {"v": 1, "kdf": "scrypt", "n": self._scrypt_n, "r": 8, "p": 1, "salt": _b64(salt),
               "nonce": _b64(nonce), "ciphertext": _b64(ct), "device_id": self.device_id}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        return DeviceKeys(key, f"passphrase-file:{path}", notice)

    def _unwrap(self, path: Path) -> X25519PrivateKey:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            salt, nonce, ct = _unb64(doc["salt"]), _unb64(doc["nonce"]), _unb64(doc["ciphertext"])
            n, r, p = int(doc["n"]), int(doc["r"]), int(doc["p"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise license_error("device_key_damaged", f"{path}: unreadable ({exc})",
                                "The device key file is damaged; remove it and download again.") from exc
        wrapping = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase(False).encode("utf-8"))
        try:
            raw = AESGCM(wrapping).decrypt(nonce, ct, b"marquee-device-key-v1|" + self.device_id.encode())
        except InvalidTag:
            raise license_error("wrong_passphrase", "the passphrase does not open the device key",
                                "The passphrase is wrong: the device key could not be opened.") from None
        return X25519PrivateKey.from_private_bytes(raw)
