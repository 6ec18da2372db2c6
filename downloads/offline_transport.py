"""Serve downloaded titles to the engine: ``http://offline.marquee.invalid/<download-id>/<path>``.

Mounted on the engine's HTTP client (``PlaybackEngine(transports={OFFLINE_ORIGIN: transport})``),
so an offline title plays through the very same pipeline as a stream. Files are decrypted
in memory, one chunk range at a time (``Range`` requests are honoured); nothing plaintext
touches the disk.

Failures are not HTTP errors the fetcher would retry forever on its one "OCA": a damaged
file raises ``DownloadDamaged`` and a license that stops allowing playback raises
``LicenseError``; both are ``MarqueeError``s, which the fetcher does not swallow, so the
session ends with their plain-words message (snapshot ``message``, the summary's ``errors``).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import unquote, urlsplit

import httpx

from downloads.plan import safe_relpath
from downloads.storage import Located, TitleFiles
from drm.crypto import HEADER_SIZE, open_range, plain_length
from drm.errors import DownloadDamaged
from marquee.errors import MarqueeError

OFFLINE_HOST = "offline.marquee.invalid"
OFFLINE_ORIGIN = f"http://{OFFLINE_HOST}/"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {".mpd": "application/dash+xml", ".m4s": "video/iso.segment", ".mp4": "video/mp4", ".vtt": "text/vtt",
          ".m3u8": "application/vnd.apple.mpegurl"}


def offline_url(download_id: str, path: str = "manifest.mpd") -> str:
    return f"{OFFLINE_ORIGIN}{download_id}/{path}"


@dataclass
class OfflineTitle:
    files: TitleFiles
    key: bytes
    stored: Mapping[str, Located]  # the journal's finished files by path: where each one is
    gate: Callable[[], None] = lambda: None  # raises a LicenseError when playback must stop


class OfflineTransport(httpx.AsyncBaseTransport):
    def __init__(self, titles: dict[str, OfflineTitle] | None = None) -> None:
        self.titles = dict(titles or {})

    def add(self, download_id: str, title: OfflineTitle) -> None:
        self.titles[download_id] = title

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("GET", "HEAD"):
            return _error(request, 405, "method not allowed")
        parts = urlsplit(str(request.url))
        did, _, rest = unquote(parts.path).lstrip("/").partition("/")
        title = self.titles.get(did)
        if title is None:
            return _error(request, 404, f"no offline title {did!r}")
        try:
            path = safe_relpath(rest)
        except MarqueeError:
            return _error(request, 404, "bad path")
        where = title.stored.get(path)
        if where is None:
            return _error(request, 404, f"{path} is not part of this download")
        title.gate()
        label = f"{did}/{path}"
        try:
            read_at, size = title.files.reader(where)
            total = await asyncio.to_thread(lambda: plain_length(read_at(0, HEADER_SIZE), label))
        except FileNotFoundError:
            raise DownloadDamaged(f"{label}: the stored file is missing") from None
        headers = {"Content-Type": _TYPES.get("." + path.rsplit(".", 1)[-1], "application/octet-stream"),
                   "Accept-Ranges": "bytes"}
        start, end, status = 0, total - 1, 200
        header = request.headers.get("range")
        if header:
            m = _RANGE.match(header.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
                else:
                    start = max(0, total - int(m.group(2)))
                if start >= total or start > end:
                    return httpx.Response(416, headers={"Content-Range": f"bytes */{total}"}, request=request)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        body = b"" if total == 0 else await asyncio.to_thread(open_range, title.key, label, read_at, size, start, end)
        headers["Content-Length"] = str(len(body))
        if request.method == "HEAD":
            body = b""
        # A stream (not ``content=``): the fetcher reads responses with ``aiter_raw``.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)


def _error(request: httpx.Request, status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": f"http_{status}", "message": message}}, request=request)
