"""Attach position sync and telemetry to an engine: ``ObservedEngine``.

Observers have ``start(request) -> request`` (may add CMCD hooks), ``on_snapshot``,
``on_event`` (engine thread, quick) and ``end()``. The wrapper registers them with
``engine.add_listener`` and tells them when a playback starts (``play``) and ends
(``stop``, the next ``play``, ``close``); every other call goes to the engine as is.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Protocol, Sequence

log = logging.getLogger("marquee.telemetry")


class Observer(Protocol):
    def start(self, request: Any) -> Any: ...
    def on_snapshot(self, snap: Any) -> None: ...
    def on_event(self, event: Any) -> None: ...
    def end(self) -> None: ...


class ObservedEngine:
    def __init__(self, engine: Any, observers: Sequence[Observer],
                 on_close: Callable[[], None] | None = None,
                 progress_flush: Callable[[float], bool] | None = None) -> None:
        self._engine = engine
        self.observers = list(observers)
        self._on_close = on_close
        self._progress_flush = progress_flush
        for o in self.observers:
            engine.add_listener(o.on_snapshot, o.on_event)

    def play(self, request: Any) -> None:
        for o in self.observers:
            try:
                o.end()
                request = o.start(request)
            except Exception as exc:  # an observer must never stop playback
                log.error("observer %s failed to start: %s", type(o).__name__, exc, exc_info=exc)
        self._engine.play(request)

    def _end(self) -> None:
        for o in self.observers:
            try:
                o.end()
            except Exception as exc:
                log.error("observer %s failed to end: %s", type(o).__name__, exc, exc_info=exc)

    def stop(self) -> None:
        self._engine.stop()
        self._end()

    @property
    def syncs_progress(self) -> bool:
        """A position sync records and sends the positions (the app need not report them)."""
        return self._progress_flush is not None

    def flush_progress(self, timeout: float = 3.0) -> bool:
        """Wait (at most ``timeout``) until the positions recorded so far, the last one at
        ``stop`` included, have reached the service: a page that shows the resume point can
        then ask for it. True when nothing is left to send."""
        return self._progress_flush(timeout) if self._progress_flush is not None else True

    def close(self) -> None:
        self._end()
        self._engine.close()
        if self._on_close is not None:
            self._on_close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
