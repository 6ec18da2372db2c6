"""Fake OCAs behind an httpx ``MockTransport``, driven by a ``FakeClock``.

Each OCA is a host (``http://oca-1.test/<token>/...``) serving the files of one content
folder, with Range support and scripted faults: refused, reset or stalled after N
bytes, truncated, corrupt, an HTTP status, a throughput cap or trace. Delays are
``clock.sleep`` calls, so a 30 s playback with a stalled edge runs in well under a
second of wall time. Tokens in the path model signed URLs: ``expire_tokens`` makes
every OCA answer 403 until the client asks for fresh ones (``fresh_bases``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

import httpx

from marquee.clock import FakeClock

CHUNK = 16 * 1024


@dataclass
class Faults:
    down: bool = False  # connection refused
    status: int | None = None  # answer this HTTP status instead
    reset_after: int | None = None  # send this many body bytes, then reset the connection
    stall_after: int | None = None  # send this many body bytes, then go silent
    truncate_after: int | None = None  # send this many body bytes, then end (Content-Length says more)
    corrupt: bool = False  # flip bits in media segments (as the reference OCA does)
    padding: int = 0  # append this many junk bytes to every body (a runaway object)
    trace: tuple[tuple[float, float], ...] = ()  # (from virtual s, kbit/s) steps; () = unlimited
    paths: str = ""  # only paths containing this

    def applies(self, path: str) -> bool:
        return self.paths in path


@dataclass
class FakeOcas:
    root: Path
    clock: FakeClock
    names: tuple[str, ...] = ("oca-1", "oca-2", "oca-3")
    faults: dict[str, Faults] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (oca, path)
    token: str = "t0"
    _tokens: itertools.count = field(default_factory=lambda: itertools.count(1))

    def base(self, oca: str) -> str:
        return f"http://{oca}.test/{self.token}/"

    def bases(self) -> dict[str, str]:
        return {name: self.base(name) for name in self.names}

    def expire_tokens(self) -> None:
        self.token = f"expired-{self.token}"

    def fresh_bases(self) -> dict[str, str]:
        """The playback API's answer to a refresh: new signed URLs."""
        self.token = f"t{next(self._tokens)}"
        return self.bases()

    def fault(self, oca: str, **spec: object) -> None:
        self.faults[oca] = Faults(**spec)  # type: ignore[arg-type]

    def clear(self, oca: str) -> None:
        self.faults.pop(oca, None)

    def served(self, oca: str, containing: str = "") -> int:
        return sum(1 for o, p in self.requests if o == oca and containing in p)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        oca = request.url.host.removesuffix(".test")
        token, _, path = request.url.path.lstrip("/").partition("/")
        self.requests.append((oca, path))
        faults = self.faults.get(oca, Faults())
        active = faults.applies(path)
        if active and faults.down:
            raise httpx.ConnectError("connection refused", request=request)
        await self.clock.sleep(0.002)  # a loopback round trip
        if token != self.token:
            return httpx.Response(403, text="token expired")
        if active and faults.status:
            return httpx.Response(faults.status, text="fault")
        file = self.root / path
        if not file.is_file():
            return httpx.Response(404, text="not found")
        body = file.read_bytes()
        status, start = 200, 0
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("range", ""))
        if m:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(body) - 1
            body, status = body[start:end + 1], 206
        if active and faults.padding:
            body += b"\0" * faults.padding
        stream = _Body(body, start, faults if active else Faults(), self.clock, path.endswith((".m4s", ".mp4")))
        return httpx.Response(status, headers={"content-length": str(len(body))}, stream=stream)


class _Body(httpx.AsyncByteStream):
    def __init__(self, body: bytes, offset: int, faults: Faults, clock: FakeClock, media: bool) -> None:
        self.body, self.offset, self.faults, self.clock, self.media = body, offset, faults, clock, media

    async def __aiter__(self) -> AsyncIterator[bytes]:
        f = self.faults
        sent = 0
        while sent < len(self.body):
            chunk = self.body[sent:sent + CHUNK]
            for limit, action in ((f.reset_after, "reset"), (f.stall_after, "stall"), (f.truncate_after, "truncate")):
                if limit is not None and sent + len(chunk) > limit:
                    chunk = chunk[:max(0, limit - sent)]
                    if chunk:
                        yield chunk
                    if action == "reset":
                        raise httpx.ReadError("connection reset by peer")
                    if action == "stall":
                        await self.clock.sleep(3600.0)
                    return
            if f.corrupt and self.media:
                chunk = _corrupt(chunk, self.offset + sent)
            rate = _rate_kbps(f.trace, self.clock.monotonic())
            if rate:
                await self.clock.sleep(len(chunk) * 8 / (rate * 1000))
            yield chunk
            sent += len(chunk)


def _rate_kbps(trace: tuple[tuple[float, float], ...], now: float) -> float:
    rate = 0.0
    for since, kbps in trace:
        if now >= since:
            rate = kbps
    return rate


def _corrupt(chunk: bytes, offset: int) -> bytes:
    data = bytearray(chunk)
    for i in range(len(data)):
        if offset + i < 8 or (offset + i) % 1024 == 512:
            data[i] ^= 0xFF
    return bytes(data)
