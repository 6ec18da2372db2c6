"""Rolling history of playback numbers for the stats overlay (pure, no Qt)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from player.events import Failover, PlaybackSnapshot, PlayerEvent, StallStart, Switch


@dataclass(frozen=True)
class Sample:
    t: float
    buffer_s: float
    bitrate_kbps: float
    throughput_kbps: float


class StatsHistory:
    def __init__(self, window_s: float = 60.0, capacity: int = 600) -> None:
        self.window_s = window_s
        self.samples: deque[Sample] = deque(maxlen=capacity)
        self.last_switch = ""
        self.last_failover = ""
        self.switches = 0
        self.failovers = 0
        self.stalls = 0

    def add(self, t: float, snap: PlaybackSnapshot) -> None:
        self.samples.append(Sample(t, snap.buffer_s, snap.bitrate_kbps, snap.throughput_kbps))
        while self.samples and self.samples[0].t < t - self.window_s:
            self.samples.popleft()
        if snap.last_switch_reason:
            self.last_switch = snap.last_switch_reason
        if snap.last_failover:
            self.last_failover = snap.last_failover

    def note(self, ev: PlayerEvent) -> None:
        if isinstance(ev, Switch):
            self.switches += 1
            self.last_switch = f"{ev.from_kbps:.0f} → {ev.to_kbps:.0f} kb/s ({ev.reason})"
        elif isinstance(ev, Failover):
            self.failovers += 1
            self.last_failover = f"{ev.from_oca} → {ev.to_oca} ({ev.reason})"
        elif isinstance(ev, StallStart):
            self.stalls += 1

    def series(self) -> tuple[list[float], list[float], list[float], list[float]]:
        """(seconds relative to now, buffer, bitrate, throughput)."""
        if not self.samples:
            return [], [], [], []
        now = self.samples[-1].t
        xs = [s.t - now for s in self.samples]
        return xs, [s.buffer_s for s in self.samples], [s.bitrate_kbps for s in self.samples], [
            s.throughput_kbps for s in self.samples]

    def clear(self) -> None:
        self.samples.clear()
        self.last_switch = self.last_failover = ""
        self.switches = self.failovers = self.stalls = 0
