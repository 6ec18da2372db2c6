"""Device keys: OS keystore (in-memory backend), the passphrase fallback, key pinning, the time mark."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from drm.keystore import FALLBACK_NOTICE, PASSPHRASE_ENV, SERVICE, KeyStore, env_or_prompt_passphrase, raw_private
from drm.policy import TrustedTime
from drm.timemark import TimeMarkFile
from drm.trust import PUBKEY_ENV, KeyPin
from marquee.errors import LicenseError
from tests.drm.memory_keyring import MemoryKeyring, RefusingKeyring


def test_the_private_key_lives_in_the_keystore(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    keys = KeyStore("dev-1", tmp_path, backend=backend).load_or_create()
    assert keys.storage == "keyring:MemoryKeyring" and keys.notice == ""
    assert (SERVICE, "device-key:dev-1") in backend.store
    again = KeyStore("dev-1", tmp_path, backend=backend).load_or_create()
    assert again.public_raw == keys.public_raw
    assert list(tmp_path.iterdir()) == []  # nothing on disk


def test_the_global_keyring_can_be_the_memory_backend(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        a = KeyStore("dev-2", tmp_path).load_or_create()
        assert KeyStore("dev-2", tmp_path).load_or_create().public_raw == a.public_raw
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("backend", [fail.Keyring(), RefusingKeyring()], ids=["no-keystore", "refusing"])
def test_without_a_keystore_the_key_is_wrapped_with_a_passphrase(tmp_path: Path, backend, monkeypatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret")
    keys = KeyStore("dev-1", tmp_path, backend=backend, scrypt_n=2**10).load_or_create()
    assert keys.storage.startswith("passphrase-file:")
    assert "No OS keystore" in keys.notice and str(tmp_path / "device-key.json") in keys.notice
    doc = json.loads((tmp_path / "device-key.json").read_text())
    assert doc["kdf"] == "scrypt"
    raw = raw_private(keys.private)
    text = (tmp_path / "device-key.json").read_bytes()
    assert raw not in text and base64.b64encode(raw) not in text and raw.hex().encode() not in text
    again = KeyStore("dev-1", tmp_path, backend=backend, scrypt_n=2**10).load_or_create()
    assert again.public_raw == keys.public_raw
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(LicenseError) as err:
        KeyStore("dev-1", tmp_path, backend=backend).load_or_create()
    assert err.value.code == "wrong_passphrase"


def test_no_keystore_and_no_passphrase_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    with pytest.raises(LicenseError) as err:
        KeyStore("dev-1", tmp_path, backend=fail.Keyring(), passphrase=env_or_prompt_passphrase).load_or_create()
    assert err.value.code == "passphrase_required" and PASSPHRASE_ENV in err.value.user_message
    assert not (tmp_path / "device-key.json").exists()
    assert "{path}" in FALLBACK_NOTICE


def test_trust_on_first_use_then_the_pin_holds(tmp_path: Path, monkeypatch) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def pub() -> str:
        raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    monkeypatch.delenv(PUBKEY_ENV, raising=False)
    pin = KeyPin(tmp_path / "service-key.json")
    first, other = pub(), pub()
    with pytest.raises(LicenseError):
        pin.key()
    pin.accept(first, 1.0)
    pin.accept(first, 2.0)
    with pytest.raises(LicenseError) as err:
        pin.accept(other, 3.0)
    assert err.value.code == "service_key_mismatch"
    monkeypatch.setenv(PUBKEY_ENV, other)  # configured: wins over the stored pin
    assert pin.pinned() == other


def test_the_time_mark_is_sealed(tmp_path: Path) -> None:
    f = TimeMarkFile(tmp_path / "t.bin", bytes(32))
    assert f.load() == (None, False)
    f.save(TrustedTime(123.0, 120.0))
    assert f.load() == (TrustedTime(123.0, 120.0, None), False)
    assert b"123" not in (tmp_path / "t.bin").read_bytes()
    data = bytearray((tmp_path / "t.bin").read_bytes())
    data[-1] ^= 1
    (tmp_path / "t.bin").write_bytes(bytes(data))
    assert f.load() == (None, True)
    assert TimeMarkFile(tmp_path / "t.bin", bytes([1]) * 32).load() == (None, True)
