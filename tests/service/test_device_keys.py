"""A device is its key: a new key under a known device id is a new device (limit), and licenses
stay bound to the key they were wrapped for. Also: policy values that used to break the service."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.service.test_licenses import Device, set_policy


def test_replacing_the_key_of_a_device_id_does_not_take_its_licenses(app_client: Any) -> None:
    first = Device(app_client, "shared-id")
    first.register()
    r = first.acquire()
    assert r.status_code == 201
    lid = first.verify(r.json()).license_id
    second = Device(app_client, "shared-id")  # another machine claiming the same id
    r = second.client.put("/v1/licenses/device", json={"public_key": _b64_pub(second.key)}, headers=second.headers)
    assert r.status_code == 200 and r.json()["replaced"] is True
    renew = app_client.post(f"/v1/licenses/{lid}/renew", headers=second.headers)
    assert renew.status_code == 403 and renew.json()["error"]["code"] == "device_key_changed"
    first.register()  # the first machine, its own key again: renews as before
    assert app_client.post(f"/v1/licenses/{lid}/renew", headers=first.headers).status_code == 200


def test_a_device_limit_cannot_be_bypassed_by_sharing_an_id(app_client: Any) -> None:
    set_policy(app_client, max_devices=2, max_downloads_per_title=100)
    codes = []
    for _ in range(4):  # four machines, one device id, four keys
        dev = Device(app_client, "one-id")
        dev.register()
        codes.append(dev.acquire().status_code)
    assert codes == [201, 201, 409, 409]


def test_the_same_key_registered_again_is_not_a_replacement(app_client: Any) -> None:
    dev = Device(app_client, "dev-same")
    dev.register()
    r = app_client.put("/v1/licenses/device", json={"public_key": _b64_pub(dev.key)}, headers=dev.headers)
    assert r.json()["replaced"] is False


def test_policy_values_that_broke_the_service_are_refused(app_client: Any) -> None:
    dev = Device(app_client, "dev-pol")
    dev.register()
    for body in ('{"license_duration_s": 1e400}', '{"license_duration_s": NaN}', '{"max_devices": 1e400}',
                 '{"not_downloadable": "t001"}', '{"max_devices": 2.5}', '{"can_renew": "yes"}',
                 '{"playback_duration_s": 99999999999999999999}'):
        r = app_client.put("/v1/admin/licenses/policy", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.text)
    assert app_client.get("/v1/admin/licenses/policy").json()["not_downloadable"] == []
    assert dev.acquire().status_code == 201
    assert app_client.get("/v1/licenses", headers=dev.headers).status_code == 200


def test_a_bad_policy_stored_by_an_older_version_falls_back_to_defaults(app_client: Any) -> None:
    runtime = app_client.app.state.runtime
    runtime.store.set_meta("license_policy", '{"license_duration_s": Infinity}')
    dev = Device(app_client, "dev-old")
    dev.register()
    assert dev.acquire().status_code == 201
    assert app_client.get("/v1/licenses", headers=dev.headers).status_code == 200


def _b64_pub(key: X25519PrivateKey) -> str:
    import base64

    from drm.keystore import raw_public

    return base64.b64encode(raw_public(key)).decode()
