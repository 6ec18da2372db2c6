"""``Telemetry``: record events durably, upload them in gzip batches, retry with backoff.

Two worker threads: the *writer* commits what ``record`` queued in memory (group
commit: one transaction for everything waiting), the *uploader* sends batches
when ``BatchPolicy`` says so (512 events or 5 s, and on ``flush``/``close``) and
applies ``classify``: ack, reject (4xx: dropped and counted, the queue moves on) or
retry after ``Backoff`` (exponential, full jitter). ``record`` never blocks the caller
(the engine thread); ``record_durable`` returns only after the commit.

Opt-out: ``opt_out()`` (or constructing with ``enabled=False``) stops both threads
and deletes the queue's files.
"""

from __future__ import annotations

import gzip
import json
import logging
import queue
import random
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from marquee.clock import Clock, SystemClock
from telemetry.identity import installation_id as load_installation_id
from marquee.backoff import Backoff, classify
from telemetry.policy import BatchPolicy
from telemetry.queue import DurableQueue, QueueStats, default_path, delete_queue
from telemetry.schema import SCHEMA_VERSION

log = logging.getLogger("marquee.telemetry")

APP = "marquee/0.1"
# (gzip body) -> HTTP status, or None when there was no answer (network error, timeout)
Upload = Callable[[bytes], "int | None"]


def http_upload(base_url: str, timeout: float = 10.0) -> Upload:
    """POST batches to ``<base_url>/v1/telemetry/batches`` (no credentials, no cookies)."""
    import httpx

    from marquee.tls import ssl_context

    client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
                          headers={"User-Agent": APP}, verify=ssl_context())
    url = base_url.rstrip("/") + "/v1/telemetry/batches"

    def upload(body: bytes) -> int | None:
        try:
            response = client.post(url, content=body, headers={"Content-Type": "application/json",
                                                               "Content-Encoding": "gzip"})
            return response.status_code
        except httpx.HTTPError as exc:
            log.info("telemetry upload failed: %s", type(exc).__name__)
            return None

    return upload


class Telemetry:
    def __init__(self, upload: Upload | None, *, path: Path | str | None = None, clock: Clock | None = None,
                 policy: BatchPolicy = BatchPolicy(), backoff: Backoff = Backoff(),
                 rng: random.Random | None = None, installation_id: str | None = None,
                 enabled: bool = True) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.enabled = enabled
        self.upload = upload
        self.clock = clock or SystemClock()
        self.policy = policy
        self.backoff = backoff
        self._rng = rng or random.Random()
        self.uploaded_batches = 0
        self.uploaded_events = 0
        self.failures = 0
        if not enabled:
            delete_queue(self.path)
            return
        self.installation_id = installation_id or load_installation_id()
        self.queue = DurableQueue(self.path, max_events=policy.max_queue_events, max_age_s=policy.max_queue_age_s)
        self._pending: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._urgent = threading.Event()  # flush/close: send even a small batch now
        self._idle = threading.Condition()
        self._written = 0
        self._queued = 0
        self._writer = threading.Thread(target=self._write_loop, name="marquee-telemetry-writer", daemon=True)
        self._uploader = threading.Thread(target=self._upload_loop, name="marquee-telemetry-upload", daemon=True)
        self._writer.start()
        if upload is not None:
            self._uploader.start()

    # ---------------------------------------------------------------- record
    def record(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (a schema event dict) for the writer; never blocks."""
        if not self.enabled:
            return
        with self._idle:
            self._queued += 1
        self._pending.put(event)

    def record_durable(self, events: Sequence[dict[str, Any]]) -> None:
        """Commit ``events`` now, on the caller's thread (tools, tests, benchmarks)."""
        if self.enabled:
            self.queue.append(events, self.clock.wall())
            self._wake.set()

    def _write_loop(self) -> None:
        while True:
            item = self._pending.get()
            batch = [item]
            while len(batch) < 5000:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            stop = any(e is None for e in batch)
            events = [e for e in batch if e is not None]
            try:
                if events:
                    self.queue.append(events, self.clock.wall())
            except Exception as exc:  # a full disk must not take the player down; it is logged
                log.error("telemetry: %d events not recorded: %s", len(events), exc)
            with self._idle:
                self._written += len(events)
                self._idle.notify_all()
            if len(events) >= self.policy.max_events or self._urgent.is_set():
                self._wake.set()
            if stop:
                return

    def wait_written(self, timeout: float = 10.0) -> bool:
        """Wait until everything ``record``ed so far is committed."""
        with self._idle:
            return self._idle.wait_for(lambda: self._written >= self._queued, timeout)

    # ---------------------------------------------------------------- upload
    def envelope(self, batch_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        dropped, rejected = self.queue.counters()
        return {"schema": SCHEMA_VERSION, "batch_id": batch_id, "installation_id": self.installation_id,
                "sent_at": round(self.clock.wall(), 3), "app": APP, "dropped_total": dropped,
                "rejected_total": rejected, "events": events}

    def _upload_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            stats = self.queue.stats()
            age = None if stats.oldest_created is None else self.clock.wall() - stats.oldest_created
            if not (stats.open_batches or self.policy.due(stats.waiting, age, self._urgent.is_set())):
                self._wake.wait(0.25 if stats.waiting else 1.0)
                self._wake.clear()
                continue
            outcome = self.upload_one()
            if outcome == "retry":
                self.failures += 1
                delay = self.backoff.delay(attempt, self._rng)
                attempt += 1
                self._stop.wait(delay)
            elif outcome is not None:
                attempt = 0

    def upload_one(self) -> str | None:
        """Send the next batch once: ``ack``, ``reject``, ``retry`` or None (nothing to send)."""
        assert self.upload is not None
        batch = self.queue.next_batch(self.policy.max_events, self.clock.wall())
        if batch is None:
            return None
        body = gzip.compress(json.dumps(self.envelope(batch.batch_id, batch.events),
                                        separators=(",", ":")).encode(), compresslevel=5)
        outcome = classify(self.upload(body))
        if outcome == "ack":
            self.queue.ack(batch.batch_id)
            self.uploaded_batches += 1
            self.uploaded_events += len(batch.events)
        elif outcome == "reject":
            n = self.queue.reject(batch.batch_id)
            log.warning("telemetry: the collector refused batch %s (%d events); dropped", batch.batch_id, n)
        return outcome

    def flush(self, timeout: float = 10.0) -> bool:
        """Commit what is recorded and upload everything now; True when the queue is empty."""
        if not self.enabled:
            return True
        deadline = self.clock.monotonic() + timeout
        self.wait_written(timeout)
        self._urgent.set()
        self._wake.set()
        try:
            while self.clock.monotonic() < deadline:
                if self.queue.stats().waiting == 0:
                    return True
                threading.Event().wait(0.05)
            return False
        finally:
            self._urgent.clear()

    def stats(self) -> QueueStats | None:
        return self.queue.stats() if self.enabled else None

    def close(self, timeout: float = 5.0) -> None:
        """On quit: commit, try one last upload (bounded), stop. What is left stays queued."""
        if not self.enabled:
            return
        if self.upload is not None:
            self.flush(timeout)
        self._shutdown()

    def _shutdown(self) -> None:
        self._pending.put(None)
        self._writer.join(5)
        self._stop.set()
        self._wake.set()
        if self._uploader.is_alive():
            self._uploader.join(15)
        self.queue.close()

    def opt_out(self) -> None:
        """Stop collecting and delete the queue (the user turned telemetry off)."""
        if self.enabled:
            self._shutdown()
            self.enabled = False
        delete_queue(self.path)
