"""The manifest is read as it streams in: a size limit held while reading, an overall
deadline, and a web page named as one (httpx MockTransport, no sockets)."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import httpx
import pytest

from marquee.errors import ManifestError, NetworkError
from player.manifest._common import MAX_MANIFEST_BYTES
from player.manifest.loader import load_manifest, looks_like_web_page

MPD = b'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"></MPD>'


class Endless(httpx.AsyncByteStream):
    """A body that never ends; counts what it handed out."""

    def __init__(self, chunk: bytes = b"#" * 65536, pause_s: float = 0.0) -> None:
        self.chunk, self.pause_s, self.sent = chunk, pause_s, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            self.sent += len(self.chunk)
            yield self.chunk


def _load(handler, **kwargs):
    async def run():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await load_manifest(client, "http://cdn.test/stream.mpd", **kwargs)

    return asyncio.run(run())


def test_an_endless_body_stops_at_the_size_limit() -> None:
    body = Endless()
    with pytest.raises(ManifestError) as err:
        _load(lambda request: httpx.Response(200, stream=body))
    assert err.value.code == "manifest_too_large" and "too large" in err.value.user_message
    assert body.sent <= MAX_MANIFEST_BYTES + 2 * len(body.chunk)  # never read (or held) far past the limit


def test_a_declared_oversize_body_is_refused_before_reading() -> None:
    body = Endless()
    headers = {"content-length": str(MAX_MANIFEST_BYTES + 1)}
    with pytest.raises(ManifestError, match="larger than the limit"):
        _load(lambda request: httpx.Response(200, headers=headers, stream=body))
    assert body.sent == 0


def test_a_trickling_body_is_cut_off_at_the_deadline() -> None:
    with pytest.raises(NetworkError) as err:
        _load(lambda request: httpx.Response(200, stream=Endless(b"#", pause_s=0.01)), deadline_s=0.3)
    assert err.value.code == "manifest_timeout" and "in time" in err.value.user_message


@pytest.mark.parametrize("body, content_type", [
    (b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html; charset=utf-8"),
    (b"\n  <html><head><title>404</title></head></html>", "application/octet-stream"),
    (b"Please log in", "text/html"),
])
def test_a_web_page_is_named_as_such(body: bytes, content_type: str) -> None:
    with pytest.raises(ManifestError) as err:
        _load(lambda request: httpx.Response(200, content=body, headers={"content-type": content_type}))
    assert err.value.user_message == "This address returned a web page, not a stream."
    assert err.value.code == "web_page"


@pytest.mark.parametrize("body, content_type, page", [
    (MPD, "text/html", False),  # a misconfigured server: the bytes are a manifest
    (b"#EXTM3U\n", "text/html", False),
    (b"<html>", None, True),
    (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>", "application/xhtml+xml", True),
])
def test_web_page_detection(body: bytes, content_type: str | None, page: bool) -> None:
    assert looks_like_web_page(body, content_type) is page


def test_a_manifest_served_as_text_html_still_loads() -> None:
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n"
    presentation = _load(lambda request: httpx.Response(200, content=playlist, headers={"content-type": "text/html"}))
    assert presentation.duration_s == pytest.approx(4.0)
