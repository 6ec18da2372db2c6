"""Where downloads live and the keys that open them (device key, pinned service key, trusted time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drm.keystore import DeviceKeys, KeyStore, PassphraseSource, env_or_prompt_passphrase
from drm.license import License, unwrap_content_key, verify_license
from drm.timemark import TimeMarkFile
from drm.trust import KeyPin
from marquee import paths


def default_root() -> Path:
    """The download folder: the ``downloads.location`` setting, else ``<data>/downloads``."""
    try:
        from marquee import settings

        loaded, _ = settings.load()
        location = str(loaded.get("downloads.location", "") or "")
    except Exception:  # unreadable settings: the default folder
        location = ""
    if location:
        root = Path(location).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        return root
    return paths.downloads_dir()


@dataclass
class DrmContext:
    device_id: str
    drm_dir: Path
    keyring_backend: Any = None
    passphrase: PassphraseSource = env_or_prompt_passphrase
    scrypt_n: int = 2**15
    _keys: DeviceKeys | None = field(default=None, init=False, repr=False)

    @staticmethod
    def default(**kw: Any) -> "DrmContext":
        from marquee.api import load_device_id

        drm_dir = paths.data_dir() / "drm"
        drm_dir.mkdir(parents=True, exist_ok=True)
        return DrmContext(load_device_id(), drm_dir, **kw)

    def keys(self) -> DeviceKeys:
        if self._keys is None:
            self._keys = KeyStore(self.device_id, self.drm_dir, backend=self.keyring_backend,
                                  passphrase=self.passphrase, scrypt_n=self.scrypt_n).load_or_create()
        return self._keys

    @property
    def pin(self) -> KeyPin:
        return KeyPin(self.drm_dir / "service-key.json")

    def timemark(self) -> TimeMarkFile:
        return TimeMarkFile(self.drm_dir / "trusted-time.bin", self.keys().local_key("trusted-time"))

    def verify(self, document: dict[str, Any]) -> License:
        return verify_license(document, self.pin.key(), self.keys().public_raw)

    def content_key(self, document: dict[str, Any]) -> bytes:
        return unwrap_content_key(self.verify(document), self.keys().private)
