"""``ProgressSync``: records the playing position locally and keeps the service in step.

Attached to the engine as an observer (``begin`` / ``on_snapshot`` / ``on_event`` /
``end``): the engine-thread callbacks only run the pure ``ReportPolicy`` and post
what to record onto a queue; a worker thread writes SQLite and talks to the
service, so the engine never waits for disk or network.

Offline: reports stay in the outbox and are sent in order when the service answers
again (exponential backoff with jitter between attempts; ``flush()`` tries at once).
Each send measures the clock offset to the service (``server_time`` minus the
midpoint of the request) and later reports carry it (see ``service/progress.py``).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from typing import Any, Callable

from marquee.clock import Clock, SystemClock
from marquee.errors import MarqueeError, NetworkError
from player.events import Seek
from sync.policy import Mark, ReportPolicy
from sync.store import ContentKey, LocalStore
from marquee.backoff import Backoff, classify

log = logging.getLogger("marquee.sync")

# (profile_id, reports, sent_at) -> the service's answer ({"server_time", "results"})
Transport = Callable[[str, list[dict[str, Any]], float], dict[str, Any]]


def service_transport(client: Any) -> Transport:
    """A transport over ``marquee.api.ServiceClient`` (signed in)."""
    return lambda pid, reports, sent_at: client.report_progress(pid, reports, sent_at)


class ProgressSync:
    def __init__(self, transport: Transport | None, *, store: LocalStore | None = None, clock: Clock | None = None,
                 policy: ReportPolicy | None = None, backoff: Backoff = Backoff(base_s=1.0, cap_s=30.0),
                 rng: random.Random | None = None) -> None:
        self.transport = transport
        self.store = store or LocalStore()
        self.clock = clock or SystemClock()
        self.policy = policy or ReportPolicy()
        self.backoff = backoff
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._content: ContentKey | None = None
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._attempt = 0
        self._retry_at: float | None = None
        self.sent = 0
        self.rejected = 0
        self.last_error: str = ""
        self.store.recover()
        self._thread = threading.Thread(target=self._work, name="marquee-sync", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ observer API
    def begin(self, content: ContentKey | None) -> None:
        """A new playback (episode change included): the previous one is stopped first."""
        self.end()
        with self._lock:
            self._content = content
            self.policy.reset()

    def start(self, request: Any) -> Any:
        """Observer hook (``telemetry.observed``): a ``PlayRequest`` begins."""
        self.begin(content_key(request))
        return request

    def end(self) -> None:
        """Stop or quit: record and send the last position at once."""
        with self._lock:
            if self._content is not None:
                self._post(self.policy.stop(self.clock.monotonic()))
            self._content = None

    def on_snapshot(self, snap: Any) -> None:
        with self._lock:
            if self._content is not None:
                state = getattr(snap.state, "value", str(snap.state))
                self._post(self.policy.snapshot(self.clock.monotonic(), state, snap.position_s, snap.duration_s))

    def on_event(self, event: Any) -> None:
        if not isinstance(event, Seek):
            return
        with self._lock:
            if self._content is not None:
                self._post(self.policy.seek(self.clock.monotonic(), float(event.to_s)))

    def _post(self, mark: Mark | None) -> None:
        if mark is not None and self._content is not None:
            self._queue.put(("mark", self._content, mark, self.clock.wall()))

    # ------------------------------------------------------------ control
    def record_now(self, content: ContentKey, position_s: float, duration_s: float, state: str = "stopped",
                   send: bool = True) -> None:
        """Record a position directly (tools, tests, the title page's "Start over")."""
        self._queue.put(("mark", content, Mark(position_s, duration_s, state, send), self.clock.wall()))

    def flush(self, timeout: float = 10.0) -> bool:
        """Write what is queued and try to send the outbox now; True when it is empty."""
        done = threading.Event()
        result: list[bool] = []
        self._queue.put(("flush", done, result))
        return done.wait(timeout) and bool(result and result[0])

    def close(self, timeout: float = 5.0) -> None:
        self.end()
        self.flush(timeout)
        self._queue.put(("stop",))
        self._thread.join(timeout)
        self.store.close()

    # ------------------------------------------------------------ worker
    def _work(self) -> None:
        while True:
            wait = None
            if self._retry_at is not None:
                wait = max(0.0, self._retry_at - self.clock.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._send_outbox()
                continue
            try:
                if item[0] == "stop":
                    return
                if item[0] == "flush":
                    item[2].append(self._send_outbox(force=True))
                    item[1].set()
                elif item[0] == "mark":
                    _, content, mark, wall = item
                    self._record(content, mark, wall)
                    if mark.send:
                        self._send_outbox()
            except Exception as exc:  # the worker must survive; the error is logged with its reason
                log.error("position sync: %s", exc, exc_info=exc)
                if item[0] == "flush":
                    item[1].set()

    def _record(self, content: ContentKey, mark: Mark, wall: float) -> None:
        report: dict[str, Any] = {"title_id": content.title_id, "position_s": round(mark.position_s, 3),
                                  "duration_s": round(mark.duration_s, 3), "client_time": wall,
                                  "offset_s": self.store.offset_s(), "state": mark.state}
        if content.episode_id:
            report["episode_id"] = content.episode_id
        self.store.record(content, report, mark.send)

    def _send_outbox(self, force: bool = False) -> bool:
        if self.transport is None:
            return self.store.pending_count() == 0
        if not force and self._retry_at is not None and self.clock.monotonic() < self._retry_at:
            return False
        while True:
            pending = self.store.pending(200)
            if not pending:
                self._attempt, self._retry_at = 0, None
                return True
            profile = pending[0][1]
            run = [p for p in pending if p[1] == profile]
            run = run[: next((i for i, p in enumerate(pending) if p[1] != profile), len(pending))]
            if not self._send_run(profile, run):
                return False

    def _send_run(self, profile: str, run: list[tuple[int, str, dict[str, Any]]]) -> bool:
        assert self.transport is not None
        t0 = self.clock.wall()
        status: int | None
        try:
            answer = self.transport(profile, [r[2] for r in run], t0)
            status = 200
        except NetworkError as exc:
            status, answer, self.last_error = None, {}, exc.message
        except MarqueeError as exc:
            status, answer, self.last_error = int(getattr(exc, "status", 500)), {}, exc.message
        outcome = classify(status)
        if outcome == "retry":
            self._retry_at = self.clock.monotonic() + self.backoff.delay(self._attempt, self._rng)
            self._attempt += 1
            log.info("position sync: will retry (%s)", self.last_error)
            return False
        if outcome == "ack":
            t1 = self.clock.wall()
            server_time = answer.get("server_time")
            if isinstance(server_time, (int, float)):
                self.store.set_offset(float(server_time) - (t0 + t1) / 2)
            self.sent += len(run)
        else:
            self.rejected += len(run)
            log.warning("position sync: the service refused %d reports (%s); dropped", len(run), self.last_error)
        self.store.done([r[0] for r in run])
        return True


def content_key(request: Any) -> ContentKey | None:
    """The sync key of a ``PlayRequest`` (None for a bare manifest URL)."""
    content = getattr(request, "content", None)
    return ContentKey(content.profile_id, content.title_id, content.episode_id) if content is not None else None
