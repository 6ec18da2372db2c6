"""Offline licenses: device keys, issue, renew, release, status, revoke (policy in ``service/licensing.py``).

Errors (``{"error":{"code","message"}}``): 400 ``invalid_public_key``/``episode_required``/``invalid_policy``,
403 ``device_unknown``, ``not_downloadable``, ``account_lapsed``, ``license_revoked``, ``renew_not_allowed``,
404 ``unknown_title``/``unknown_episode``/``license_unknown``, 409 ``device_limit_reached``,
``download_limit_reached``, ``license_released``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api.admin import _guard as admin_guard
from service.api.common import ApiError, authenticate, field_str, json_body, runtime
from service.licensing import (LicensePolicy, LicenseRow, Refusal, check_issue, check_renew, key_fingerprint,
                               license_document, new_signing_key_hex, public_key_b64, signing_key_from_hex, valid_x25519)
from service.runtime import Runtime

log = logging.getLogger("marquee.service.licenses")
KEY_META = "license_signing_key"
POLICY_META = "license_policy"


def _signing(rt: Runtime) -> Any:
    raw = rt.keystore.meta_secret(rt.store, KEY_META, lambda: bytes.fromhex(new_signing_key_hex()))
    return signing_key_from_hex(raw.hex())


def policy(rt: Runtime) -> LicensePolicy:
    raw = rt.store.get_meta(POLICY_META)
    if raw is None:
        return LicensePolicy()
    try:
        return LicensePolicy.from_json(json.loads(raw))
    except ValueError as exc:  # stored by an older version that checked less: the defaults, said once per call
        log.warning("the stored license policy is invalid (%s); using the defaults", exc)
        return LicensePolicy()


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise ApiError(refusal.status, refusal.code, refusal.message)


def _document(rt: Runtime, row: LicenseRow, device_public: bytes) -> dict[str, Any]:
    key = _signing(rt)
    pub = public_key_b64(key)
    content_key = rt.keystore.content_key(rt.store, row.content_id, lambda: secrets.token_bytes(32), rt.clock.wall())
    return license_document(row, policy(rt), device_public=device_public, content_key=content_key,
                            signing_key=key, key_id="k-" + pub[:11], now=rt.clock.wall())


async def public_key(request: Request) -> JSONResponse:
    pub = public_key_b64(_signing(runtime(request)))
    return JSONResponse({"alg": "Ed25519", "public_key": pub, "key_id": "k-" + pub[:11]})


async def register_device(request: Request) -> JSONResponse:
    claims = authenticate(request)
    body = await json_body(request)
    text = field_str(body, "public_key", max_len=100) or ""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if not valid_x25519(raw):
        raise ApiError(400, "invalid_public_key", "'public_key' must be a base64 X25519 public key (32 bytes)")
    rt = runtime(request)
    now = rt.clock.wall()
    previous = rt.store.license_device(claims.account_id, claims.device_id)
    rt.store.set_license_device(claims.account_id, claims.device_id, text, now)
    # A new key under a known id is a new device: it counts against the device limit, and the licenses
    # of the old key stay bound to that key (renewing them needs the old key registered again).
    replaced = previous is not None and previous != text
    if replaced:
        log.info("device key replaced", extra={"fields": {"account": claims.account_id, "device": claims.device_id}})
    return JSONResponse({"device_id": claims.device_id, "public_key": text, "registered_at": now,
                         "replaced": replaced, "key_fingerprint": key_fingerprint(text)})


def _content(rt: Runtime, title_id: str, episode_id: str | None) -> tuple[str, str]:
    """(content id, media id) of a downloadable film or episode."""
    title = rt.catalog.title(title_id)
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {title_id!r}")
    if title.kind == "series":
        if episode_id is None:
            raise ApiError(400, "episode_required", f"{title.id} is a series: download one episode ('episode_id')")
        episode = rt.catalog.episode(episode_id)
        if episode is None or episode.title_id != title.id:
            raise ApiError(404, "unknown_episode", f"{title.id} has no episode {episode_id!r}")
        media, content_id = episode.media, episode.id
    else:
        if episode_id is not None:
            raise ApiError(400, "invalid_field", f"{title.id} is a film; it has no episodes")
        assert title.media is not None
        media, content_id = title.media, title.id
    if rt.build is None:
        raise ApiError(503, "content_missing", "the demo content is not built; run `marquee content build`")
    return content_id, rt.build.resolve(media)


async def issue(request: Request) -> JSONResponse:
    claims = authenticate(request)
    body = await json_body(request)
    rt = runtime(request)
    title_id = field_str(body, "title_id", max_len=64) or ""
    episode_id = field_str(body, "episode_id", required=False, max_len=64)
    content_id, media_id = _content(rt, title_id, episode_id)
    pol = policy(rt)
    now = rt.clock.wall()
    device_key = rt.store.license_device(claims.account_id, claims.device_id)
    # No await from here to the insert: the checks and the insert are atomic on the service loop.
    fingerprint = key_fingerprint(device_key) if device_key is not None else ""
    _refuse(check_issue(pol, title_id=title_id, content_id=content_id, device_id=f"{claims.device_id}#{fingerprint}",
                        device_registered=device_key is not None,
                        account_lapsed=rt.store.account_lapsed(claims.account_id),
                        active_devices=rt.store.devices_with_active_licenses(claims.account_id, now),
                        downloads_of_content=rt.store.license_count(claims.account_id, content_id,
                                                                    now - pol.download_window_s)))
    assert device_key is not None
    row = LicenseRow("lic-" + uuid.uuid4().hex, claims.account_id, claims.device_id, title_id, episode_id,
                     content_id, media_id, now, now + pol.license_duration_s, "active", device_key=fingerprint)
    document = _document(rt, row, base64.b64decode(device_key))  # before the insert: a failure stores nothing
    rt.store.add_license(row)
    return JSONResponse(document, status_code=201)


async def renew(request: Request) -> JSONResponse:
    claims = authenticate(request)
    rt = runtime(request)
    pol = policy(rt)
    row = rt.store.license(request.path_params["license_id"])
    device_key = rt.store.license_device(claims.account_id, claims.device_id)
    _refuse(check_renew(pol, row, account_id=claims.account_id, device_id=claims.device_id,
                        account_lapsed=rt.store.account_lapsed(claims.account_id),
                        device_key=key_fingerprint(device_key) if device_key is not None else ""))
    if device_key is None:
        raise ApiError(403, "device_unknown", "register this device's public key first (PUT /v1/licenses/device)")
    assert row is not None
    now = rt.clock.wall()
    renewed = rt.store.renew_license(row.id, now, now + pol.license_duration_s)
    return JSONResponse(_document(rt, renewed, base64.b64decode(device_key)))


async def release(request: Request) -> JSONResponse:
    claims = authenticate(request)
    rt = runtime(request)
    row = rt.store.license(request.path_params["license_id"])
    if row is None or row.account_id != claims.account_id or row.device_id != claims.device_id:
        raise ApiError(404, "license_unknown", "no such license for this device")
    if row.state == "active":
        rt.store.set_license_state(row.id, "released", rt.clock.wall())
    return JSONResponse({"license_id": row.id, "state": "released" if row.state == "active" else row.state})


async def status(request: Request) -> JSONResponse:
    """``{"license_ids":[..]}`` -> the state of each (for this device) and the service's time."""
    claims = authenticate(request)
    body = await json_body(request)
    ids = body.get("license_ids", [])
    if not isinstance(ids, list) or len(ids) > 500 or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "invalid_field", "'license_ids' must be a list of at most 500 strings")
    rt = runtime(request)
    lapsed = rt.store.account_lapsed(claims.account_id)
    out = []
    for lid in ids:
        row = rt.store.license(lid)
        if row is None or row.account_id != claims.account_id or row.device_id != claims.device_id:
            out.append({"license_id": lid, "state": "unknown"})
        else:
            out.append({"license_id": lid, "state": "revoked" if lapsed and row.state == "active" else row.state,
                        "expires_at": row.expires_at, "can_renew": policy(rt).can_renew})
    return JSONResponse({"server_time": rt.clock.wall(), "licenses": out})


