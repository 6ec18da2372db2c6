"""``marquee qa link``: a shaping reverse proxy on loopback (the I/O edge of :mod:`qa.link`).

Every request to ``http://127.0.0.1:PORT/<path>`` is fetched from the upstream origin's same
path and its body is paced through the one emulated link (all responses share it, as a
player's parallel audio and video requests share one access link). The fault timeline is
applied per request (error rate, added latency, stall or truncation after N bytes,
corruption); while the link is "down" the listener is closed (new connections refused, open
ones reset), as an OCA does. DASH/HLS manifests that name the upstream origin in absolute
URLs are rewritten to the proxy's, so every segment crosses the link. Each request is logged
(time since the link opened, path, status, bytes, duration, the faults applied).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from typing import IO, Any, AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from marquee.clock import Clock, SystemClock
from marquee.errors import ConfigError
from qa.link import LinkTimeline, pace
from service.listener import Listener

log = logging.getLogger("marquee.qa.link")

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

MANIFEST_SUFFIXES = (".mpd", ".m3u8")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
              "proxy-authorization", "content-encoding", "content-length"}


@dataclass
class RequestLog:
    """The request log: kept in memory and, when given, written as JSONL as requests finish."""

    sink: IO[str] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.sink is not None:
            self.sink.write(json.dumps(row) + "\n")
            self.sink.flush()


def upstream_origin(url: str) -> tuple[str, str]:
    """(origin, path with query) of the upstream URL; a clear error for anything but http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--upstream must be an http:// or https:// URL, not {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", path


