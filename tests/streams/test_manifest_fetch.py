"""Bad manifest addresses through the real engine, on real sockets: an endless body
ends in seconds with a plain message (memory bounded by the limit), a web page is named."""

from __future__ import annotations

import http.server
import threading
from typing import Iterator

import pytest

from player.control import PlayRequest
from player.engine import PlaybackEngine
from player.mpv_adapter import MpvPlayer

pytestmark = [pytest.mark.mpv]


class _Bad(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path.endswith("page.mpd"):
            body = b"<!doctype html><html><body>Welcome to our player</body></html>"
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Content-Type", "application/vnd.apple.mpegurl")
        self.end_headers()  # no length: the body never ends
        try:
            self.wfile.write(b"#EXTM3U\n")
            while True:
                self.wfile.write(b"#EXT-X-COMMENT:" + b"x" * 65536 + b"\n")
        except OSError:
            pass  # the client hung up, as it should


@pytest.fixture
def bad_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bad)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _summary(url: str):
    engine = PlaybackEngine(lambda cb: MpvPlayer(cb, mode="headless"), on_event=lambda e: None)
    engine.play(PlayRequest(manifest_url=url))
    summary = engine.wait(30)
    engine.close()
    assert summary is not None, "the playback hung"
    return summary


def test_an_endless_manifest_fails_at_the_size_limit(bad_server):
    summary = _summary(f"{bad_server}/endless.m3u8")
    assert not summary.ok
    assert summary.errors == ["This stream's manifest is too large (over 20 MiB)."]


def test_a_web_page_is_named(bad_server):
    summary = _summary(f"{bad_server}/page.mpd")
    assert not summary.ok
    assert summary.errors == ["This address returned a web page, not a stream."]
