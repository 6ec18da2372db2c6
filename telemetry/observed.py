"""Attach position sync and telemetry to an engine: ``ObservedEngine``.

Observers have ``start(request) -> request`` (may add CMCD hooks), ``on_snapshot``,
``on_event`` (engine thread, quick) and ``end()``. The wrapper registers them with
``engine.add_listener`` and tells them when a playback starts (``play``) and ends
(``stop``, the next ``play``, ``close``); every other call goes to the engine as is,
each one written out, so the wrapper is a ``PlaybackControl`` mypy can check.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Protocol, Sequence

from player.control import EventCallback, PlaybackControl, SnapshotCallback
from player.events import PlaybackSnapshot, PlaybackSummary, TrackInfo

log = logging.getLogger("marquee.telemetry")


class Observer(Protocol):
    def start(self, request: Any) -> Any: ...
    def on_snapshot(self, snap: Any) -> None: ...
    def on_event(self, event: Any) -> None: ...
    def end(self) -> None: ...


class ObservableEngine(PlaybackControl, Protocol):
    """What the wrapper needs beyond the intents (``player.engine.PlaybackEngine``)."""

    def add_listener(self, on_snapshot: SnapshotCallback | None = None,
                     on_event: EventCallback | None = None) -> None: ...
    def prepare(self) -> None: ...
    def wait(self, timeout: float | None = None) -> PlaybackSummary | None: ...
    def summary(self) -> PlaybackSummary | None: ...
    def close(self) -> None: ...


class ObservedEngine:
    def __init__(self, engine: ObservableEngine, observers: Sequence[Observer],
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

    # ---------------------------------------------------- the engine, as is
    def prepare(self) -> None:
        self._engine.prepare()

    def pause(self) -> None:
        self._engine.pause()

    def resume(self) -> None:
        self._engine.resume()

    def toggle_pause(self) -> None:
        self._engine.toggle_pause()

    def seek(self, position_s: float) -> None:
        self._engine.seek(position_s)

    def set_volume(self, volume: int) -> None:
        self._engine.set_volume(volume)

    def set_muted(self, muted: bool) -> None:
        self._engine.set_muted(muted)

    def set_audio_language(self, language: str) -> None:
        self._engine.set_audio_language(language)

    def set_subtitle_language(self, language: str | None) -> None:
        self._engine.set_subtitle_language(language)

    def set_quality_cap(self, rung: int | None) -> None:
        self._engine.set_quality_cap(rung)

    def tracks(self) -> list[TrackInfo]:
        return self._engine.tracks()

    def snapshot(self) -> PlaybackSnapshot:
        return self._engine.snapshot()

    def add_listener(self, on_snapshot: SnapshotCallback | None = None,
                     on_event: EventCallback | None = None) -> None:
        self._engine.add_listener(on_snapshot, on_event)

    def wait(self, timeout: float | None = None) -> PlaybackSummary | None:
        return self._engine.wait(timeout)

    def summary(self) -> PlaybackSummary | None:
        return self._engine.summary()
