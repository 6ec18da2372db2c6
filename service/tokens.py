"""Signed tokens: access tokens for the API and URL tokens for the OCAs.

Pure: a secret, the claims and a time in, a string out (and back). No clock is
read here; callers pass ``now`` (wall seconds) from their injected clock.

OCA token (``/c/<token>/<media_id>/...``): ``<expiry>.<device_b64>.<sig>`` where
``sig = base64url(HMAC-SHA256(secret, "oca|v1|<media_id>|<device_id>|<expiry>"))``.
The media id is not in the token: it is in the URL path and part of the MAC, so a
token for one media id does not open another.

Access token: ``<account_id>.<device_b64>.<expiry>.<sig>`` with the MAC over
``"access|v1|<account_id>|<device_id>|<expiry>"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from service.strict import is_uint


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, message: str) -> str:
    return _b64e(hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest())


class TokenError(ValueError):
    """A token that is malformed, forged or expired; ``reason`` is one of those words."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"token {reason}")
        self.reason = reason


@dataclass(frozen=True)
class OcaClaims:
    media_id: str
    device_id: str
    expires_at: int


def sign_oca_token(secret: bytes, media_id: str, device_id: str, expires_at: int) -> str:
    expires_at = int(expires_at)
    sig = _mac(secret, f"oca|v1|{media_id}|{device_id}|{expires_at}")
    return f"{expires_at}.{_b64e(device_id.encode('utf-8'))}.{sig}"


def verify_oca_token(secret: bytes, token: str, media_id: str, now: float) -> OcaClaims:
    parts = token.split(".")
    if len(parts) != 3 or not is_uint(parts[0]):
        raise TokenError("malformed")
    try:
        device_id = _b64d(parts[1]).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed") from exc
    expires_at = int(parts[0])
    expected = _mac(secret, f"oca|v1|{media_id}|{device_id}|{expires_at}")
    if not hmac.compare_digest(expected, parts[2]):
        raise TokenError("forged")
    if now >= expires_at:
        raise TokenError("expired")
    return OcaClaims(media_id=media_id, device_id=device_id, expires_at=expires_at)


@dataclass(frozen=True)
class AccessClaims:
    account_id: str
    device_id: str
    expires_at: int


def sign_access_token(secret: bytes, account_id: str, device_id: str, expires_at: int) -> str:
    expires_at = int(expires_at)
    sig = _mac(secret, f"access|v1|{account_id}|{device_id}|{expires_at}")
    return f"{account_id}.{_b64e(device_id.encode('utf-8'))}.{expires_at}.{sig}"


def verify_access_token(secret: bytes, token: str, now: float) -> AccessClaims:
    parts = token.split(".")
    if len(parts) != 4 or not is_uint(parts[2]):
        raise TokenError("malformed")
    account_id = parts[0]
    try:
        device_id = _b64d(parts[1]).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed") from exc
    expires_at = int(parts[2])
    expected = _mac(secret, f"access|v1|{account_id}|{device_id}|{expires_at}")
    if not hmac.compare_digest(expected, parts[3]):
        raise TokenError("forged")
    if now >= expires_at:
        raise TokenError("expired")
    return AccessClaims(account_id=account_id, device_id=device_id, expires_at=expires_at)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are random; the store keeps only their SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