async def list_licenses(request: Request) -> JSONResponse:
    claims = authenticate(request)
    rt = runtime(request)
    rows = rt.store.licenses_of_account(claims.account_id)
    return JSONResponse({"server_time": rt.clock.wall(), "licenses": [
        {"license_id": r.id, "device_id": r.device_id, "title_id": r.title_id, "episode_id": r.episode_id,
         "content_id": r.content_id, "state": r.state, "issued_at": r.issued_at, "expires_at": r.expires_at}
        for r in rows]})


async def admin_policy(request: Request) -> JSONResponse:
    admin_guard(request)
    rt = runtime(request)
    if request.method == "PUT":
        body = await json_body(request)
        try:
            new = LicensePolicy.from_json(body)
        except ValueError as exc:
            raise ApiError(400, "invalid_policy", str(exc)) from None
        rt.store.set_meta(POLICY_META, json.dumps(new.to_json()))
    return JSONResponse(policy(rt).to_json())


async def admin_revoke(request: Request) -> JSONResponse:
    """``{"account_id"}`` lapses the account (revokes all its licenses, refuses new ones) or
    ``{"account_id","reinstate":true}`` lifts that; ``{"license_id"}`` revokes one license."""
    admin_guard(request)
    body = await json_body(request)
    rt = runtime(request)
    now = rt.clock.wall()
    license_id = field_str(body, "license_id", required=False, max_len=64)
    if license_id is not None:
        row = rt.store.license(license_id)
        if row is None:
            raise ApiError(404, "license_unknown", f"no license {license_id!r}")
        rt.store.set_license_state(row.id, "revoked", now)
        return JSONResponse({"revoked": [row.id]})
    account_id = field_str(body, "account_id", max_len=64) or ""
    if body.get("reinstate") is True:
        rt.store.set_account_lapsed(account_id, None)
        return JSONResponse({"account_id": account_id, "lapsed": False, "revoked": []})
    rt.store.set_account_lapsed(account_id, now)
    revoked = rt.store.revoke_account_licenses(account_id, now)
    return JSONResponse({"account_id": account_id, "lapsed": True, "revoked": revoked})


def routes() -> list[Route]:
    return [
        Route("/v1/licenses/public-key", public_key, methods=["GET"]),
        Route("/v1/licenses/device", register_device, methods=["PUT"]),
        Route("/v1/licenses", issue, methods=["POST"]),
        Route("/v1/licenses", list_licenses, methods=["GET"]),
        Route("/v1/licenses/status", status, methods=["POST"]),
        Route("/v1/licenses/{license_id}/renew", renew, methods=["POST"]),
        Route("/v1/licenses/{license_id}/release", release, methods=["POST"]),
        Route("/v1/admin/licenses/policy", admin_policy, methods=["GET", "PUT"]),
        Route("/v1/admin/licenses/revoke", admin_revoke, methods=["POST"]),
    ]
