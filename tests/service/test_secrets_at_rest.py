"""Secrets at rest: 0700 folders, 0600 database/key/secret files (created so, tightened when looser),
and no secret in a plain column (wrapped, and older plain ones wrapped at start)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any, Callable

import pytest

from marquee import paths
from service.keystore import Keystore, KeystoreError
from service.runtime import create_runtime
from service.store import Store
from service.tokens import sign_access_token, verify_access_token

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_is_created_private(tmp_path: Path, make_config: Callable[..., Any]) -> None:
    db = tmp_path / "state" / "service" / "service.sqlite3"
    runtime = create_runtime(make_config(db_path=db))
    runtime.store.close()
    assert mode(db.parent) == 0o700
    for name in ("service.sqlite3", "service.sqlite3-wal", "service.key", "admin.secret"):
        if (db.parent / name).exists():
            assert mode(db.parent / name) == 0o600, name
    assert mode(paths.service_dir()) == 0o700 and mode(paths.data_dir()) == 0o700


def test_looser_files_are_tightened_at_start(tmp_path: Path, make_config: Callable[..., Any],
                                             caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "svc" / "service.sqlite3"
    create_runtime(make_config(db_path=db)).store.close()
    db.parent.chmod(0o755)
    for name in ("service.sqlite3", "service.key", "admin.secret"):
        (db.parent / name).chmod(0o644)
    create_runtime(make_config(db_path=db)).store.close()
    assert mode(db.parent) == 0o700
    assert all(mode(db.parent / n) == 0o600 for n in ("service.sqlite3", "service.key", "admin.secret"))
    assert "readable by other users" in caplog.text


def test_no_secret_in_a_plain_column(tmp_path: Path, make_config: Callable[..., Any], app_client: Any) -> None:
    from tests.service.test_licenses import Device

    dev = Device(app_client, "dev-x")
    dev.register()
    assert dev.acquire().status_code == 201
    db = app_client.app.state.runtime.config.db_path
    raw = sqlite3.connect(db)
    values = [v for (v,) in raw.execute("SELECT value FROM meta WHERE key IN ('secret', 'license_signing_key')")]
    keys = [v for (v,) in raw.execute("SELECT key_hex FROM content_keys")]
    raw.close()
    assert len(values) == 2 and keys and all(v.startswith("w1:") for v in values + keys)


def test_plain_secrets_of_an_older_version_are_wrapped_and_keep_working(tmp_path: Path,
                                                                        make_config: Callable[..., Any]) -> None:
    db = tmp_path / "old" / "service.sqlite3"
    db.parent.mkdir()
    old = Store(db)
    old.set_meta("secret", "ab" * 32)
    old.content_key("t001", lambda: "cd" * 32, 0.0)
    old.close()
    token = sign_access_token(bytes.fromhex("ab" * 32), "acct", "dev", 2_000_000_000)
    runtime = create_runtime(make_config(db_path=db))
    assert runtime.secret == bytes.fromhex("ab" * 32)
    assert verify_access_token(runtime.secret, token, 1.0).account_id == "acct"  # tokens in flight stay valid
    assert str(runtime.store.get_meta("secret")).startswith("w1:")
    assert runtime.keystore.content_key(runtime.store, "t001", lambda: b"", 0.0) == bytes.fromhex("cd" * 32)
    runtime.store.close()


def test_a_wrapped_value_opens_only_with_its_key_and_under_its_name() -> None:
    ks, other = Keystore(b"k" * 32), Keystore(b"o" * 32)
    wrapped = ks.wrap("meta:secret", b"value")
    assert ks.unwrap("meta:secret", wrapped) == b"value"
    with pytest.raises(KeystoreError):
        other.unwrap("meta:secret", wrapped)
    with pytest.raises(KeystoreError):
        ks.unwrap("content:t001", wrapped)  # moved to another row
