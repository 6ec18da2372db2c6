"""Segment fetcher: one httpx client, ranked OCAs, instant failover.

Every request goes to the best-ranked OCA. It fails over to the next one on a
refused or reset connection, DNS failure, HTTP 5xx, 404/410, a stall (no bytes
for a time derived from the expected download time) or a truncated body; a body
that arrived in part continues from the next OCA with a Range request. 401/403
first refreshes the signed URLs. When every OCA is benched it backs off with
jitter, asks the service for the OCAs' current URLs (when it can) and keeps trying:
playback resumes by itself when one returns, or comes back elsewhere.

All timing decisions come from ``player.retry`` and ``player.oca.ranking`` (pure);
this module only does the I/O and reports what happened.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable, Protocol
from urllib.parse import urljoin

import httpx

from marquee.clock import Clock
from player.events import Failover, PlaybackError, PlayerEvent
from player.fetch_errors import AttemptFailed, Failure
from player.net import RedirectRefused
from player.oca.ranking import OcaRanker
from player.retry import backoff_delay, stall_timeout_s
from player.stall import StallWatch

log = logging.getLogger("marquee.fetch")

READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchTarget:
    """One object to download. ``url`` is relative to an OCA base, or absolute."""

    url: str
    byte_range: tuple[int, int] | None = None  # inclusive, as in HTTP
    expected_bytes: int | None = None
    label: str = ""
    max_bytes: int | None = None  # more than this is refused (player.net.segment_cap); None: no cap


@dataclass(frozen=True)
class FetchProgress:
    nbytes: int
    elapsed_s: float
    ttfb_s: float | None
    oca: str


@dataclass(frozen=True)
class FetchResult:
    data: bytes
    oca: str
    seconds: float  # whole fetch, all attempts
    ttfb_s: float  # of the attempt that succeeded
    transfer_s: float  # of the attempt that succeeded, first byte to last
    attempts: int
    failovers: int


class FetchAbandoned(Exception):
    """The caller (the ABR controller) asked to drop this download."""


class Shaper(Protocol):
    async def pace(self, nbytes: int) -> None: ...


class _Body:
    """The bytes of one object received so far, across attempts (kept as chunks: one copy
    at the end instead of one per read)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)

    def clear(self) -> None:
        self.chunks.clear()
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def join(self) -> bytes:
        return b"".join(self.chunks)


@dataclass
class OcaPool:
    """OCA ids and their current base URLs (which change when signed tokens are refreshed)."""

    bases: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)

    def url(self, oca: str, relative: str) -> str:
        return urljoin(self.bases[oca], relative)


ProgressCallback = Callable[[FetchProgress], bool]  # returns True to abandon
RefreshCallback = Callable[[], Awaitable[dict[str, str]]]  # returns new bases by OCA id