class LinkProxy:
    def __init__(self, timeline: LinkTimeline, upstream: str, *, host: str = "127.0.0.1", port: int = 0,
                 clock: Clock | None = None, log_sink: IO[str] | None = None, seed: int = 1,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeline = timeline
        self.origin, self.entry_path = upstream_origin(upstream)
        self.clock = clock or SystemClock()
        self.requests = RequestLog(log_sink)
        self._rng = random.Random(seed)
        self.listener = Listener(self.app, host, port, name="qa-link")
        self._client: httpx.AsyncClient | None = None
        self._transport = transport  # tests: the upstream without sockets
        self._t0 = 0.0
        self._link = timeline.new_link(0.0)
        self._timeline_task: asyncio.Task[None] | None = None
        self._down = asyncio.Event()

    @property
    def url(self) -> str:
        """What to give the player: the upstream URL's path on the proxy."""
        return f"{self.base}{self.entry_path}"

    @property
    def base(self) -> str:
        return f"http://{self.listener.host}:{self.listener.port}"

    def elapsed(self) -> float:
        return self.clock.monotonic() - self._t0

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=True,
                                         transport=self._transport)
        self._t0 = self.clock.monotonic()
        self._link = self.timeline.new_link(self._t0)
        await self.listener.start()
        if self.timeline.state(0.0).down:
            await self._set_down(True, 0.0)
        self._timeline_task = asyncio.create_task(self._run_timeline())

    async def stop(self) -> None:
        if self._timeline_task is not None:
            self._timeline_task.cancel()
        self._down.set()
        await self.listener.stop(abort=True)
        if self._client is not None:
            await self._client.aclose()

    async def _set_down(self, down: bool, t: float) -> None:
        if down:
            self._down.set()
            await self.listener.stop(abort=True)
        else:
            self._down = asyncio.Event()
            await self.listener.start()
        self.requests.add({"kind": "link_fault", "t": round(t, 3), "down": down})

    async def _run_timeline(self) -> None:
        """Open and close the listener at the fault timeline's moments; other faults act per request."""
        for t in self.timeline.change_times():
            await asyncio.sleep(max(0.0, t - self.elapsed()))
            down = self.timeline.state(t).down
            if down != (not self.listener.listening):
                await self._set_down(down, t)
            else:
                self.requests.add({"kind": "link_fault", "t": round(t, 3), "state": _describe(self.timeline, t)})

    # -- HTTP ----------------------------------------------------------------
    async def app(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        t = self.elapsed()
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        row: dict[str, Any] = {"kind": "link_request", "t": round(t, 3), "method": scope["method"], "path": path,
                               "status": None, "bytes": 0}
        try:
            await self._handle(scope, receive, send, path, t, row)
        finally:
            row["duration_s"] = round(self.elapsed() - t, 4)
            self.requests.add(row)

    async def _handle(self, scope: dict[str, Any], receive: Receive, send: Send, path: str, t: float,
                      row: dict[str, Any]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            row["status"] = 405
            await _plain(send, 405, "only GET and HEAD go through the link\n")
            return
        plan = self.timeline.plan(t, self._rng, path)
        if plan.latency_s > 0:
            await asyncio.sleep(plan.latency_s)
        if plan.error_status is not None:
            row.update(status=plan.error_status, fault="error")
            await _plain(send, plan.error_status, "fault injection: error status\n")
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.lower() in (b"range", b"accept", b"user-agent", b"if-none-match", b"if-modified-since")]
        headers.append(("accept-encoding", "identity"))  # the link carries the bytes the player would get
        assert self._client is not None
        try:
            request = self._client.build_request(scope["method"], self.origin + path, headers=headers)
            upstream = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            row.update(status=502, error=f"upstream: {exc.__class__.__name__}: {exc}")
            await _plain(send, 502, f"the upstream {self.origin} did not answer: {exc}\n")
            return
        try:
            await self._relay(upstream, scope["method"], path, plan, receive, send, row)
        finally:
            await upstream.aclose()

    async def _relay(self, upstream: httpx.Response, method: str, path: str, plan: Any, receive: Receive,
                     send: Send, row: dict[str, Any]) -> None:
        out_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in upstream.headers.items()
                       if k.lower() not in HOP_BY_HOP]
        body: AsyncIterator[bytes] = upstream.aiter_bytes()  # identity-encoded: asked so below
        length = upstream.headers.get("content-length")
        if _is_manifest(path, upstream.headers.get("content-type", "")) and method == "GET":
            text = (await upstream.aread()).replace(self.origin.encode(), self.base.encode())
            length, body = str(len(text)), _once(text)
        if length is not None:
            out_headers.append((b"content-length", length.encode()))
        out_headers.append((b"access-control-allow-origin", b"*"))
        row["status"] = upstream.status_code
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": out_headers})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        limit = min((c for c in (plan.stall_after, plan.truncate_after) if c is not None), default=None)
        async for chunk in pace(body, self._link, self.clock, asyncio.sleep, limit=limit, corrupt=plan.corrupt):
            if self._down.is_set():
                row["fault"] = "down"
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            row["bytes"] += len(chunk)
        if limit is not None and row["bytes"] >= limit:
            stalled = plan.stall_after is not None and (plan.truncate_after is None
                                                        or plan.stall_after <= plan.truncate_after)
            row["fault"] = "stall" if stalled else "truncate"
            if stalled:  # hold the connection, send nothing, until the client leaves or the link goes down
                await _until_gone(receive, self._down)
            return  # without the last body message: the server closes the connection mid-body
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _describe(timeline: LinkTimeline, t: float) -> str:
    s = timeline.state(t)
    return ", ".join(f"{k}={v}" for k, v in vars(s).items() if v not in (False, 0, 0.0, None, 503)) or "clear"


def _is_manifest(path: str, content_type: str) -> bool:
    return path.split("?", 1)[0].lower().endswith(MANIFEST_SUFFIXES) or "mpegurl" in content_type \
        or "dash+xml" in content_type


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _until_gone(receive: Receive, down: asyncio.Event) -> None:
    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = {asyncio.ensure_future(gone()), asyncio.ensure_future(down.wait())}
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"access-control-allow-origin", b"*")]})
    await send({"type": "http.response.body", "body": body})
