"""The one I/O function of the manifest package: fetch and parse a manifest."""

from __future__ import annotations

import asyncio
import logging

import httpx

from marquee.errors import ManifestError, NetworkError
from player.manifest.detect import parse_manifest
from player.manifest.hls import HlsMultivariant
from player.manifest.hls_build import build_hls_presentation
from player.manifest.model import Presentation

log = logging.getLogger("marquee.player.manifest")


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    try:
        response = await client.get(url, follow_redirects=True)
    except httpx.InvalidURL as exc:
        raise ManifestError(f"{url}: not a valid URL ({exc})") from exc
    except httpx.HTTPError as exc:
        raise NetworkError(f"{url}: {type(exc).__name__}: {exc}", user_message="The stream could not be reached.") from exc
    if response.status_code >= 400:
        raise NetworkError(
            f"{url}: HTTP {response.status_code}",
            user_message="The stream could not be reached.",
            code=f"http_{response.status_code}",
        )
    return response


async def load_manifest(client: httpx.AsyncClient, url: str) -> Presentation:
    """Fetch and parse the manifest at `url` (an MPD, or an HLS playlist and its media playlists).

    HLS media playlists are fetched in parallel. Transport failures and HTTP
    errors raise NetworkError; unreadable manifests raise ManifestError. The
    URLs in the result are relative to `Presentation.base_urls` (see the
    package docstring); a redirect of the manifest moves the root with it.
    """
    response = await _get(client, url)
    final_url = str(response.url)
    parsed = parse_manifest(response.content, final_url, response.headers.get("content-type"))
    if isinstance(parsed, Presentation):
        return parsed
    assert isinstance(parsed, HlsMultivariant)
    urls = parsed.media_playlist_urls
    tasks = [asyncio.ensure_future(_get(client, u)) for u in urls]
    try:
        responses = await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # one failed: do not leave the others running
            task.cancel()
    texts = {u: r.content for u, r in zip(urls, responses)}
    redirected = {u: str(r.url) for u, r in zip(urls, responses) if str(r.url) != u}
    presentation = build_hls_presentation(parsed, texts, redirected)
    for note in presentation.notes:
        log.info("%s: %s", url, note)
    return presentation


__all__ = ["ManifestError", "NetworkError", "load_manifest"]
