"""Bad requests get a JSON 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import LOCAL, admin_headers, login

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
FIELDS = ["email", "password", "device_id", "refresh_token", "profile_id", "title_id", "episode_id", "position_s",
          "duration_s", "name", "maturity", "down", "error_rate", "latency_ms", "trace", "throughput_kbps", "weight"]
bodies = st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))


def endpoints(pid: str) -> list[tuple[str, str]]:
    return [("POST", "/v1/auth/login"), ("POST", "/v1/auth/refresh"), ("POST", "/v1/playback"),
            ("POST", f"/v1/profiles/{pid}/history"), ("POST", "/v1/profiles"), ("PUT", "/v1/admin/ocas/oca-1/faults"),
            ("PATCH", "/v1/admin/ocas/oca-2")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, which=st.integers(0, 6))
def test_fuzzed_bodies_get_4xx(app_client: Any, body: Any, which: int) -> None:
    headers = getattr(app_client, "_h", None) or login(app_client)
    app_client._h = headers
    pid = app_client.get("/v1/profiles", headers=headers).json()["profiles"][0]["id"]
    method, path = endpoints(pid)[which]
    r = app_client.request(method, path, json=body, headers=headers)
    assert r.status_code < 500, (method, path, body, r.text)
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "message"}


@pytest.mark.parametrize("method,path,content", [
    ("POST", "/v1/auth/login", b"{not json"), ("POST", "/v1/auth/login", b"\xff\xfe"), ("POST", "/v1/playback", b"[]"),
    ("POST", "/v1/auth/login", b""), ("POST", "/v1/auth/refresh", b"null"), ("POST", "/v1/playback", b"[NaN]"),
])
def test_malformed_json(app_client: Any, method: str, path: str, content: bytes) -> None:
    r = app_client.request(method, path, content=content, headers={"content-type": "application/json", **login(app_client)})
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["code"] in ("invalid_json", "invalid_body")


def test_unknown_route_and_method(app_client: Any) -> None:
    r = app_client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = app_client.delete("/v1/catalog")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_query_validation(app_client: Any) -> None:
    assert app_client.get("/v1/search", params={"q": "x" * 300}).status_code == 400
    assert app_client.get("/v1/search", params={"q": "a", "limit": "many"}).status_code == 400
    assert app_client.get("/v1/search", params={"q": "a", "profile_id": "p1"}).status_code == 401


def test_history_validation(app_client: Any) -> None:
    headers = login(app_client)
    pid = app_client.get("/v1/profiles", headers=headers).json()["profiles"][0]["id"]
    for body, status in [({"title_id": "t001", "position_s": 1, "duration_s": 0}, 400),
                         ({"title_id": "t001", "position_s": "x", "duration_s": 5}, 400),
                         ({"title_id": "t003", "position_s": 1, "duration_s": 5}, 400),
                         ({"title_id": "t003", "episode_id": "t003-s9e09", "position_s": 1, "duration_s": 5}, 404),
                         ({"title_id": "zzz", "position_s": 1, "duration_s": 5}, 404)]:
        r = app_client.post(f"/v1/profiles/{pid}/history", headers=headers, json=body)
        assert r.status_code == status, (body, r.text)


def test_real_bug_is_a_json_500(app_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = app_client.app.state.runtime

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(runtime.store, "profiles", boom)
    r = app_client.get("/v1/profiles", headers=login(app_client))
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


def test_admin_guard(make_config: Any, fake_clock: Any) -> None:
    from starlette.testclient import TestClient

    from service.app import create_app
    from service.runtime import create_runtime

    runtime = create_runtime(make_config(ocas=1, admin=False, seed_demo=False), fake_clock)
    with TestClient(create_app(runtime), base_url=LOCAL) as client:
        r = client.get("/v1/admin/ocas")
        assert r.status_code == 404 and r.json()["error"]["code"] == "admin_disabled"
    runtime.config.__dict__  # frozen; build a second runtime with admin on and a remote client address
    runtime2 = create_runtime(make_config(ocas=1, admin=True, seed_demo=False, db_path=runtime.config.db_path), fake_clock)
    with TestClient(create_app(runtime2), client=("203.0.113.5", 5000), base_url=LOCAL,
                    headers=admin_headers(runtime2)) as client:
        r = client.get("/v1/admin/ocas")
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_loopback_only"
