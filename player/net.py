"""What the engine's HTTP client may be led to: redirects and object sizes.

Redirects stay on the origin of the request that got them. The one exception is the
manifest URL the user gave: if it redirects, that is where the stream lives, so its
target's origin is trusted for the rest of the playback (and only that one). The
trusted origins are per playback (a context variable set by the session), so two
engines or a download beside a playback do not share them.

Sizes: a segment may be at most ``margin`` times what the manifest's bandwidth and
duration promise (plus slack for small segments), and never more than
``HARD_CAP_BYTES``; the fetcher enforces the cap while it reads.
"""

from __future__ import annotations

import contextvars
from urllib.parse import urljoin, urlsplit

import httpx

HARD_CAP_BYTES = 64 << 20  # no segment of a streaming ladder is this large
SIZE_MARGIN = 4.0  # VBR peaks: a segment can carry a few times its average bit rate
SIZE_SLACK_BYTES = 512 << 10  # container overhead of small segments, init boxes

_trusted: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("marquee_redirect_trust", default=None)
_following_user_url: contextvars.ContextVar[bool] = contextvars.ContextVar("marquee_user_url", default=False)


class RedirectRefused(httpx.RequestError):
    """A redirect to another origin than the request's (and not to a trusted one)."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def start_playback_scope() -> None:
    """A fresh set of trusted origins for the playback running in this context."""
    _trusted.set(set())


def following_user_url(on: bool) -> contextvars.Token[bool]:
    """Within: redirects are the user's manifest URL's own, and may go anywhere (trusted after)."""
    return _following_user_url.set(on)


def stop_following_user_url(token: contextvars.Token[bool]) -> None:
    _following_user_url.reset(token)


async def check_redirect(response: httpx.Response) -> None:
    """An httpx response hook: called for every response, redirects included."""
    if not response.has_redirect_location:
        return
    source = str(response.request.url)
    target = urljoin(source, response.headers["location"])
    if origin(target) == origin(source):
        return
    trusted = _trusted.get()
    if _following_user_url.get():
        if trusted is not None:
            trusted.add(origin(target))
        return
    if trusted is not None and origin(target) in trusted:
        return
    raise RedirectRefused(f"redirect from {origin(source)} to another server ({origin(target)}) refused",
                          request=response.request)


def segment_cap(bandwidth_bps: float, duration_s: float) -> int:
    """The most bytes a segment of this bandwidth and duration may have."""
    promised = bandwidth_bps / 8 * max(duration_s, 0.0)
    return int(min(HARD_CAP_BYTES, promised * SIZE_MARGIN + SIZE_SLACK_BYTES))