class Fetcher:
    def __init__(
        self,
        client: httpx.AsyncClient,
        pool: OcaPool,
        ranker: OcaRanker,
        clock: Clock,
        emit: Callable[[PlayerEvent], None],
        *,
        rng: random.Random | None = None,
        shaper: Shaper | None = None,
        refresh: RefreshCallback | None = None,
        session_t0: float | None = None,
        extra_headers: Callable[[FetchTarget], dict[str, str]] | None = None,
        extra_query: Callable[[FetchTarget], str] | None = None,
    ) -> None:
        self.client = client
        self.pool = pool
        self.ranker = ranker
        self.clock = clock
        self.emit = emit
        self.rng = rng or random.Random()
        self.shaper = shaper
        self.refresh = refresh
        self.t0 = clock.monotonic() if session_t0 is None else session_t0
        self.extra_headers = extra_headers
        self.extra_query = extra_query  # e.g. CMCD as a query string
        self.throughput_hint_bps = 5_000_000.0  # updated by the engine from the ABR estimate
        self._bases_version = 0  # bumped by every refresh of the signed URLs
        self._refreshing: asyncio.Future[None] | None = None
        self.current: str | None = None  # the OCA that served the last object

    # -- public ---------------------------------------------------------------
    async def fetch(
        self,
        target: FetchTarget,
        *,
        on_progress: ProgressCallback | None = None,
        exclude: Iterable[str] = (),
    ) -> FetchResult:
        started = self.clock.monotonic()
        tried: set[str] = set(exclude)
        partial = _Body()
        failure: tuple[str, str, float] | None = None  # (oca, reason, since)
        attempts = failovers = backoff_round = 0
        refreshed = False
        while True:
            now = self.clock.monotonic()
            oca = self.ranker.best(now, exclude=tried, current=self.current)
            if oca is None:
                # Every OCA is benched (or already failed for this object): back off, then try
                # the least penalized one, which doubles as the probe that finds a recovered OCA.
                delay = backoff_delay(backoff_round, self.rng)
                backoff_round += 1
                self._emit(PlaybackError(
                    self._t(),
                    category="network",
                    code="all_ocas_down",
                    recoverable=True,
                    message=f"No server is answering; retrying in {delay:.1f} s",
                    retry_in_s=round(delay, 3),
                ))
                log.warning("all OCAs failing for %s; backing off %.2f s", target.label or target.url, delay)
                await self.clock.sleep(delay)
                if self.refresh is not None:
                    # The OCAs may have moved (a restarted service, an edge replaced): ask for the
                    # current URLs too. Fails quietly while the service itself is down.
                    await self._refresh()
                tried.clear()
                oca = self.ranker.least_penalized(self.clock.monotonic())
                self.ranker.record_probe(oca, self.clock.monotonic())
            attempts += 1
            version = self._bases_version
            activity = [self.clock.monotonic()] * 2  # [attempt start, last byte received]
            try:
                data, ttfb, transfer = await self._attempt(oca, target, partial, on_progress, failure, activity)
            except FetchAbandoned:
                raise
            except AttemptFailed as exc:
                if exc.failure is Failure.TOKEN_REJECTED and self.refresh and not refreshed:
                    refreshed = True
                    if self._bases_version == version:  # not refreshed meanwhile by another fetch
                        log.info("OCA %s refused the token (%s): refreshing signed URLs", oca, exc.reason)
                        await self._refresh()
                    continue
                now = self.clock.monotonic()
                if exc.penalize:
                    self.ranker.record_failure(oca, exc.reason, now, weight=exc.weight)
                tried.add(oca)
                if failure is None:
                    # The cost of a failover runs from the last sign of life of the failed OCA.
                    failure = (oca, exc.reason, activity[-1])
                log.warning("fetch %s from %s failed: %s", target.label or target.url, oca, exc.reason)
                continue
            if failure is not None:
                failovers += 1
            total = len(data)
            self.ranker.record_success(oca, total, max(transfer, 1e-6), ttfb, self.clock.monotonic())
            self.current = oca
            return FetchResult(
                data=data,
                oca=oca,
                seconds=self.clock.monotonic() - started,
                ttfb_s=ttfb,
                transfer_s=transfer,
                attempts=attempts,
                failovers=failovers,
            )

    # -- internals ------------------------------------------------------------
    async def _refresh(self) -> None:
        """Ask for fresh signed URLs; fetches refused at the same time share one request."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._refresh_once())
        await asyncio.shield(self._refreshing)

    async def _refresh_once(self) -> None:
        assert self.refresh is not None
        try:
            self.pool.bases.update(await self.refresh())
            self._bases_version += 1
        except Exception as exc:  # the refresh hook talks to the service: report, then fail over
            log.warning("refreshing signed URLs failed: %s", exc)

    def _stall_timeout(self, oca: str) -> float:
        stats = self.ranker.stats(oca)
        throughput = stats.throughput_bps or self.throughput_hint_bps
        latency = stats.latency_s if stats.latency_s is not None else 0.05
        return stall_timeout_s(READ_CHUNK * 8 / max(throughput, 1.0), latency)

    async def _attempt(
        self,
        oca: str,
        target: FetchTarget,
        partial: _Body,
        on_progress: ProgressCallback | None,
        failure: tuple[str, str, float] | None,
        activity: list[float],
    ) -> tuple[bytes, float, float]:
        url = self.pool.url(oca, target.url)
        query = self.extra_query(target) if self.extra_query else ""
        if query:
            url += ("&" if "?" in url else "?") + query
        headers = dict(self.extra_headers(target)) if self.extra_headers else {}
        first = (target.byte_range[0] if target.byte_range else 0) + len(partial)
        last = target.byte_range[1] if target.byte_range else None
        if target.byte_range or partial:
            headers["Range"] = f"bytes={first}-{'' if last is None else last}"
        stall = self._stall_timeout(oca)
        timeout = httpx.Timeout(connect=max(1.0, stall), read=stall, write=stall, pool=stall)
        start = activity[0]
        ttfb: float | None = None
        first_byte_at = start
        watch = StallWatch(self.clock, stall, activity)
        try:
            async with self.client.stream("GET", url, headers=headers, timeout=timeout) as response:
                # The response's first bytes are its status line and headers: time to first
                # byte ends here, not at the first body chunk (a body read may return up to a whole
                # socket read, which made small segments look instantaneous to the ABR estimator).
                headers_at = self.clock.monotonic()
                watch.head_received(headers_at)
                status = response.status_code
                if status in (401, 403):
                    raise AttemptFailed(Failure.TOKEN_REJECTED, f"http {status}", status=status, penalize=False)
                if status in (404, 410):
                    raise AttemptFailed(Failure.MISSING, f"http {status}: this server does not have the object", status=status)
                if status >= 500:
                    raise AttemptFailed(Failure.SERVER, f"http {status}", status=status)
                if status == 416:
                    raise AttemptFailed(Failure.HTTP, "http 416: range not satisfiable", status=status)
                if status >= 400:
                    raise AttemptFailed(Failure.HTTP, f"http {status}", status=status)
                if partial and status == 200:
                    partial.clear()  # the server ignored our Range: start over from byte 0
                declared = response.headers.get("content-length")
                expected = int(declared) if declared and declared.isdigit() else None
                cap = target.max_bytes
                if cap is not None and expected is not None and len(partial) + expected > cap:
                    raise AttemptFailed(Failure.TOO_LARGE, f"too large: {expected} bytes, at most {cap} expected")
                received = 0
                async for chunk in response.aiter_raw():  # as the socket delivers: no re-chunking copy
                    if ttfb is None:
                        first_byte_at = headers_at
                        ttfb = first_byte_at - start
                        self._note_failover(failure, oca, self.clock.monotonic())
                    partial.add(chunk)
                    received += len(chunk)
                    if cap is not None and len(partial) > cap:
                        partial.clear()
                        raise AttemptFailed(Failure.TOO_LARGE, f"too large: over {cap} bytes")
                    activity[1] = self.clock.monotonic()
                    if self.shaper is not None:
                        await self.shaper.pace(len(chunk))
                        watch.paced_at = self.clock.monotonic()  # our own pacing is not a stall
                    if on_progress is not None and on_progress(
                        FetchProgress(len(partial), self.clock.monotonic() - start, ttfb, oca)
                    ):
                        raise FetchAbandoned(target.label or target.url)
                if expected is not None and received != expected:
                    raise AttemptFailed(Failure.TRUNCATED, f"truncated body: {received} of {expected} bytes")
        except RedirectRefused as exc:
            raise AttemptFailed(Failure.REDIRECT, str(exc)) from exc
        except httpx.ConnectError as exc:
            raise AttemptFailed(Failure.REFUSED, f"connection failed: {_describe(exc)}") from exc
        except (httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout) as exc:
            raise AttemptFailed(Failure.STALLED, f"stalled: no data for {stall:.2f} s") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise AttemptFailed(Failure.BROKEN, f"connection broken: {_describe(exc)}") from exc
        except httpx.HTTPError as exc:
            raise AttemptFailed(Failure.OTHER, f"request failed: {_describe(exc)}") from exc
        except asyncio.CancelledError:
            if not watch.fired:
                raise
            watch.absorb()
            raise AttemptFailed(Failure.STALLED, f"stalled: no data for {stall:.2f} s") from None
        finally:
            watch.stop()
        end = self.clock.monotonic()
        if ttfb is None:  # empty body
            ttfb = end - start
            self._note_failover(failure, oca, end)
        if target.expected_bytes is not None and len(partial) != target.expected_bytes:
            got = len(partial)
            partial.clear()
            raise AttemptFailed(Failure.WRONG_SIZE, f"wrong size: {got} bytes, expected {target.expected_bytes}")
        return partial.join(), ttfb, end - first_byte_at

    def _note_failover(self, failure: tuple[str, str, float] | None, oca: str, at: float) -> None:
        if failure is None:
            return
        from_oca, reason, since = failure
        cost_ms = (at - since) * 1000.0
        log.warning("failover %s -> %s (%s), cost %.0f ms", from_oca, oca, reason, cost_ms)
        self._emit(Failover(self._t(), from_oca=from_oca, to_oca=oca, reason=reason, cost_ms=round(cost_ms, 1)))

    def _t(self) -> float:
        return self.clock.monotonic() - self.t0

    def _emit(self, event: PlayerEvent) -> None:
        self.emit(event)


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__

