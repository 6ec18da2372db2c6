"""The playback state machine and the session's running statistics (pure).

``PlaybackStateMachine`` only knows which transitions are legal; the session drives
it. ``SessionStats`` folds the event stream into the end-of-session summary, so the
CLI, telemetry and QA all compute startup time, stalls and average bitrate the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from player.events import (
    Failover,
    PlaybackError,
    PlaybackState,
    PlaybackSummary,
    PlayerEvent,
    SegmentFetched,
    StallEnd,
    StallStart,
    Startup,
    Switch,
)

S = PlaybackState

_ALLOWED: dict[PlaybackState, frozenset[PlaybackState]] = {
    S.IDLE: frozenset({S.LOADING}),
    S.LOADING: frozenset({S.BUFFERING, S.ERROR, S.IDLE}),
    S.BUFFERING: frozenset({S.PLAYING, S.PAUSED, S.SEEKING, S.ENDED, S.ERROR, S.IDLE}),
    S.PLAYING: frozenset({S.PAUSED, S.BUFFERING, S.SEEKING, S.ENDED, S.ERROR, S.IDLE}),
    S.PAUSED: frozenset({S.PLAYING, S.SEEKING, S.BUFFERING, S.ENDED, S.ERROR, S.IDLE}),
    S.SEEKING: frozenset({S.BUFFERING, S.PLAYING, S.PAUSED, S.ERROR, S.IDLE, S.SEEKING}),
    S.ENDED: frozenset({S.SEEKING, S.LOADING, S.IDLE}),
    S.ERROR: frozenset({S.LOADING, S.IDLE}),
}


class IllegalTransition(RuntimeError):
    pass


class PlaybackStateMachine:
    def __init__(self) -> None:
        self.state = S.IDLE

    def can(self, new: PlaybackState) -> bool:
        return new == self.state or new in _ALLOWED[self.state]

    def go(self, new: PlaybackState) -> bool:
        """Move to ``new``; returns whether the state changed. Illegal moves raise."""
        if new == self.state:
            return False
        if new not in _ALLOWED[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value}")
        self.state = new
        return True


@dataclass
class SessionStats:
    """Folds events into the numbers of a ``PlaybackSummary``."""

    start_s: float = 0.0
    startup_ms: float | None = None
    stall_count: int = 0
    stall_ms: float = 0.0
    switches: int = 0
    failovers: int = 0
    errors: list[str] = field(default_factory=list)
    # (content start, duration, kbps) of every segment handed to the decoder
    segments: list[tuple[float, float, float]] = field(default_factory=list)
    last_position_s: float = 0.0
    anchored: bool = False  # a position was seen since the start or the last seek
    furthest_position_s: float = 0.0
    played_s: float = 0.0
    fatal: bool = False
    decode_errors: int = 0  # mpv's decode error lines (player.decode_health)

    def on_event(self, event: PlayerEvent) -> None:
        if isinstance(event, Startup) and self.startup_ms is None:
            self.startup_ms = float(event.startup_ms)
        elif isinstance(event, StallStart):
            self.stall_count += 1
        elif isinstance(event, StallEnd):
            self.stall_ms += float(event.stall_ms)
        elif isinstance(event, Switch):
            self.switches += 1
        elif isinstance(event, Failover):
            self.failovers += 1
        elif isinstance(event, SegmentFetched) and event.media == "video":
            self.segments.append((float(event.start_s), float(event.duration_s), float(event.bitrate_kbps)))
        elif isinstance(event, PlaybackError):
            message = event.message
            if not event.recoverable:
                self.fatal = True
                self.errors.append(message)
            elif message and message not in self.errors and event.code != "all_ocas_down":
                self.errors.append(message)

    def on_position(self, position_s: float, playing: bool) -> None:
        """Accumulate content time actually played (not seeks, not pauses)."""
        if not self.anchored:
            # The first position after a start or seek only anchors: content may begin
            # later than the requested time (HLS TS streams start at 1.4 s, say).
            self.anchored = True
            self.last_position_s = position_s
            self.furthest_position_s = max(self.furthest_position_s, position_s)
            return
        delta = position_s - self.last_position_s
        if playing and 0 < delta < 2.0:  # larger jumps are seeks
            self.played_s += delta
        self.last_position_s = position_s
        self.furthest_position_s = max(self.furthest_position_s, position_s)

    def avg_bitrate_kbps(self) -> float:
        """Bitrate of the video handed to the decoder, weighted by segment duration,
        over the segments that start before the furthest position played."""
        relevant = [(d, kbps) for start, d, kbps in self.segments if start <= self.furthest_position_s] or [
            (d, kbps) for _, d, kbps in self.segments
        ]
        total = sum(d for d, _ in relevant)
        return sum(d * kbps for d, kbps in relevant) / total if total else 0.0

    def summary(self) -> PlaybackSummary:
        return PlaybackSummary(
            startup_ms=None if self.startup_ms is None else round(self.startup_ms, 1),
            start_s=round(self.start_s, 3),
            played_s=round(self.played_s, 3),
            stall_count=self.stall_count,
            stall_ms=round(self.stall_ms, 1),
            switches=self.switches,
            avg_bitrate_kbps=round(self.avg_bitrate_kbps(), 1),
            failovers=self.failovers,
            errors=list(self.errors),
            decode_errors=self.decode_errors,
            ok=not self.fatal and self.startup_ms is not None,
        )
