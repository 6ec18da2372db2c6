"""An OCA edge server: serves ``<content>/media/<mid>/...`` under ``/c/<token>/<mid>/<path>``.

The HTTP handling is a small raw-ASGI app (no framework: we need byte-level
control for pacing, stalls and truncation). Fault decisions come from the pure
``service.faults``; this module only does the I/O: file reads, sleeps, sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from marquee.clock import Clock
from service.faults import FaultSpec, Link, Rate, RequestPlan, corrupt_chunk, plan_request
from service.httputil import RangeNotSatisfiable, content_type, parse_range, safe_relative_path
from service.listener import Listener
from service.ranking import OcaState, ewma
from service.tokens import TokenError, verify_oca_token

log = logging.getLogger("marquee.oca")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

READ_CHUNK = 256 * 1024


@dataclass
class Counters:
    requests: int = 0
    bytes: int = 0
    errors: int = 0  # every 4xx/5xx answered, injected or not
    injected_errors: int = 0
    aborted: int = 0  # responses cut short: truncated, stalled then dropped, client gone
    status: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "bytes": self.bytes, "errors": self.errors,
                "injected_errors": self.injected_errors, "aborted": self.aborted, "status": dict(self.status)}


class OcaNode:
    def __init__(self, oca_id: str, name: str, media_root: Path, secret: bytes, clock: Clock, *,
                 host: str = "127.0.0.1", port: int = 0, weight: float = 1.0, read_timeout_s: float = 8.0,
                 limit_concurrency: int | None = 256, tls: tuple[Path, Path] | None = None) -> None:
        self.id = oca_id
        self.name = name
        self.media_root = Path(media_root).resolve()
        self.secret = secret
        self.clock = clock
        self.weight = weight
        self.faults = FaultSpec()
        self.counters = Counters()
        self.error_ratio = 0.0
        self.active = 0
        self._rng = random.Random(0)
        self._link: Link | None = None
        self._stopping = asyncio.Event()
        # Its own listener, so its own connection and concurrency limits: an API flood cannot use them up.
        self.scheme = "https" if tls else "http"
        self.listener = Listener(self.app, host, port, name=oca_id, read_timeout_s=read_timeout_s,
                                 limit_concurrency=limit_concurrency, tls=tls)

    # -- control -------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def down(self) -> bool:
        """Set down by fault injection (what the control plane knows; ranking uses it)."""
        return self.faults.down

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        await self.listener.start()

    async def stop(self) -> None:
        self._stopping.set()
        await self.listener.stop(abort=True)

    async def set_faults(self, spec: FaultSpec) -> None:
        self.faults = spec
        self._rng = random.Random(spec.seed)
        self._link = Link(Rate(self.clock.monotonic(), spec.throughput_kbps, spec.trace)) if spec.shapes() else None
        if spec.down and self.listener.listening:
            await self.stop()
        elif not spec.down and not self.listener.listening:
            await self.start()
        log.info("faults set", extra={"fields": {"oca": self.id, "faults": spec.to_dict()}})

    def reset_counters(self) -> None:
        self.counters = Counters()
        self.error_ratio = 0.0

    def state(self) -> OcaState:
        return OcaState(self.id, self.weight, self.down, self.error_ratio, self.active)

    def to_json(self, host: str) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": f"{self.scheme}://{host}:{self.port}/", "port": self.port,
                "up": self.listener.listening, "weight": self.weight, "faults": self.faults.to_dict(),
                "counters": self.counters.to_json(), "active": self.active,
                "connections": self.listener.connections(), "error_ratio": round(self.error_ratio, 4)}

    # -- HTTP ----------------------------------------------------------------
    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.active += 1
        try:
            await self._handle(scope, receive, send)
        finally:
            self.active -= 1

    def _count(self, status: int) -> None:
        self.counters.status[str(status)] = self.counters.status.get(str(status), 0) + 1
        is_error = status >= 400
        if is_error:
            self.counters.errors += 1
        self.error_ratio = ewma(self.error_ratio, status >= 500)

    async def _json(self, send: Send, status: int, code: str, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self._count(status)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store"), *extra]})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.counters.requests += 1
        method = scope["method"]
        path: str = scope["path"]
        if path == "/health":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"15")]})
            await send({"type": "http.response.body", "body": b'{"status":"ok"}'})
            return
        if method not in ("GET", "HEAD"):
            await self._json(send, 405, "method_not_allowed", "only GET and HEAD", ((b"allow", b"GET, HEAD"),))
            return
        parts = path.split("/", 4)  # "", "c", token, mid, rest
        if len(parts) != 5 or parts[1] != "c" or not parts[4]:
            await self._json(send, 404, "not_found", "no such path; use /c/<token>/<media_id>/<file>")
            return
        _, _, token, media_id, rest = parts
        try:
            verify_oca_token(self.secret, token, media_id, self.clock.wall())
        except TokenError as exc:
            await self._json(send, 403, f"token_{exc.reason}", f"the segment token is {exc.reason}")
            return
        rel = safe_relative_path(rest)
        file = self._resolve(media_id, rel) if rel is not None else None
        if file is None:
            await self._json(send, 404, "not_found", "no such file")
            return
        plan = plan_request(self.faults, self._rng, f"{media_id}/{rel}")
        if plan.latency_s > 0:
            await self._sleep_or_stop(plan.latency_s)
        if plan.error_status is not None:
            self.counters.injected_errors += 1
            await self._json(send, plan.error_status, "injected_error", "fault injection: error status")
            return
        headers_in = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        size = file.stat().st_size
        try:
            rng = parse_range(headers_in.get("range"), size)
        except RangeNotSatisfiable:
            await self._json(send, 416, "range_not_satisfiable", f"the file has {size} bytes",
                             ((b"content-range", f"bytes */{size}".encode()),))
            return
        start, length = (rng.start, rng.length) if rng else (0, size)
        status = 206 if rng else 200
        headers = [(b"content-type", content_type(file.name).encode()), (b"content-length", str(length).encode()),
                   (b"accept-ranges", b"bytes"), (b"cache-control", b"public, max-age=3600"),
                   (b"access-control-allow-origin", b"*"), (b"x-oca-id", self.id.encode())]
        if rng:
            headers.append((b"content-range", f"bytes {rng.start}-{rng.end}/{size}".encode()))
        self._count(status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        completed = await self._stream(file, start, length, plan, receive, send)
        if not completed:
            self.counters.aborted += 1

    def _resolve(self, media_id: str, rel: str) -> Path | None:
        if safe_relative_path(media_id) is None or "/" in media_id:
            return None
        candidate = (self.media_root / media_id / rel).resolve()
        if not candidate.is_relative_to(self.media_root / media_id) or not candidate.is_file():
            return None
        return candidate

    async def _sleep_or_stop(self, seconds: float) -> bool:
        """Sleep; True if the OCA went down meanwhile."""
        if math.isinf(seconds):
            await self._stopping.wait()
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
            return True
        except asyncio.TimeoutError:
            return False

    async def _stream(self, file: Path, start: int, length: int, plan: RequestPlan, receive: Receive, send: Send) -> bool:
        """Send the body; False when it was cut short (truncate, stall, client gone, OCA down)."""
        gone = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        watcher = asyncio.create_task(watch())
        limit = length
        for cut in (plan.stall_after, plan.truncate_after):
            if cut is not None:
                limit = min(limit, cut)
        sent = 0
        link = self._link if plan.shaped else None
        continuing = False
        try:
            with file.open("rb") as fh:
                fh.seek(start)
                while sent < limit:
                    if gone.is_set() or self._stopping.is_set():
                        return False
                    want = min(limit - sent, link.chunk_size(self.clock.monotonic()) if link else READ_CHUNK)
                    chunk = fh.read(want)
                    if not chunk:
                        break
                    if plan.corrupt:
                        chunk = corrupt_chunk(chunk, start + sent)
                    if link is not None:
                        now = self.clock.monotonic()
                        due = link.reserve(now, len(chunk), continuing=continuing)
                        continuing = True
                        if due > now and await self._sleep_or_stop(due - now):
                            return False
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    sent += len(chunk)
                    self.counters.bytes += len(chunk)
            if sent >= length:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return True
            if plan.stall_after is not None and sent >= plan.stall_after and (
                    plan.truncate_after is None or plan.stall_after <= plan.truncate_after):
                # Stall: keep the connection open and send nothing until the client leaves or the OCA goes down.
                stopper = asyncio.create_task(self._stopping.wait())
                waiter = asyncio.create_task(gone.wait())
                await asyncio.wait({stopper, waiter}, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                waiter.cancel()
            # Truncate (or stalled and released): return without finishing; uvicorn closes the connection.
            return False
        finally:
            watcher.cancel()
