"""What a request must look like before any route sees it: the web-page and DNS-rebinding guard.

A page the user opens in a browser can send requests to ``127.0.0.1`` (a form, ``fetch`` with
``text/plain``), and a rebinding name can make the page's own origin resolve to loopback. So:

- ``Host`` must name the service: a loopback name, the configured host, or ``allowed_hosts``
  (a rebinding page sends its own name; 403 ``host_not_allowed``);
- an ``Origin`` header, when present, must be the service's own origin (browsers always send
  one cross-site; our clients send none; 403 ``origin_not_allowed``), and
  ``Sec-Fetch-Site: cross-site`` is refused the same way;
- a state-changing request (POST/PUT/PATCH/DELETE) carries ``application/json`` or no body
  at all (a browser can send ``text/plain`` or a form without asking first, never JSON;
  415 ``json_only``);
- ``/v1/admin/*`` needs ``X-Marquee-Admin-Secret`` (the installation's secret file, 0600).

``check`` is pure (headers in, a refusal or None out); ``RequestGuard`` is the ASGI adapter.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from marquee.private_files import ADMIN_HEADER

LOOPBACK_NAMES = frozenset({"127.0.0.1", "::1", "localhost"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ADMIN_PREFIX = "/v1/admin/"


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def host_name(value: str) -> str | None:
    """The host of a ``Host`` header without its port (``[::1]:80`` -> ``::1``); None if malformed."""
    value = value.strip().lower()
    if not value or len(value) > 255:
        return None
    try:
        parts = urlsplit("//" + value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return parts.hostname


def allowed_hosts(bound_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    names = set(LOOPBACK_NAMES) | {h.strip().lower() for h in extra if h.strip()}
    if bound_host not in ("", "0.0.0.0", "::"):
        names.add(bound_host.lower())
    return frozenset(names)


def check(method: str, path: str, headers: Mapping[str, str], *, hosts: frozenset[str], port: int,
          admin_secret: str) -> Refusal | None:
    """Why this request is refused, or None. ``headers`` keys are lower case."""
    host = host_name(headers.get("host", ""))
    if host is None or host not in hosts:
        return Refusal(403, "host_not_allowed", "this service answers only requests addressed to its own host name")
    origin = headers.get("origin")
    if origin is not None and not _own_origin(origin, hosts, port):
        return Refusal(403, "origin_not_allowed", "requests from web pages of other sites are refused")
    if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        return Refusal(403, "origin_not_allowed", "requests from web pages of other sites are refused")
    if method in STATE_CHANGING:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers
        if media_type != "application/json" and (media_type or has_body):
            return Refusal(415, "json_only", "send the body as JSON with 'Content-Type: application/json'")
    if path.startswith(ADMIN_PREFIX) and admin_secret:  # no secret: the admin plane is off (its routes say so)
        given = headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(given.encode("latin-1"), admin_secret.encode("latin-1")):
            return Refusal(401, "admin_secret_required", "the admin API needs this installation's secret "
                           "(header X-Marquee-Admin-Secret, from the file admin.secret in the service folder)")
    return None


def _own_origin(origin: str, hosts: frozenset[str], port: int) -> bool:
    try:
        parts = urlsplit(origin.strip().lower())
        origin_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, -1)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.hostname in hosts and origin_port == port


class RequestGuard:
    """Pure ASGI middleware applying ``check`` to every HTTP request."""

    def __init__(self, app: Any, *, extra_hosts: Iterable[str], bound_host: str, admin_secret: str) -> None:
        self.app = app
        self.hosts = allowed_hosts(bound_host, extra_hosts)
        self.admin_secret = admin_secret

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            headers[key.decode("latin-1")] = value.decode("latin-1")
        server = scope.get("server") or ("", 0)
        refusal = check(scope["method"], scope["path"], headers, hosts=self.hosts, port=int(server[1] or 0),
                        admin_secret=self.admin_secret)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": refusal.code, "message": refusal.message}}).encode()
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
