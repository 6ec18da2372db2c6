"""Shared pieces of the route handlers: JSON errors, body validation, auth, tiles."""

from __future__ import annotations

import math
import zlib
from typing import Any, Mapping

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from marquee.errors import ServiceError
from service.catalog import ARTWORK_KINDS_BEFORE_HEROES, Title, maturity_level
from service import strict
from service.runtime import Runtime
from service.store import Profile
from service.strict import is_uint
from service.tokens import AccessClaims, TokenError, verify_access_token

MAX_BODY = 256 * 1024


class ApiError(ServiceError):
    """An error answered to the client as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def read_body(request: Request, limit: int = MAX_BODY, *, inflated_limit: int | None = None) -> bytes:
    """The request body, read in a stream with ``limit`` bytes enforced while reading (a 300 MB
    body costs the service one chunk, not 300 MB). With ``inflated_limit``, a ``gzip`` body is
    decompressed in the same stream and that limit applies to what it expands to."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not is_uint(declared.strip()):
            raise ApiError(400, "invalid_content_length", "Content-Length must be a whole number")
        if int(declared) > limit:
            raise ApiError(413, "body_too_large", f"the request body is larger than {limit} bytes")
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity") and not (encoding == "gzip" and inflated_limit is not None):
        raise ApiError(415, "unsupported_encoding", f"Content-Encoding {encoding[:20]!r} is not accepted here")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    cap = inflated_limit if inflater is not None and inflated_limit is not None else limit
    out, wire = bytearray(), 0
    try:
        async for chunk in request.stream():
            wire += len(chunk)
            if wire > limit:
                raise ApiError(413, "body_too_large", f"the request body is larger than {limit} bytes")
            piece = inflater.decompress(chunk, cap - len(out) + 1) if inflater is not None else chunk
            if len(out) + len(piece) > cap or (inflater is not None and inflater.unconsumed_tail):
                raise ApiError(413, "body_too_large", f"the request body expands to more than {cap} bytes")
            out += piece
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away while sending its body") from None
    except zlib.error:
        raise ApiError(400, "invalid_gzip", "the body is not valid gzip") from None
    if inflater is not None and wire and not inflater.eof:
        raise ApiError(400, "invalid_gzip", "the gzip body ends early")
    return bytes(out)


def parse_json(raw: bytes) -> Any:
    """A JSON document parsed by the strict parser (depth, finite numbers); 400 otherwise."""
    try:
        return strict.loads(raw or b"null")
    except strict.ParseError as exc:
        raise ApiError(400, "invalid_json", str(exc)) from None


async def json_body(request: Request) -> dict[str, Any]:
    body = parse_json(await read_body(request))
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    return body


def field_str(body: Mapping[str, Any], key: str, *, required: bool = True, max_len: int = 200) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError(400, "missing_field", f"'{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_field", f"'{key}' must be a non-empty string")
    if len(value) > max_len:
        raise ApiError(400, "invalid_field", f"'{key}' is longer than {max_len} characters")
    return value


def field_number(body: Mapping[str, Any], key: str, *, lo: float = 0.0, hi: float = 1e9) -> float:
    value = body.get(key)
    if value is None:
        raise ApiError(400, "missing_field", f"'{key}' is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(400, "invalid_field", f"'{key}' must be a number")
    if not lo <= value <= hi:
        raise ApiError(400, "invalid_field", f"'{key}' must be between {lo:g} and {hi:g}")
    return float(value)


def authenticate(request: Request) -> AccessClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "sign in first: send 'Authorization: Bearer <access_token>'")
    rt = runtime(request)
    try:
        return verify_access_token(rt.secret, token.strip(), rt.clock.wall())
    except TokenError as exc:
        code = "token_expired" if exc.reason == "expired" else "invalid_token"
        raise ApiError(401, code, f"the access token is {exc.reason}; refresh it or sign in again") from None


def own_profile(request: Request, profile_id: str | None) -> Profile:
    claims = authenticate(request)
    profile = runtime(request).store.profile(profile_id) if profile_id else None
    if profile is None or profile.account_id != claims.account_id:
        raise ApiError(404, "unknown_profile", f"no profile {profile_id!r} on this account")
    return profile


def optional_profile(request: Request) -> Profile | None:
    pid = request.query_params.get("profile_id")
    return own_profile(request, pid) if pid else None


def profile_level(profile: Profile | None) -> int:
    return maturity_level(profile.maturity) if profile else 3


def artwork_urls(request: Request, title_id: str, variant: int) -> dict[str, str]:
    """The title's art of ``variant``: every kind the content has (``hero``, the backdrop's
    picture without lettering, only from builds that drew it)."""
    base = runtime(request).base_url  # from configuration, never from the Host header
    build = runtime(request).build
    kinds = build.artwork_kinds if build is not None else ARTWORK_KINDS_BEFORE_HEROES
    return {kind: f"{base}/artwork/{title_id}/{kind}-{variant}.jpg" for kind in kinds}


def tile(request: Request, title: Title, variant: int, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"title_id": title.id, "title": title.title, "kind": title.kind, "year": title.year,
                           "genres": list(title.genres), "maturity": title.maturity, **artwork_urls(request, title.id, variant)}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out
