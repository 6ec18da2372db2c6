"""`parse_manifest`: tell DASH from HLS and parse accordingly."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from marquee.errors import ManifestError
from player.manifest._common import fail
from player.manifest.dash import parse_dash
from player.manifest.hls import HlsMultivariant, decode_text, parse_hls_media, parse_hls_multivariant
from player.manifest.hls_build import media_only_presentation
from player.manifest.hls_lines import is_multivariant
from player.manifest.model import Presentation

_DASH_TYPES = ("application/dash+xml",)
_HLS_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl")


def sniff_kind(data: bytes, url: str, content_type: str | None) -> Literal["dash", "hls"]:
    """DASH or HLS, from the bytes first, then the Content-Type, then the URL's extension."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"#EXT"):
        return "hls"
    if head.startswith(b"<") and b"<MPD" in data[:65536] or head.startswith(b"<?xml"):
        return "dash"
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _DASH_TYPES:
        return "dash"
    if ctype in _HLS_TYPES:
        return "hls"
    path = urlsplit(url).path.lower()
    if path.endswith(".mpd"):
        return "dash"
    if path.endswith((".m3u8", ".m3u")):
        return "hls"
    if head.startswith(b"<"):
        return "dash"
    fail(f"{url}: neither an MPD nor an M3U8 playlist (starts with {head[:16]!r})")


def parse_manifest(data: bytes, url: str, content_type: str | None = None) -> Presentation | HlsMultivariant:
    """Parse a manifest fetched from `url`.

    Returns a `Presentation` for an MPD or an HLS media playlist, and an
    `HlsMultivariant` for an HLS multivariant playlist: the caller fetches its
    `media_playlist_urls` and calls `build_hls_presentation` (the loader does).
    """
    try:
        kind = sniff_kind(data, url, content_type)
        if kind == "dash":
            return parse_dash(data, url)
        text = decode_text(data, "HLS playlist")
        if is_multivariant(text):
            return parse_hls_multivariant(text, url)
        return media_only_presentation(parse_hls_media(text, url))
    except ManifestError:
        raise
    except Exception as exc:  # the boundary
        raise ManifestError(f"{url}: cannot be read ({type(exc).__name__}: {exc})") from exc
