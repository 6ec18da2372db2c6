"""``/v1/auth``: sign in and refresh."""

from __future__ import annotations

import msgspec


class LoginRequest(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    password: str
    device_id: str
    device_name: str = "Marquee desktop"


class RefreshRequest(msgspec.Struct, frozen=True, kw_only=True):
    refresh_token: str


class SessionTokens(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a login or a refresh: who signed in, and tokens good for ``expires_in`` s."""

    account_id: str
    device_id: str
    access_token: str
    refresh_token: str
    expires_in: float = 900.0
    token_type: str = "Bearer"
