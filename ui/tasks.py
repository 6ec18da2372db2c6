"""Run blocking calls (service requests) off the UI thread.

``Tasks.run(fn, on_done, on_error)`` executes ``fn`` on a QThreadPool and
delivers the result (or the MarqueeError) back on the UI thread through a
queued signal. Results for an owner that has since been superseded (a newer
request with the same ``key``) are dropped, so a slow reply never overwrites a
newer one.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from marquee.errors import MarqueeError

log = logging.getLogger("marquee.ui.tasks")


class _Relay(QObject):
    finished = Signal(int, bool, object)  # ticket, ok, payload


class _Job(QRunnable):
    def __init__(self, relay: _Relay, ticket: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay, self._ticket, self._fn = relay, ticket, fn

    def run(self) -> None:
        try:
            result = self._fn()
            ok = True
        except MarqueeError as exc:
            result, ok = exc, False
        except Exception as exc:  # a bug below: report it as a value, never crash the UI thread
            log.exception("background task failed")
            result, ok = MarqueeError(f"unexpected error: {exc!r}", user_message="Something went wrong."), False
        self._relay.finished.emit(self._ticket, ok, result)


class Tasks(QObject):
    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self._next = 0
        self._pending: dict[int, tuple[Callable[[Any], None], Callable[[MarqueeError], None] | None, str | None]] = {}
        self._latest: dict[str, int] = {}

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[MarqueeError], None] | None = None, key: str | None = None) -> int:
        self._next += 1
        ticket = self._next
        self._pending[ticket] = (on_done, on_error, key)
        if key is not None:
            self._latest[key] = ticket
        self._pool.start(_Job(self._relay, ticket, fn))
        return ticket

    def pending(self) -> int:
        return len(self._pending)

    def wait_idle(self, msecs: int = 10_000) -> bool:
        return self._pool.waitForDone(msecs)

    @Slot(int, bool, object)
    def _finished(self, ticket: int, ok: bool, payload: Any) -> None:
        on_done, on_error, key = self._pending.pop(ticket, (None, None, None))
        if on_done is None:
            return
        if key is not None and self._latest.get(key) != ticket:
            return  # superseded
        if ok:
            on_done(payload)
        elif on_error is not None:
            on_error(payload)
        else:
            log.warning("background task failed: %s", getattr(payload, "message", payload))
