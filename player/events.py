"""What the engine tells the world: immutable snapshots and events.

The playback session publishes these to one callback; the UI bridge turns them
into Qt signals, telemetry records them, QA writes them to JSONL. They are plain
frozen dataclasses so every consumer can be tested without the engine.

Events are typed: one frozen dataclass per kind, and ``PlayerEvent`` is their union,
so consumers match on the class (``isinstance(ev, Switch)``), never on a string.
``to_json`` gives the ``--log`` JSONL line: ``{"kind": ..., "t": ..., <fields>}``, the
same names as always (QA and scripts read it; see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, ClassVar, Union


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
    # Two rungs: the one being *fetched* (the ABR's latest choice) and the one *shown* (the
    # segment under the playhead); on a switch the screen follows a buffer later.
    rung: int = -1  # fetched: index in the video ladder, -1 before the first choice
    rung_count: int = 0
    bitrate_kbps: float = 0.0  # fetched rung's bit rate
    fetch_resolution: tuple[int, int] = (0, 0)  # fetched rung's size
    shown_rung: int = -1  # on screen
    shown_bitrate_kbps: float = 0.0
    resolution: tuple[int, int] = (0, 0)  # on screen (mpv's video size)
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
    decode_errors: int = 0  # error lines of mpv's decoders (player.decode_health)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)



# ------------------------------------------------------------------ events
@dataclass(frozen=True)
class _Event:
    """Fields common to every event; ``kind`` names the class in the JSONL log."""

    kind: ClassVar[str]
    t: float  # engine monotonic seconds since the session started

    @property
    def data(self) -> dict[str, Any]:
        """The event's own fields (without ``t``); optional fields left unset are omitted."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name == "t":
                continue
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            out[name] = [asdict(v) for v in value] if name == "tracks" else value
        return out

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "t": round(self.t, 4), **self.data}


_OPTIONAL = frozenset({"detail", "retry_in_s"})


@dataclass(frozen=True)
class Startup(_Event):
    kind: ClassVar[str] = "startup"
    startup_ms: float  # from "play" to the first frame on screen


@dataclass(frozen=True)
class StallStart(_Event):
    kind: ClassVar[str] = "stall_start"
    buffer_s: float
    throughput_kbps: float


@dataclass(frozen=True)
class StallEnd(_Event):
    kind: ClassVar[str] = "stall_end"
    stall_ms: float


@dataclass(frozen=True)
class AbrDecision(_Event):
    kind: ClassVar[str] = "decision"
    index: int
    rung: int
    reason: str
    buffer_s: float


@dataclass(frozen=True)
class Abandon(_Event):
    """A download in flight given up for a lower rung."""

    kind: ClassVar[str] = "abandon"
    index: int
    from_rung: int
    to_rung: int
    reason: str


@dataclass(frozen=True)
class Switch(_Event):
    """The fetched rung changed (the screen follows when playback reaches ``at_s``)."""

    kind: ClassVar[str] = "switch"
    from_rung: int
    to_rung: int
    from_kbps: float
    to_kbps: float
    reason: str
    at_s: float


@dataclass(frozen=True)
class SegmentFetched(_Event):
    kind: ClassVar[str] = "segment"
    media: str  # "video"
    index: int
    rung: int
    bytes: int
    seconds: float
    ttfb_s: float
    oca: str
    start_s: float
    duration_s: float
    bitrate_kbps: float
    throughput_kbps: float


@dataclass(frozen=True)
class Failover(_Event):
    kind: ClassVar[str] = "failover"
    from_oca: str
    to_oca: str
    reason: str
    cost_ms: float  # from the failed OCA's last sign of life to the next byte


@dataclass(frozen=True)
class PlaybackError(_Event):
    """``recoverable``: the engine carries on (a retry, a subtitle missing); otherwise the
    playback ended. ``message`` is for the user, ``detail`` for the log."""

    kind: ClassVar[str] = "error"
    category: str
    code: str
    message: str
    recoverable: bool
    detail: str | None = None
    retry_in_s: float | None = None


@dataclass(frozen=True)
class StateChanged(_Event):
    kind: ClassVar[str] = "state"
    state: str  # a PlaybackState value


@dataclass(frozen=True)
class Seek(_Event):
    kind: ClassVar[str] = "seek"
    from_s: float
    to_s: float


@dataclass(frozen=True)
class SeekDone(_Event):
    kind: ClassVar[str] = "seek_done"
    ms: float


@dataclass(frozen=True)
class Ended(_Event):
    kind: ClassVar[str] = "ended"
    position_s: float = 0.0


@dataclass(frozen=True)
class TracksKnown(_Event):
    kind: ClassVar[str] = "tracks"
    tracks: tuple[TrackInfo, ...]


@dataclass(frozen=True)
class MpvLog(_Event):
    """An error line of mpv's log."""

    kind: ClassVar[str] = "mpv_log"
    level: str
    prefix: str
    text: str


PlayerEvent = Union[Startup, StallStart, StallEnd, AbrDecision, Abandon, Switch, SegmentFetched, Failover,
                    PlaybackError, StateChanged, Seek, SeekDone, Ended, TracksKnown, MpvLog]

EVENT_TYPES: dict[str, type[_Event]] = {cls.kind: cls for cls in PlayerEvent.__args__}  # type: ignore[attr-defined]


def event_from_json(row: dict[str, Any]) -> PlayerEvent:
    """The event a ``to_json`` line describes (for tools that read ``--log`` files back)."""
    cls = EVENT_TYPES.get(str(row.get("kind")))
    if cls is None:
        raise ValueError(f"unknown event kind {row.get('kind')!r}")
    fields = {k: v for k, v in row.items() if k != "kind" and k in cls.__dataclass_fields__}
    if cls is TracksKnown:
        fields["tracks"] = tuple(TrackInfo(**t) for t in fields.get("tracks", ()))
    return cls(**fields)  # type: ignore[return-value]
