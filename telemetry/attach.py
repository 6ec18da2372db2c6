"""One call that gives an engine position sync and QoE telemetry (``marquee play``, the app).

    engine = attach(PlaybackEngine(...), service_url=url, telemetry_enabled=settings["privacy.telemetry"])

Sync talks to the service as the signed-in device (``marquee.api.ServiceClient``,
signed in lazily on the sync worker); telemetry uploads pseudonymous batches to the
service's collector. With telemetry off the queue is deleted and nothing is recorded
(CMCD is off too: it is measurement data).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from marquee.api import ServiceClient
from marquee.errors import StorageError
from sync.client import ProgressSync, Transport
from telemetry.client import Telemetry, http_upload
from telemetry.observed import ObservedEngine, Observer
from telemetry.playback import PlaybackTelemetry
from telemetry.queue import delete_queue

log = logging.getLogger("marquee.telemetry")


def lazy_transport(service_url: str, client: ServiceClient | None = None) -> Transport:
    """A sync transport that signs in (demo account) on first use, on the sync worker thread."""
    lock = threading.Lock()
    holder: dict[str, ServiceClient] = {}
    if client is not None:
        holder["c"] = client

    def send(pid: str, reports: list[dict[str, Any]], sent_at: float) -> dict[str, Any]:
        with lock:
            if "c" not in holder:
                holder["c"] = ServiceClient(service_url, device_name="Marquee position sync")
            c = holder["c"]
            if c.session is None:
                c.login()
        return c.report_progress(pid, reports, sent_at)

    return send


def attach(engine: Any, *, service_url: str | None, telemetry_enabled: bool, client: ServiceClient | None = None,
           cmcd: str = "headers", network: str = "", sync_enabled: bool = True) -> ObservedEngine:
    observers: list[Observer] = []
    closers: list[Any] = []
    progress_flush = None
    if sync_enabled and service_url:
        sync = ProgressSync(lazy_transport(service_url, client))
        observers.append(sync)
        closers.append(sync.close)
        progress_flush = sync.flush
    tele = None
    if telemetry_enabled and service_url:
        try:
            tele = Telemetry(http_upload(service_url))
        except (StorageError, OSError) as exc:  # a full disk: streaming needs no disk, so play without telemetry
            log.warning("telemetry off for this playback: %s", exc)
    if tele is not None:
        observers.append(PlaybackTelemetry(tele.record, cmcd=cmcd, network=network))
        closers.append(tele.close)
    elif not telemetry_enabled:
        delete_queue()

    def close() -> None:
        for fn in closers:
            try:
                fn()
            except Exception as exc:  # quitting must not fail on telemetry
                log.warning("closing sync/telemetry: %s", exc)

    return ObservedEngine(engine, observers, on_close=close, progress_flush=progress_flush)


def send_pending(service_url: str, client: ServiceClient | None = None, timeout: float = 3.0) -> bool:
    """Send positions recorded but never sent (a crash, an offline quit) before asking for a
    resume point. Returns whether nothing is left."""
    sync = ProgressSync(lazy_transport(service_url, client))
    try:
        if sync.store.pending_count() == 0:
            return True
        return sync.flush(timeout)
    finally:
        sync.close(1.0)
