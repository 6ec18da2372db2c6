"""Web pages and other local users against the service: CSRF, DNS rebinding, the admin secret,
JSON-only state changes, base URLs from configuration (in-process; the real-socket versions are
in test_hostile.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.guard import allowed_hosts, check, host_name
from tests.service.conftest import login

HOSTS = allowed_hosts("127.0.0.1")
SECRET = "s3cret"


def refusal(method: str, path: str, port: int = 8765, **headers: str) -> Any:
    base = {"host": f"127.0.0.1:{port}"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return check(method, path, base, hosts=HOSTS, port=port, admin_secret=SECRET)


@pytest.mark.parametrize("value,name", [("127.0.0.1:80", "127.0.0.1"), ("[::1]:8765", "::1"), ("LocalHost", "localhost"),
                                        ("evil.example", "evil.example"), ("127.0.0.1:99999", None), ("", None),
                                        ("a" * 300, None), ("[::1", None)])
def test_host_name(value: str, name: str | None) -> None:
    assert host_name(value) == name


def test_pure_rules() -> None:
    assert refusal("GET", "/v1/catalog") is None
    assert refusal("GET", "/v1/catalog", host="rebind.attacker.example").code == "host_not_allowed"
    assert refusal("POST", "/v1/auth/login", origin="http://attacker.example", content_type="application/json",
                   content_length="2").code == "origin_not_allowed"
    assert refusal("POST", "/v1/auth/login", origin="null").code == "origin_not_allowed"
    assert refusal("POST", "/v1/auth/login", origin="http://127.0.0.1:8765", content_type="application/json",
                   content_length="2") is None
    assert refusal("POST", "/v1/auth/login", origin="http://127.0.0.1:9999").code == "origin_not_allowed"  # other port
    assert refusal("POST", "/v1/auth/login", sec_fetch_site="cross-site").code == "origin_not_allowed"
    assert refusal("POST", "/v1/auth/login", content_type="text/plain", content_length="2").code == "json_only"
    assert refusal("POST", "/v1/auth/login", content_type="application/x-www-form-urlencoded").code == "json_only"
    assert refusal("POST", "/v1/auth/login", content_length="5").code == "json_only"  # a body without a type
    assert refusal("POST", "/v1/licenses/x/release") is None  # no body at all: fine
    assert refusal("DELETE", "/v1/admin/ocas/oca-1/faults").code == "admin_secret_required"
    assert refusal("DELETE", "/v1/admin/ocas/oca-1/faults", x_marquee_admin_secret="wrong").code == "admin_secret_required"
    assert refusal("DELETE", "/v1/admin/ocas/oca-1/faults", x_marquee_admin_secret=SECRET) is None


def test_csrf_text_plain_post_with_a_foreign_origin_is_refused(app_client: Any) -> None:
    """The attack that revoked a license: a page posts text/plain to the admin plane."""
    r = app_client.post("/v1/admin/licenses/revoke", content=b'{"account_id":"x"}',
                        headers={"Content-Type": "text/plain", "Origin": "http://attacker.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    r = app_client.post("/v1/admin/licenses/revoke", content=b'{"account_id":"x"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "json_only"
    r = app_client.post("/v1/auth/login", content=b'{"email":"demo@marquee.test","password":"marquee","device_id":"d"}',
                        headers={"Content-Type": "text/plain"})
    assert r.status_code == 415  # login took text/plain before


def test_dns_rebinding_foreign_host_is_refused(app_client: Any) -> None:
    for path in ("/v1/catalog", "/health", "/v1/admin/ocas"):
        r = app_client.get(path, headers={"Host": "rebind.attacker.example"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "host_not_allowed", path
    assert app_client.get("/v1/catalog", headers={"Host": "localhost:8765"}).status_code == 200


def test_admin_plane_needs_the_installation_secret(app_client: Any) -> None:
    r = app_client.get("/v1/admin/ocas", headers={"X-Marquee-Admin-Secret": ""})
    assert r.status_code == 401 and r.json()["error"]["code"] == "admin_secret_required"
    assert app_client.get("/v1/admin/ocas").status_code == 200  # the fixture's client sends the secret


def test_base_urls_come_from_configuration_not_the_host_header(app_client: Any) -> None:
    headers = login(app_client)
    pid = app_client.get("/v1/profiles", headers=headers).json()["profiles"][0]["id"]
    r = app_client.post("/v1/playback", json={"profile_id": pid, "title_id": "t001"},
                        headers={**headers, "Host": "localhost:1234"})
    assert r.status_code == 200, r.text
    assert all(o["base_url"].startswith("http://127.0.0.1:") for o in r.json()["ocas"])
    title = app_client.get("/v1/titles/t001", headers={"Host": "localhost:1234"}).json()
    assert title["poster"].startswith("http://127.0.0.1:") and "localhost" not in str(title)


header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=40)


@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
       path=st.sampled_from(["/health", "/v1/admin/ocas", "/v1/auth/login"]),
       headers=st.dictionaries(st.sampled_from(["host", "origin", "content-type", "content-length", "sec-fetch-site",
                                                "transfer-encoding", "x-marquee-admin-secret"]), header_text))
def test_any_headers_get_a_decision_never_an_exception(method: str, path: str, headers: dict[str, str]) -> None:
    result = check(method, path, headers, hosts=HOSTS, port=8765, admin_secret=SECRET)
    if host_name(headers.get("host", "")) not in HOSTS:
        assert result is not None and result.code == "host_not_allowed"
    if result is None and method in ("POST", "PUT", "PATCH", "DELETE") and headers.get("content-type"):
        assert headers["content-type"].split(";")[0].strip().lower() == "application/json"
