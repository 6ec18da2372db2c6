"""The one I/O function of the manifest package: fetch and parse a manifest."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from marquee.errors import ManifestError, NetworkError
from player.manifest._common import MAX_MANIFEST_BYTES
from player.manifest.detect import parse_manifest
from player.manifest.hls import HlsMultivariant
from player.manifest.hls_build import build_hls_presentation
from player.manifest.model import Presentation

log = logging.getLogger("marquee.player.manifest")


MANIFEST_DEADLINE_S = 20.0
"""The whole of one manifest (headers and body) must arrive within this: a body that
never ends, or trickles, is cut off instead of leaving the player loading forever."""

_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass(frozen=True)
class _Fetched:
    url: str  # after redirects
    content: bytes
    content_type: str | None


def looks_like_web_page(data: bytes, content_type: str | None) -> bool:
    """An HTML page (a login portal, an error page, a player page) instead of a manifest:
    said by its bytes, or by ``text/html`` on bytes that are no manifest."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_STARTS):
        return True
    ctype = (content_type or "").split(";")[0].strip().lower()
    return ctype in ("text/html", "application/xhtml+xml") and not (head.startswith(b"#ext") or b"<mpd" in head)


async def _read(client: httpx.AsyncClient, url: str, limit: int) -> _Fetched:
    async with client.stream("GET", url, follow_redirects=True) as response:
        if response.status_code >= 400:
            raise NetworkError(f"{url}: HTTP {response.status_code}", user_message="The stream could not be reached.",
                               code=f"http_{response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(url, limit)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise _too_large(url, limit)
        return _Fetched(str(response.url), bytes(body), response.headers.get("content-type"))


def _too_large(url: str, limit: int) -> ManifestError:
    return ManifestError(f"{url}: the manifest is larger than the limit of {limit} bytes", code="manifest_too_large",
                         user_message=f"This stream's manifest is too large (over {limit >> 20} MiB).")


async def _get(client: httpx.AsyncClient, url: str, *, deadline_s: float = MANIFEST_DEADLINE_S,
               limit: int = MAX_MANIFEST_BYTES) -> _Fetched:
    """The manifest at ``url``, read as it streams in: never more than ``limit`` bytes
    held, never longer than ``deadline_s`` in all."""
    try:
        fetched = await asyncio.wait_for(_read(client, url, limit), deadline_s)
    except asyncio.TimeoutError as exc:
        raise NetworkError(f"{url}: the manifest did not arrive within {deadline_s:g} s", code="manifest_timeout",
                           user_message="The stream's manifest did not arrive in time.") from exc
    except httpx.InvalidURL as exc:
        raise ManifestError(f"{url}: not a valid URL ({exc})") from exc
    except httpx.HTTPError as exc:
        raise NetworkError(f"{url}: {type(exc).__name__}: {exc}", user_message="The stream could not be reached.") from exc
    if looks_like_web_page(fetched.content, fetched.content_type):
        raise ManifestError(f"{url}: returned a web page ({fetched.content_type or 'HTML'}), not a manifest",
                            code="web_page", user_message="This address returned a web page, not a stream.")
    return fetched


async def load_manifest(client: httpx.AsyncClient, url: str, *, deadline_s: float = MANIFEST_DEADLINE_S) -> Presentation:
    """Fetch and parse the manifest at `url` (an MPD, or an HLS playlist and its media playlists).

    HLS media playlists are fetched in parallel. Transport failures and HTTP
    errors raise NetworkError; unreadable manifests raise ManifestError. The
    URLs in the result are relative to `Presentation.base_urls` (see the
    package docstring); a redirect of the manifest moves the root with it.
    """
    response = await _get(client, url, deadline_s=deadline_s)
    parsed = parse_manifest(response.content, response.url, response.content_type)
    if isinstance(parsed, Presentation):
        return parsed
    assert isinstance(parsed, HlsMultivariant)
    urls = parsed.media_playlist_urls
    tasks = [asyncio.ensure_future(_get(client, u, deadline_s=deadline_s)) for u in urls]
    try:
        responses = await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # one failed: do not leave the others running
            task.cancel()
    texts = {u: r.content for u, r in zip(urls, responses)}
    redirected = {u: r.url for u, r in zip(urls, responses) if r.url != u}
    presentation = build_hls_presentation(parsed, texts, redirected)
    for note in presentation.notes:
        log.info("%s: %s", url, note)
    return presentation


__all__ = ["MANIFEST_DEADLINE_S", "ManifestError", "NetworkError", "load_manifest", "looks_like_web_page"]
