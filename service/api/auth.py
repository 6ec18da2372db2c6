"""Login and refresh: short-lived bearer tokens (signed) and rotating refresh tokens (stored hashed)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api.common import ApiError, field_str, json_body, runtime
from service.passwords import verify_password
from service.runtime import Runtime
from service.tokens import hash_refresh_token, sign_access_token


def issue_tokens(rt: Runtime, account_id: str, device_id: str) -> dict[str, Any]:
    now = rt.clock.wall()
    ttl = rt.config.access_token_ttl_s
    refresh = "rt_" + secrets.token_urlsafe(32)
    rt.store.add_refresh_token(hash_refresh_token(refresh), account_id, device_id, now + rt.config.refresh_token_ttl_s)
    return {"account_id": account_id, "device_id": device_id,
            "access_token": sign_access_token(rt.secret, account_id, device_id, int(now + ttl)),
            "refresh_token": refresh, "expires_in": ttl, "token_type": "Bearer"}


async def login(request: Request) -> JSONResponse:
    body = await json_body(request)
    email = field_str(body, "email", max_len=254)
    password = field_str(body, "password", max_len=1024)
    device_id = field_str(body, "device_id", max_len=128)
    device_name = field_str(body, "device_name", required=False, max_len=128) or "unnamed device"
    assert email is not None and password is not None and device_id is not None
    rt = runtime(request)
    account = rt.store.account_by_email(email)
    if account is None or not verify_password(password, account.password_hash):
        raise ApiError(401, "invalid_credentials", "the e-mail address or password is wrong")
    rt.store.upsert_device(account.id, device_id, device_name, rt.clock.wall())
    return JSONResponse(issue_tokens(rt, account.id, device_id))


async def refresh(request: Request) -> JSONResponse:
    body = await json_body(request)
    token = field_str(body, "refresh_token", max_len=512)
    assert token is not None
    rt = runtime(request)
    found = rt.store.take_refresh_token(hash_refresh_token(token), rt.clock.wall())
    if found is None:
        raise ApiError(401, "invalid_refresh_token", "the refresh token is unknown, used or expired; sign in again")
    account_id, device_id = found
    return JSONResponse(issue_tokens(rt, account_id, device_id))


def routes() -> list[Route]:
    return [Route("/v1/auth/login", login, methods=["POST"]),
            Route("/v1/auth/refresh", refresh, methods=["POST"])]
