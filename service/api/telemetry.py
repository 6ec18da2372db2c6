"""QoE collector and dashboard.

- ``POST /v1/telemetry/batches`` (no auth: batches carry pseudonymous ids only) stores a
  gzip JSON batch once per ``batch_id`` (a retry answers ``{"stored": false}``).
- ``GET /v1/telemetry/summary?since=YYYY-MM-DD&until=`` QoE per OCA, title and day (JSON).
- ``GET /v1/telemetry/dashboard`` the same as an HTML page with plots.
- ``PUT|DELETE|GET /v1/admin/telemetry/faults`` (admin, loopback): make the collector answer
  ``status`` without storing, wait ``delay_ms`` first, or store and then answer
  ``status_after_store`` (a lost acknowledgement), for tests of the client's retries.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from contract import to_builtins
from contract.telemetry import BatchReceipt
from service.api.admin import _guard
from service.api.common import ApiError, error_response, json_body, read_body, runtime
from service.rate import TokenBuckets
from service.store import Store
from service.telemetry_store import (MAX_COMPRESSED, MAX_DECOMPRESSED, BatchError, dashboard_html, decode_body,
                                     fold_sessions, ingest, summary_json)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class CollectorFaults:
    status: int | None = None
    delay_ms: int = 0
    status_after_store: int | None = None


@dataclass
class CollectorCounters:
    requests: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    faulted: int = 0


@dataclass
class CollectorCache:
    """Summaries and dashboard pages by (since, until, batches stored): a view costs one computation
    per new batch at most, whatever the number of viewers; computed in a worker thread, one at a time."""
    summaries: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    pages: dict[tuple[Any, ...], str] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    limits: TokenBuckets = field(default_factory=lambda: TokenBuckets(BATCHES_PER_S, BATCH_BURST))


BATCHES_PER_S = 20.0  # per client address; a client sends a batch every few seconds
BATCH_BURST = 300.0
CACHE_ENTRIES = 16


def _state(request: Request) -> tuple[CollectorFaults, CollectorCounters]:
    state = request.app.state
    if not hasattr(state, "telemetry_faults"):
        state.telemetry_faults = CollectorFaults()
        state.telemetry_counters = CollectorCounters()
        state.telemetry_cache = CollectorCache()
    return state.telemetry_faults, state.telemetry_counters


def _cache(request: Request) -> CollectorCache:
    _state(request)
    cache: CollectorCache = request.app.state.telemetry_cache
    return cache


async def post_batch(request: Request) -> Response:
    faults, counters = _state(request)
    counters.requests += 1
    address = request.client.host if request.client else ""
    wait = _cache(request).limits.take(address, runtime(request).clock.monotonic())
    if wait > 0:
        counters.rejected += 1
        return error_response(429, "too_many_batches", "this client sends batches too fast; retry later",
                              {"Retry-After": str(math.ceil(wait))})
    raw = await read_body(request, MAX_COMPRESSED, inflated_limit=MAX_DECOMPRESSED)
    if faults.delay_ms:
        await asyncio.sleep(faults.delay_ms / 1000)
    if faults.status is not None:
        counters.faulted += 1
        return error_response(faults.status, "fault_injected", "the collector is failing on purpose (admin fault)")
    rt = runtime(request)
    try:  # parsing and checking 2,000 events takes a while: off the loop the OCAs share
        doc, stored = await asyncio.to_thread(_decode_and_store, rt.store, raw, rt.clock.wall())
    except BatchError as exc:
        counters.rejected += 1
        return error_response(exc.status, exc.code, exc.message)
    if stored:
        counters.stored += 1
    else:
        counters.duplicates += 1
    if faults.status_after_store is not None:
        counters.faulted += 1
        return error_response(faults.status_after_store, "fault_injected", "stored, but the answer is lost (fault)")
    return JSONResponse(to_builtins(BatchReceipt(batch_id=doc["batch_id"], stored=stored, events=len(doc["events"]))))


def _decode_and_store(store: Store, raw: bytes, now: float) -> tuple[dict[str, Any], bool]:
    doc = decode_body(raw)
    return doc, ingest(store, doc, now)


async def _render(request: Request, summary: dict[str, Any]) -> str:
    """The dashboard page, drawn by matplotlib in a worker process: drawing holds the GIL for
    whole plots, which in a thread of this process delays /health and the OCAs."""
    rt = runtime(request)
    if rt.dashboard_pool is None:
        rt.dashboard_pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(rt.dashboard_pool, dashboard_html, summary)
    except BrokenProcessPool:  # the worker died (killed, out of memory): a new one next time, a thread now
        rt.dashboard_pool = None
        return await asyncio.to_thread(dashboard_html, summary)


def _compute_summary(store: Store, since: str | None, until: str | None) -> dict[str, Any]:
    return summary_json(fold_sessions(store.telemetry_events(since, until)), store.telemetry_counts())


async def _summary(request: Request) -> tuple[tuple[Any, ...], dict[str, Any]]:
    since = request.query_params.get("since") or None
    until = request.query_params.get("until") or None
    for value in (since, until):
        if value is not None and not _DAY.match(value):
            raise ApiError(400, "invalid_query", "'since' and 'until' are dates like 2026-01-31")
    store, cache = runtime(request).store, _cache(request)
    key = (since, until, store.telemetry_counts()["batches"])
    async with cache.lock:
        if key not in cache.summaries:
            _bounded(cache.summaries)
            cache.summaries[key] = await asyncio.to_thread(_compute_summary, store, since, until)
    return key, cache.summaries[key]


def _bounded(entries: dict[Any, Any]) -> None:
    while len(entries) >= CACHE_ENTRIES:
        entries.pop(next(iter(entries)))


async def get_summary(request: Request) -> JSONResponse:
    return JSONResponse((await _summary(request))[1])


async def get_dashboard(request: Request) -> HTMLResponse:
    key, summary = await _summary(request)
    cache = _cache(request)
    async with cache.lock:
        if key not in cache.pages:
            _bounded(cache.pages)
            cache.pages[key] = await _render(request, summary)
    return HTMLResponse(cache.pages[key])


async def get_faults(request: Request) -> JSONResponse:
    _guard(request)
    faults, counters = _state(request)
    return JSONResponse({"faults": asdict(faults), "counters": asdict(counters),
                         "store": runtime(request).store.telemetry_counts()})


def _status(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise ApiError(400, "invalid_fault", f"'{key}' must be an HTTP error status (400..599)")
    return int(value)


async def put_faults(request: Request) -> JSONResponse:
    _guard(request)
    body = await json_body(request)
    unknown = set(body) - {"status", "delay_ms", "status_after_store"}
    if unknown:
        raise ApiError(400, "invalid_fault", f"unknown fault fields: {', '.join(sorted(unknown))}")
    delay = body.get("delay_ms", 0)
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 60_000:
        raise ApiError(400, "invalid_fault", "'delay_ms' must be an integer 0..60000")
    faults, counters = _state(request)
    faults.status, faults.delay_ms = _status(body, "status"), delay
    faults.status_after_store = _status(body, "status_after_store")
    return JSONResponse({"faults": asdict(faults), "counters": asdict(counters)})


async def delete_faults(request: Request) -> JSONResponse:
    _guard(request)
    faults, counters = _state(request)
    faults.status, faults.delay_ms, faults.status_after_store = None, 0, None
    return JSONResponse({"faults": asdict(faults), "counters": asdict(counters)})


def routes() -> list[Route]:
    return [Route("/v1/telemetry/batches", post_batch, methods=["POST"]),
            Route("/v1/telemetry/summary", get_summary, methods=["GET"]),
            Route("/v1/telemetry/dashboard", get_dashboard, methods=["GET"]),
            Route("/v1/admin/telemetry/faults", get_faults, methods=["GET"]),
            Route("/v1/admin/telemetry/faults", put_faults, methods=["PUT"]),
            Route("/v1/admin/telemetry/faults", delete_faults, methods=["DELETE"])]
