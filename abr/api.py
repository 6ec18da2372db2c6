"""The narrow interface between the playback engine and an ABR controller.

The engine (or the simulator) owns time and I/O; the controller only decides.
Per segment the caller does::

    decision = controller.choose(ctx)                # which rung for segment ctx.segment_index
    ... while the download runs, every few hundred ms:
    verdict = controller.check_abandon(in_flight, ctx)
    if verdict is not None:                          # abandon, refetch at verdict.rung
        ...
    controller.on_sample(sample)                     # once per finished (or abandoned) download

``reset()`` forgets all history (new session, seek across a discontinuity).
Every input is a value; a controller reads no clock and no globals, so the same
sequence of calls always gives the same decisions (tests replay them).

Units: bitrates in bits per second, sizes in bytes, times in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Ladder:
    """The representations the controller may pick from.

    ``bitrates_bps`` is strictly ascending; rung 0 is the lowest. ``segment_sizes``, when the
    manifest (or a chunk-size file) gives them, holds one tuple per rung with the byte size of
    every segment; ``segment_count`` is the number of segments in the presentation (None: live
    or unknown). Sizes may list more entries than ``segment_count`` (the Pensieve clip has 49
    size lines for 48 played chunks).
    """

    bitrates_bps: tuple[float, ...]
    segment_seconds: float
    segment_sizes: tuple[tuple[int, ...], ...] | None = None
    segment_count: int | None = None

    def __post_init__(self) -> None:
        if not self.bitrates_bps:
            raise ValueError("a ladder needs at least one rung")
        if any(b <= 0 for b in self.bitrates_bps):
            raise ValueError("bitrates must be positive")
        if any(a >= b for a, b in zip(self.bitrates_bps, self.bitrates_bps[1:])):
            raise ValueError("bitrates must be strictly ascending")
        if self.segment_seconds <= 0:
            raise ValueError("segment duration must be positive")
        if self.segment_sizes is not None and len(self.segment_sizes) != len(self.bitrates_bps):
            raise ValueError("segment_sizes needs one row per rung")

    @property
    def top(self) -> int:
        return len(self.bitrates_bps) - 1

    def size(self, rung: int, index: int) -> float:
        """Bytes of segment ``index`` at ``rung``: the listed size, else the nominal one."""
        if self.segment_sizes is not None:
            row = self.segment_sizes[rung]
            if 0 <= index < len(row):
                return float(row[index])
        return self.bitrates_bps[rung] * self.segment_seconds / 8.0

    def remaining(self, index: int) -> int | None:
        """Segments left from ``index`` (inclusive) to the end, None when unknown."""
        if self.segment_count is None:
            return None
        return max(self.segment_count - index, 0)


@dataclass(frozen=True, slots=True)
class DownloadSample:
    """One download observation.

    ``seconds`` is the whole time from request to the last byte received so far (it includes
    ``ttfb_s``). ``finished`` is False for a download still in flight (``nbytes`` received so
    far) or an abandoned one.
    """

    nbytes: int
    seconds: float
    ttfb_s: float
    rung: int
    finished: bool = True
    segment_index: int = -1


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What the caller knows when a decision is due.

    ``now_s`` comes from the caller's injected clock (the simulator's virtual time);
    ``current_rung`` is the rung of the last segment appended to the buffer (None before the
    first); ``startup`` is True until playback has started.
    """

    ladder: Ladder
    buffer_s: float
    segment_index: int
    current_rung: int | None
    now_s: float
    startup: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """A rung and why. ``rule`` names the rule whose output is ``rung`` (the reason starts with it);
    controllers that do not compose rules leave it empty."""

    rung: int
    reason: str
    abandon: bool = False
    rule: str = ""


@dataclass(frozen=True, slots=True)
class StartVerdict:
    """The start rule's answer while playback has not begun: ``ready`` to start now, and why."""

    ready: bool
    reason: str


@runtime_checkable
class Controller(Protocol):
    name: str

    def choose(self, ctx: DecisionContext) -> Decision:
        """Rung for segment ``ctx.segment_index``."""

    def on_sample(self, sample: DownloadSample) -> None:
        """A download finished (or was abandoned: ``finished`` False)."""

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        """None to let the download go on, else a Decision with ``abandon=True`` and the rung to refetch at."""

    def reset(self) -> None:
        """Forget all history."""


@runtime_checkable
class StartRule(Protocol):
    """Optional: a controller that decides when playback begins (the engine otherwise starts on the first frame)."""

    def ready_to_start(self, ctx: DecisionContext, in_flight: DownloadSample | None) -> StartVerdict:
        """Asked while playback has not begun, after each segment is buffered and every few hundred ms
        during a download: ``ctx.buffer_s`` is the media buffered, ``ctx.segment_index`` the segment being
        fetched, ``in_flight`` its download so far (``nbytes`` 0 before the first byte; None when nothing
        is left to fetch)."""


def clamp_rung(rung: int, ladder: Ladder) -> int:
    return max(0, min(int(rung), ladder.top))


@dataclass(frozen=True, slots=True)
class ParamDoc:
    name: str
    default: str
    doc: str


@dataclass(frozen=True, slots=True)
class AlgorithmInfo:
    name: str
    summary: str
    params: Sequence[ParamDoc] = field(default_factory=tuple)


ParamMap = Mapping[str, str]
