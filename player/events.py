"""What the engine tells the world: immutable snapshots and events.

The playback session publishes these to one callback; the UI bridge turns them
into Qt signals, telemetry records them, QA writes them to JSONL. They are plain
frozen dataclasses so every consumer can be tested without the engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class PlaybackState(str, Enum):
    IDLE = "idle"
    LOADING = "loading"  # playback API, manifest, OCA probe
    BUFFERING = "buffering"  # waiting for media (startup or stall)
    PLAYING = "playing"
    PAUSED = "paused"
    SEEKING = "seeking"
    ENDED = "ended"
    ERROR = "error"


@dataclass(frozen=True)
class PlaybackSnapshot:
    """The whole observable state at one moment (published a few times a second)."""

    state: PlaybackState = PlaybackState.IDLE
    title: str = ""
    position_s: float = 0.0
    duration_s: float = 0.0
    buffer_s: float = 0.0  # media fetched ahead of the playhead
    buffered_until_s: float = 0.0  # absolute media time fetched so far
    rung: int = -1  # index in the video ladder, -1 before the first choice
    rung_count: int = 0
    bitrate_kbps: float = 0.0
    resolution: tuple[int, int] = (0, 0)
    throughput_kbps: float = 0.0  # the ABR estimator's current estimate
    oca: str = ""  # the OCA that served the last segment
    dropped_frames: int = 0
    paused: bool = False
    volume: int = 100
    muted: bool = False
    audio_language: str = ""
    subtitle_language: str = ""  # "" = off
    quality_cap: int | None = None  # fixed rung chosen by the user, None = Auto
    last_switch_reason: str = ""
    last_failover: str = ""
    message: str = ""  # plain-words status for buffering / error states


@dataclass(frozen=True)
class PlayerEvent:
    """One thing that happened. ``kind`` is one of:

    startup (startup_ms), stall_start, stall_end (stall_ms), switch (from_rung, to_rung,
    from_kbps, to_kbps, reason), segment (index, rung, bytes, seconds, ttfb_s, oca,
    throughput_kbps), failover (from_oca, to_oca, reason, cost_ms), decision (the ABR
    decision and its reason), error (category, code, message, recoverable), state
    (state), seek (from_s, to_s), ended.
    """

    kind: str
    t: float  # engine monotonic seconds since the session started
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "t": round(self.t, 4), **self.data}


@dataclass(frozen=True)
class TrackInfo:
    kind: str  # video | audio | text
    id: str
    language: str
    label: str
    bitrate_kbps: float = 0.0
    height: int = 0


@dataclass(frozen=True)
class PlaybackSummary:
    """The end-of-session summary (``marquee play --summary-json``)."""

    startup_ms: float | None
    start_s: float
    played_s: float
    stall_count: int
    stall_ms: float
    switches: int
    avg_bitrate_kbps: float
    failovers: int
    errors: list[str]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
