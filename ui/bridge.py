"""The one bridge between the views and the playback engine.

Intents go down as slots (``play``, ``toggle_pause``, ``seek`` ...); the
engine's snapshots and events, delivered on the engine's own thread, come back
up as Qt signals queued onto the UI thread. Views never call the engine
directly and never see its thread. The bridge keeps no domain logic beyond
clamping user input (seek past the end, volume outside 0..100).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from player.control import EventCallback, PlaybackControl, PlayRequest, SnapshotCallback
from player.events import PlaybackSnapshot, PlaybackState, PlayerEvent, TrackInfo, TracksKnown

log = logging.getLogger("marquee.ui.bridge")

# Returns ui.playback.EngineParts (the control, and what the video widget renders from).
EngineFactory = Callable[[SnapshotCallback, EventCallback], Any]


class PlaybackBridge(QObject):
    snapshot = Signal(object)  # PlaybackSnapshot, on the UI thread
    playerEvent = Signal(object)  # PlayerEvent, on the UI thread (not "event": that is QObject.event())
    stateChanged = Signal(str)  # PlaybackState value, only on change
    tracksChanged = Signal()

    _fromEngineSnapshot = Signal(object)
    _fromEngineEvent = Signal(object)

    def __init__(self, factory: EngineFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued: the engine calls back from its own thread.
        self._fromEngineSnapshot.connect(self._on_snapshot, Qt.ConnectionType.QueuedConnection)
        self._fromEngineEvent.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._last = PlaybackSnapshot()
        self._closed = False
        parts = factory(self._fromEngineSnapshot.emit, self._fromEngineEvent.emit)
        self._engine: PlaybackControl = getattr(parts, "control", None) or parts
        self.render_source = getattr(parts, "render_source", None)
        self.description = getattr(parts, "description", "")
        self._on_close = getattr(parts, "on_close", None)
        self.offline_mount = getattr(parts, "offline_mount", None)  # None: offline titles cannot play
        self.request: PlayRequest | None = None
        self._tracks: list[TrackInfo] = []

    @property
    def engine(self) -> PlaybackControl:
        return self._engine

    @property
    def last(self) -> PlaybackSnapshot:
        return self._last

    # ------------------------------------------------------------ intents
    def prepare(self) -> None:
        """Blocking (call it off the UI thread): let the engine create its HTTP client and
        mpv output now, so that pressing Play pays only for the playback itself."""
        prepare = getattr(self._engine, "prepare", None)
        if callable(prepare) and not self._closed:
            prepare()

    @Slot(object)
    def play(self, request: PlayRequest) -> None:
        self.request = request
        if self._tracks:
            self._tracks = []
            self.tracksChanged.emit()
        self._engine.play(request)

    @Slot()
    def retry(self) -> None:
        if self.request is None:
            return
        start = self._last.position_s if self._last.position_s > 0 else self.request.start_s
        req = self.request
        self.play(PlayRequest(**{**req.__dict__, "start_s": start}))

    @Slot()
    def toggle_pause(self) -> None:
        self._engine.toggle_pause()

    @Slot(float)
    def seek(self, position_s: float) -> None:
        dur = self._last.duration_s
        target = max(0.0, position_s if dur <= 0 else min(position_s, max(0.0, dur - 0.5)))
        self._engine.seek(target)

    @Slot(float)
    def seek_relative(self, delta_s: float) -> None:
        self.seek(self._last.position_s + delta_s)

    @Slot(int)
    def set_volume(self, volume: int) -> None:
        self._engine.set_volume(max(0, min(100, int(volume))))

    @Slot(bool)
    def set_muted(self, muted: bool) -> None:
        self._engine.set_muted(muted)

    @Slot(str)
    def set_audio_language(self, language: str) -> None:
        self._engine.set_audio_language(language)

    @Slot(object)
    def set_subtitle_language(self, language: str | None) -> None:
        self._engine.set_subtitle_language(language or None)

    @Slot(object)
    def set_quality_cap(self, rung: int | None) -> None:
        self._engine.set_quality_cap(rung)

    def tracks(self) -> list[TrackInfo]:
        """The tracks of the current playback, from the engine's ``tracks`` event (never a
        blocking call into the engine: empty until the manifest has been read)."""
        return list(self._tracks)

    @Slot()
    def stop(self) -> None:
        if not self._closed:
            self._engine.stop()

    def close(self) -> None:
        """Stop playback and stop relaying (the window is going away)."""
        if self._closed:
            return
        self._engine.stop()
        self._closed = True
        close = getattr(self._engine, "close", None)
        if callable(close):
            close()
        if self._on_close is not None:
            self._on_close()

    # ------------------------------------------------------------ engine -> UI
    @Slot(object)
    def _on_snapshot(self, snap: PlaybackSnapshot) -> None:
        if self._closed:
            return
        prev = self._last
        self._last = snap
        self.snapshot.emit(snap)
        if snap.state != prev.state:
            self.stateChanged.emit(PlaybackState(snap.state).value)
        if (snap.audio_language, snap.subtitle_language, snap.rung_count) != (
                prev.audio_language, prev.subtitle_language, prev.rung_count):
            self.tracksChanged.emit()

    @Slot(object)
    def _on_event(self, ev: PlayerEvent) -> None:
        if self._closed:
            return
        if isinstance(ev, TracksKnown):
            self._tracks = list(ev.tracks)
            self.tracksChanged.emit()
        self.playerEvent.emit(ev)

