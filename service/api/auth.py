"""Login and refresh: short-lived bearer tokens (signed) and rotating refresh tokens (stored hashed)."""

from __future__ import annotations

import asyncio
import math
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contract import to_builtins
from contract.auth import SessionTokens
from service.api.common import ApiError, error_response, field_str, json_body, runtime
from service.passwords import hash_password, needs_rehash, verify_password, verify_unknown
from service.runtime import Runtime
from service.tokens import hash_refresh_token, sign_access_token


def issue_tokens(rt: Runtime, account_id: str, device_id: str) -> dict[str, Any]:
    now = rt.clock.wall()
    ttl = rt.config.access_token_ttl_s
    refresh = "rt_" + secrets.token_urlsafe(32)
    rt.store.add_refresh_token(hash_refresh_token(refresh), account_id, device_id, now + rt.config.refresh_token_ttl_s)
    tokens = SessionTokens(account_id=account_id, device_id=device_id, refresh_token=refresh, expires_in=ttl,
                           access_token=sign_access_token(rt.secret, account_id, device_id, int(now + ttl)))
    body: dict[str, Any] = to_builtins(tokens)
    return body


async def login(request: Request) -> Response:
    body = await json_body(request)
    email = field_str(body, "email", max_len=254)
    password = field_str(body, "password", max_len=1024)
    device_id = field_str(body, "device_id", max_len=128)
    device_name = field_str(body, "device_name", required=False, max_len=128) or "unnamed device"
    assert email is not None and password is not None and device_id is not None
    rt = runtime(request)
    by_account, by_address = f"account:{email.strip().lower()}", f"address:{request.client.host if request.client else ''}"
    now = rt.clock.monotonic()
    wait = max(rt.login_by_account.retry_after([by_account], now), rt.login_by_address.retry_after([by_address], now))
    if wait > 0:
        return error_response(429, "too_many_attempts", f"too many failed sign-ins; try again in {math.ceil(wait)} s",
                              {"Retry-After": str(math.ceil(wait))})
    account = rt.store.account_by_email(email)
    # scrypt off the event loop (it releases the GIL); an unknown address costs the same time as a wrong password
    if account is None:
        ok = await asyncio.to_thread(verify_unknown, password)
    else:
        ok = await asyncio.to_thread(verify_password, password, account.password_hash)
    if account is None or not ok:
        rt.login_by_account.failed([by_account], rt.clock.monotonic())
        rt.login_by_address.failed([by_address], rt.clock.monotonic())
        raise ApiError(401, "invalid_credentials", "the e-mail address or password is wrong")
    rt.login_by_account.succeeded(by_account)
    if needs_rehash(account.password_hash):  # made with older, weaker parameters
        rt.store.set_password_hash(account.id, await asyncio.to_thread(hash_password, password))
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
