"""The OCA edge servers over real loopback sockets: tokens, ranges, keep-alive, path safety."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from service.server import ServiceThread
from service.tokens import sign_oca_token
from tests.service.fakes import SEGMENT_SIZES


def base(live: ServiceThread, oca: int = 0, media: str = "m0", ttl: int = 3600, device: str = "dev") -> str:
    rt = live.runtime
    token = sign_oca_token(rt.secret, media, device, int(rt.clock.wall()) + ttl)
    return f"http://127.0.0.1:{rt.ocas[oca].port}/c/{token}/{media}/"


def test_full_file_and_headers(live: ServiceThread, content_dir: Path) -> None:
    r = httpx.get(base(live) + "v0/seg-1.m4s")
    assert r.status_code == 200
    assert r.content == (content_dir / "media/m0/v0/seg-1.m4s").read_bytes()
    assert r.headers["content-length"] == str(SEGMENT_SIZES["seg-1.m4s"])
    assert r.headers["content-type"] == "video/iso.segment" and r.headers["accept-ranges"] == "bytes"
    assert httpx.get(base(live) + "manifest.mpd").headers["content-type"] == "application/dash+xml"
    head = httpx.head(base(live) + "v0/seg-2.m4s")
    assert head.status_code == 200 and head.headers["content-length"] == str(SEGMENT_SIZES["seg-2.m4s"])


def test_range_requests(live: ServiceThread, content_dir: Path) -> None:
    data = (content_dir / "media/m0/v0/seg-1.m4s").read_bytes()
    r = httpx.get(base(live) + "v0/seg-1.m4s", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}" and r.headers["content-length"] == "100"
    r = httpx.get(base(live) + "v0/seg-1.m4s", headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == data[-10:]
    r = httpx.get(base(live) + "v0/seg-1.m4s", headers={"Range": f"bytes={len(data) - 5}-"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = httpx.get(base(live) + "v0/seg-1.m4s", headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("mutate,code", [
    (lambda u: u.replace("/c/", "/c/x"), "token_malformed"),
    (lambda u: u.replace("/m0/", "/m1/"), "token_forged"),
])
def test_bad_tokens_are_403(live: ServiceThread, mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(mutate(base(live)) + "manifest.mpd")
    assert r.status_code == 403 and r.json()["error"]["code"] == code


def test_expired_token_is_403(live: ServiceThread) -> None:
    r = httpx.get(base(live, ttl=-1) + "manifest.mpd")
    assert r.status_code == 403 and r.json()["error"]["code"] == "token_expired"
    assert live.runtime.ocas[0].counters.errors == 1


def test_missing_and_traversal(live: ServiceThread) -> None:
    assert httpx.get(base(live) + "v0/nope.m4s").status_code == 404
    assert httpx.get(base(live) + "v0").status_code == 404  # a folder
    port = live.runtime.ocas[0].port
    token = base(live).split("/c/")[1].split("/")[0]
    for raw in (f"/c/{token}/m0/../../build.json", f"/c/{token}/m0/%2e%2e/%2e%2e/build.json",
                f"/c/{token}/m0/v0/..%2f..%2f..%2fbuild.json", f"/c/{token}/..%2fartwork/x"):
        with socket.create_connection(("127.0.0.1", port)) as s:  # raw, so nothing normalizes the path first
            s.sendall(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            reply = s.recv(200).decode("latin-1")
        assert reply.split()[1] in ("403", "404"), (raw, reply)
    assert httpx.post(base(live) + "manifest.mpd").status_code == 405


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int([ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_keep_alive_and_nodelay(live: ServiceThread) -> None:
    node = live.runtime.ocas[0]
    path = base(live).split(f":{node.port}")[1] + "v0/init.mp4"
    with socket.create_connection(("127.0.0.1", node.port)) as s:
        for _ in range(3):  # three requests on one TCP connection
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head, body = _read_response(s)
            assert head.startswith(b"HTTP/1.1 200") and len(body) == SEGMENT_SIZES["init.mp4"]
        conns = list(node.listener._server.server_state.connections)
        assert len(conns) == 1
        server_sock = conns[0].transport.get_extra_info("socket")
        assert server_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert node.counters.requests == 3


def test_playback_urls_work_on_every_oca(live: ServiceThread, content_dir: Path) -> None:
    login = httpx.post(live.url + "/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                                          "device_id": "dev-x"}).json()
    h = {"Authorization": f"Bearer {login['access_token']}"}
    pid = httpx.get(live.url + "/v1/profiles", headers=h).json()["profiles"][0]["id"]
    pb = httpx.post(live.url + "/v1/playback", headers=h, json={"profile_id": pid, "title_id": "t001"}).json()
    mpd = httpx.get(pb["dash_url"])
    assert mpd.status_code == 200 and b"MPD" in mpd.content
    blobs = {httpx.get(o["base_url"] + "v0/init.mp4").content for o in pb["ocas"]}
    assert blobs == {(content_dir / "media" / pb["media_id"] / "v0/init.mp4").read_bytes()}
