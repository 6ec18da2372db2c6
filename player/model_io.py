"""What the playback model takes in besides plain numbers, and the commands it gives out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from player.events import PlaybackSnapshot, PlaybackState, PlayerEvent


@dataclass(frozen=True)
class Publish:
    snapshot: PlaybackSnapshot


@dataclass(frozen=True)
class Emit:
    event: PlayerEvent


@dataclass(frozen=True)
class RestartFeed:
    """Open a fresh stream to mpv and fetch from the segment holding ``position_s``."""

    position_s: float


@dataclass(frozen=True)
class Finish:
    """The playback is over (ended, stopped or failed): stop the pipeline."""

    state: PlaybackState


Command = Union[Publish, Emit, RestartFeed, Finish]


@dataclass(frozen=True)
class Rung:
    """One video rung as the model needs it."""

    bandwidth_bps: float
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class SegmentPlaced:
    """A video segment written to the feed: where it sits on the timeline and how it came."""

    index: int
    rung: int
    start_s: float
    duration_s: float
    bytes: int
    seconds: float  # download time
    ttfb_s: float
    oca: str
    reason: str  # the decision's reason (for a switch)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s
