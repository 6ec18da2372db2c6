"""Login: throttled per account and per address with back-off, unknown accounts cost a real check,
old scrypt hashes re-made at the next login (parameters at OWASP's level)."""

from __future__ import annotations

from typing import Any

import pytest

from marquee.clock import FakeClock
from service import passwords
from service.login_limits import LoginLimits

BODY = {"email": "demo@marquee.test", "password": "wrong", "device_id": "d1"}


def test_back_off_doubles_after_the_free_failures() -> None:
    limits = LoginLimits(free_failures=2, base_backoff_s=1.0, max_backoff_s=8.0)
    waits = []
    for i in range(6):
        limits.failed(["k"], float(i * 100))
        waits.append(limits.retry_after(["k"], float(i * 100)))
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    limits.succeeded("k")
    assert limits.retry_after(["k"], 600.0) == 0.0


def test_the_limiter_forgets_old_keys_and_stays_bounded() -> None:
    limits = LoginLimits(free_failures=0, max_keys=3, forget_after_s=10.0)
    for key in "abcd":
        limits.failed([key], 0.0)
    assert limits.retry_after(["a"], 0.5) == 0.0  # evicted (bounded memory)
    assert limits.retry_after(["d"], 0.5) > 0
    assert limits.retry_after(["d"], 20.0) == 0.0  # forgotten


def test_repeated_failures_get_429_with_retry_after(app_client: Any, fake_clock: FakeClock) -> None:
    codes = [app_client.post("/v1/auth/login", json=BODY).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    r = app_client.post("/v1/auth/login", json={**BODY, "password": "marquee"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1  # even the right password waits
    fake_clock.advance(2.0)
    assert app_client.post("/v1/auth/login", json={**BODY, "password": "marquee"}).status_code == 200


def test_unknown_accounts_are_checked_like_known_ones(app_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(stored.split("$")[3])  # the p parameter: the same work for both
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", counting)
    monkeypatch.setattr("service.api.auth.verify_password", counting)
    app_client.post("/v1/auth/login", json={**BODY, "email": "nobody@marquee.test"})
    app_client.post("/v1/auth/login", json=BODY)
    assert calls == ["5", "5"]


def test_old_hashes_are_migrated_at_the_next_login(app_client: Any) -> None:
    store = app_client.app.state.runtime.store
    account = store.account_by_email("demo@marquee.test")
    old = passwords.hash_password("marquee").replace("scrypt$16384$8$5$", "scrypt$16384$8$1$")
    import hashlib

    salt = bytes.fromhex(old.split("$")[4])
    digest = hashlib.scrypt(b"marquee", salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
    store.set_password_hash(account.id, f"scrypt$16384$8$1${salt.hex()}${digest}")
    assert passwords.needs_rehash(store.account_by_email("demo@marquee.test").password_hash)
    assert app_client.post("/v1/auth/login", json={**BODY, "password": "marquee"}).status_code == 200
    stored = store.account_by_email("demo@marquee.test").password_hash
    assert stored.startswith("scrypt$16384$8$5$") and not passwords.needs_rehash(stored)
    assert app_client.post("/v1/auth/login", json={**BODY, "password": "marquee"}).status_code == 200


def test_a_stored_hash_cannot_ask_for_unbounded_work() -> None:
    assert not passwords.verify_password("x", "scrypt$1073741824$8$1$00$00")
