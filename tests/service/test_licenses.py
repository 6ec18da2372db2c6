"""The license server: device keys, signed licenses, limits, renew/release/revoke (in-process, fake clock)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from drm.keystore import raw_public
from drm.license import License, canonical, public_key_from_b64, unwrap_content_key, verify_license
from marquee.errors import LicenseError
from tests.service.conftest import login

FILM, SERIES, EPISODE = "t001", "t003", "t003-s1e01"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class Device:
    def __init__(self, client: Any, device_id: str) -> None:
        self.client = client
        self.device_id = device_id
        self.headers = login(client, device_id)
        self.key = X25519PrivateKey.generate()

    def register(self) -> None:
        r = self.client.put("/v1/licenses/device", json={"public_key": b64(raw_public(self.key))}, headers=self.headers)
        assert r.status_code == 200, r.text

    def acquire(self, title: str = FILM, episode: str | None = None) -> Any:
        body = {"title_id": title, **({"episode_id": episode} if episode else {})}
        return self.client.post("/v1/licenses", json=body, headers=self.headers)

    def verify(self, doc: dict) -> License:
        pub = public_key_from_b64(self.client.get("/v1/licenses/public-key").json()["public_key"])
        return verify_license(doc, pub, raw_public(self.key))


def set_policy(client: Any, **fields: Any) -> None:
    r = client.put("/v1/admin/licenses/policy", json=fields)
    assert r.status_code == 200, r.text


def test_issue_verify_and_unwrap(app_client, fake_clock):
    dev = Device(app_client, "dev-a")
    dev.register()
    r = dev.acquire()
    assert r.status_code == 201, r.text
    lic = dev.verify(r.json())
    assert lic.content_id == FILM and lic.device_id == "dev-a"
    assert lic.expires_at - lic.issued_at == pytest.approx(30 * 86400)
    assert lic.playback_duration_s == pytest.approx(48 * 3600) and lic.can_renew
    assert lic.server_time == pytest.approx(fake_clock.wall())
    key = unwrap_content_key(lic, dev.key)
    assert len(key) == 32
    # same title on another device: same content key (per title, stored server-side)
    other = Device(app_client, "dev-b")
    other.register()
    assert unwrap_content_key(other.verify(other.acquire().json()), other.key) == key
    # ... and another title has another key
    assert unwrap_content_key(dev.verify(dev.acquire(SERIES, EPISODE).json()), dev.key) != key


def test_forged_and_resigned_licenses_are_rejected(app_client):
    dev = Device(app_client, "dev-a")
    dev.register()
    doc = dev.acquire().json()
    pub = public_key_from_b64(app_client.get("/v1/licenses/public-key").json()["public_key"])
    tampered = {"license": {**doc["license"], "expires_at": doc["license"]["expires_at"] + 10 * 365 * 86400},
                "signature": doc["signature"]}
    with pytest.raises(LicenseError) as err:
        verify_license(tampered, pub, raw_public(dev.key))
    assert err.value.code == "license_forged"
    attacker = Ed25519PrivateKey.generate()  # re-signed with another key: the pin refuses it
    resigned = {"license": tampered["license"], "signature": b64(attacker.sign(canonical(tampered["license"])))}
    with pytest.raises(LicenseError) as err:
        verify_license(resigned, pub, raw_public(dev.key))
    assert err.value.code == "license_forged"
    thief = X25519PrivateKey.generate()  # a copy on another device does not verify there
    with pytest.raises(LicenseError) as err:
        verify_license(doc, pub, raw_public(thief))
    assert err.value.code == "license_wrong_device"


def test_refusals_have_clear_codes(app_client):
    dev = Device(app_client, "dev-a")
    assert dev.acquire().json()["error"]["code"] == "device_unknown"
    r = app_client.put("/v1/licenses/device", json={"public_key": "bm90IGEga2V5"}, headers=dev.headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_public_key"
    dev.register()
    assert dev.acquire("t999").json()["error"]["code"] == "unknown_title"
    assert dev.acquire(SERIES).json()["error"]["code"] == "episode_required"
    set_policy(app_client, not_downloadable=[FILM])
    r = dev.acquire()
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_downloadable"
    assert app_client.post("/v1/licenses", json={"title_id": FILM}).status_code == 401


def test_device_limit_is_enforced_and_freed_by_release(app_client):
    set_policy(app_client, max_devices=2)
    a, b, c = (Device(app_client, f"dev-{n}") for n in "abc")
    for d in (a, b, c):
        d.register()
    la = a.acquire()
    assert la.status_code == 201 and b.acquire().status_code == 201
    assert a.acquire(SERIES, EPISODE).status_code == 201  # a device already holding licenses may add more
    r = c.acquire()
    assert r.status_code == 409 and r.json()["error"]["code"] == "device_limit_reached"
    lid = la.json()["license"]["license_id"]
    lid2 = [x["license_id"] for x in app_client.get("/v1/licenses", headers=a.headers).json()["licenses"]
            if x["device_id"] == "dev-a" and x["license_id"] != lid][0]
    for x in (lid, lid2):
        r = app_client.post(f"/v1/licenses/{x}/release", headers=a.headers)
        assert r.status_code == 200 and r.json()["state"] == "released"
    assert c.acquire().status_code == 201
    assert app_client.post(f"/v1/licenses/{lid}/release", headers=c.headers).json()["error"]["code"] == "license_unknown"


def test_download_count_per_title(app_client):
    set_policy(app_client, max_downloads_per_title=2)
    dev = Device(app_client, "dev-a")
    dev.register()
    first = dev.acquire().json()["license"]["license_id"]
    app_client.post(f"/v1/licenses/{first}/release", headers=dev.headers)
    assert dev.acquire().status_code == 201  # released downloads still count
    r = dev.acquire()
    assert r.status_code == 409 and r.json()["error"]["code"] == "download_limit_reached"
    assert dev.acquire(SERIES, EPISODE).status_code == 201  # the count is per title


def test_renew_release_revoke_and_status(app_client, fake_clock):
    dev = Device(app_client, "dev-a")
    dev.register()
    lic = dev.verify(dev.acquire().json())
    fake_clock.advance(20 * 86400)
    dev.headers = login(app_client, "dev-a")
    r = app_client.post(f"/v1/licenses/{lic.license_id}/renew", headers=dev.headers)
    assert r.status_code == 200, r.text
    renewed = dev.verify(r.json())
    assert renewed.license_id == lic.license_id and renewed.expires_at == pytest.approx(lic.expires_at + 20 * 86400)
    status = app_client.post("/v1/licenses/status", json={"license_ids": [lic.license_id, "nope"]},
                             headers=dev.headers).json()
    assert status["server_time"] == pytest.approx(fake_clock.wall())
    assert [x["state"] for x in status["licenses"]] == ["active", "unknown"]
    account = app_client.get("/v1/licenses", headers=dev.headers).json()
    r = app_client.post("/v1/admin/licenses/revoke", json={"account_id": "nobody"})
    assert r.status_code == 200
    acct = app_client.post("/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                                   "device_id": "dev-a"}).json()["account_id"]
    r = app_client.post("/v1/admin/licenses/revoke", json={"account_id": acct})
    assert r.json()["revoked"] == [lic.license_id] and account["licenses"]
    r = app_client.post(f"/v1/licenses/{lic.license_id}/renew", headers=dev.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "license_revoked"
    assert dev.acquire(SERIES, EPISODE).json()["error"]["code"] == "account_lapsed"
    app_client.post("/v1/admin/licenses/revoke", json={"account_id": acct, "reinstate": True})
    assert dev.acquire(SERIES, EPISODE).status_code == 201


def test_renew_not_allowed_and_released(app_client):
    dev = Device(app_client, "dev-a")
    dev.register()
    lid = dev.acquire().json()["license"]["license_id"]
    set_policy(app_client, can_renew=False)
    assert app_client.post(f"/v1/licenses/{lid}/renew", headers=dev.headers).json()["error"]["code"] == "renew_not_allowed"
    app_client.post(f"/v1/licenses/{lid}/release", headers=dev.headers)
    set_policy(app_client, can_renew=True)
    assert app_client.post(f"/v1/licenses/{lid}/renew", headers=dev.headers).json()["error"]["code"] == "license_released"


def test_bad_policy_is_refused(app_client):
    r = app_client.put("/v1/admin/licenses/policy", json={"max_devices": 0})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_policy"
    r = app_client.put("/v1/admin/licenses/policy", json={"bogus": 1})
    assert r.status_code == 400
