"""Trace-driven playback simulator in virtual time.

**Standard mode** reproduces Pensieve's ``test/fixed_env.py`` (see ``assets/traces/README.md``)
operation for operation, in the same units (buffer in ms), so results compare with
published numbers:

* the bandwidth of trace line *i* applies to ``(t[i-1], t[i]]``; usable bytes are
  ``bw * dt * 0.95``;
* each chunk adds an RTT (80 ms, or the trace's own) to its delay; the RTT drains the buffer
  and counts as stall but does not advance the trace;
* the trace wraps around to line 1 at t = 0;
* the buffer is capped at 60 s: above it the player sleeps in 500 ms steps while the trace runs;
* chunk 0 is fetched at rung 1 (750 kbps) without asking the controller; it is excluded from
  the score (its delay is the startup delay), but the 0 -> 1 switch is scored.

**Realistic mode**: no wrap-around (after the trace's end its last bandwidth holds), the RTT
passes on the trace (no bytes flow during it), the controller chooses every chunk including
the first, downloads are checked every ``check_interval_s`` and may be abandoned and
refetched lower, and the session plays ``min(video, trace duration)`` of content. Every chunk
is scored, chunk 0 with its startup delay as stall (the viewer waits either way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from abr.api import Controller, DecisionContext, DownloadSample, Ladder, StartRule, clamp_rung
from abr.traces import Trace
from abr.video import Video

PAYLOAD = 0.95
RTT_S = 0.08
BUFFER_CAP_MS = 60_000.0
SLEEP_MS = 500.0
FIRST_RUNG = 1


class Link:
    """A cursor on a trace with fixed_env's pointer semantics (``ptr``, ``last``)."""

    __slots__ = ("t", "bw", "n", "ptr", "last", "wrap")

    def __init__(self, trace: Trace, wrap: bool = True) -> None:
        self.t = list(trace.times_s)
        self.bw = list(trace.bw_mbps)
        self.n = len(self.t)
        self.ptr = 1
        self.last = self.t[0]
        self.wrap = wrap
        if not wrap:
            self.bw[-1] = max(self.bw[-1], 0.01)  # the held tail must let bytes through

    def _advance(self) -> None:
        self.last = self.t[self.ptr]
        self.ptr += 1
        if self.ptr >= self.n:
            if self.wrap:
                self.ptr = 1
                self.last = 0.0
            else:  # hold the last bandwidth forever
                self.ptr = self.n - 1
                self.t[self.ptr] = math.inf

    def download(self, size: float) -> float:
        """Seconds to receive ``size`` bytes (fixed_env's loop, no RTT)."""
        t, bw = self.t, self.bw
        delay = 0.0
        sent = 0.0
        while True:
            throughput = bw[self.ptr] * 1_000_000.0 / 8.0
            duration = t[self.ptr] - self.last
            payload = throughput * duration * PAYLOAD
            if sent + payload > size:
                fractional = (size - sent) / throughput / PAYLOAD
                delay += fractional
                self.last += fractional
                return delay
            sent += payload
            delay += duration
            self._advance()

    def download_for(self, size: float, limit_s: float) -> tuple[float, float, bool]:
        """Download at most ``limit_s`` seconds: (bytes received, seconds, finished)."""
        delay = 0.0
        sent = 0.0
        while True:
            throughput = self.bw[self.ptr] * 1_000_000.0 / 8.0
            duration = self.t[self.ptr] - self.last
            room = limit_s - delay
            if duration > room:
                payload = throughput * room * PAYLOAD
                if sent + payload > size:
                    fractional = (size - sent) / throughput / PAYLOAD
                    self.last += fractional
                    return size, delay + fractional, True
                self.last += room
                return sent + payload, limit_s, False
            payload = throughput * duration * PAYLOAD
            if sent + payload > size:
                fractional = (size - sent) / throughput / PAYLOAD
                self.last += fractional
                return size, delay + fractional, True
            sent += payload
            delay += duration
            self._advance()

    def sleep_ms(self, sleep_ms: float) -> None:
        """Let the trace run for ``sleep_ms`` (fixed_env's drain loop)."""
        while True:
            duration = self.t[self.ptr] - self.last
            if duration > sleep_ms / 1000.0:
                self.last += sleep_ms / 1000.0
                return
            sleep_ms -= duration * 1000.0
            self._advance()


@dataclass
class SessionResult:
    trace: str
    algo: str
    mode: str
    bitrates_kbps: tuple[float, ...]
    segment_seconds: float
    rungs: list[int] = field(default_factory=list)
    stall_s: list[float] = field(default_factory=list)
    delay_s: list[float] = field(default_factory=list)
    buffer_s: list[float] = field(default_factory=list)  # after the chunk (and any sleep)
    time_s: list[float] = field(default_factory=list)  # end of the chunk (and any sleep)
    throughput_mbps: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    abandons: int = 0
    scored_from: int = 1  # first chunk counted in the QoE (1 in standard mode)
    started_s: float | None = None  # realistic mode: when playback began (``stall_s`` then counts stalls after it)

    @property
    def startup_s(self) -> float:
        if self.started_s is not None:
            return self.started_s
        return self.delay_s[0] if self.delay_s else 0.0


def _ctx(ladder: Ladder, buffer_s: float, index: int, rung: int | None, now: float, startup: bool) -> DecisionContext:
    return DecisionContext(ladder, buffer_s, index, rung, now, startup)


def simulate_standard(controller: Controller, trace: Trace, video: Video, keep_reasons: bool = False) -> SessionResult:
    ladder = video.ladder
    n = video.segments
    rtt_ms = (trace.rtt_s if trace.rtt_s is not None else RTT_S) * 1000.0
    link = Link(trace, wrap=True)
    res = SessionResult(trace.name, getattr(controller, "name", "?"), "standard",
                        tuple(b / 1000.0 for b in ladder.bitrates_bps), ladder.segment_seconds)
    controller.reset()
    buffer_ms = 0.0
    clock_ms = 0.0
    rung = clamp_rung(FIRST_RUNG, ladder)
    reason = "fixed first chunk (standard setup)"
    for k in range(n):
        size = ladder.size(rung, k)
        delay_ms = link.download(size) * 1000.0 + rtt_ms
        rebuf_ms = max(delay_ms - buffer_ms, 0.0)
        buffer_ms = max(buffer_ms - delay_ms, 0.0) + ladder.segment_seconds * 1000.0
        sleep_ms = 0.0
        if buffer_ms > BUFFER_CAP_MS:
            sleep_ms = math.ceil((buffer_ms - BUFFER_CAP_MS) / SLEEP_MS) * SLEEP_MS
            buffer_ms -= sleep_ms
            link.sleep_ms(sleep_ms)
        clock_ms += delay_ms + sleep_ms
        res.rungs.append(rung)
        res.stall_s.append(rebuf_ms / 1000.0)
        res.delay_s.append(delay_ms / 1000.0)
        res.buffer_s.append(buffer_ms / 1000.0)
        res.time_s.append(clock_ms / 1000.0)
        res.throughput_mbps.append(size * 8.0 / delay_ms / 1000.0)
        if keep_reasons:
            res.reasons.append(reason)
        controller.on_sample(DownloadSample(int(size), delay_ms / 1000.0, rtt_ms / 1000.0, rung, True, k))
        if k + 1 < n:
            d = controller.choose(_ctx(ladder, buffer_ms / 1000.0, k + 1, rung, clock_ms / 1000.0, False))
            rung = clamp_rung(d.rung, ladder)
            reason = d.reason
    return res


def simulate_realistic(controller: Controller, trace: Trace, video: Video, check_interval_s: float = 0.25,
                       allow_abandon: bool = True, keep_reasons: bool = False) -> SessionResult:
    ladder = video.ladder
    seg = ladder.segment_seconds
    n = max(1, min(video.segments, int(trace.duration_s // seg)))
    rtt = trace.rtt_s if trace.rtt_s is not None else RTT_S
    audio_bytes = video.audio_bps * seg / 8.0
    link = Link(trace, wrap=False)
    res = SessionResult(trace.name, getattr(controller, "name", "?"), "realistic",
                        tuple(b / 1000.0 for b in ladder.bitrates_bps), seg, scored_from=0)
    rule = controller if isinstance(controller, StartRule) else None
    controller.reset()
    buffer = 0.0
    now = 0.0
    prev: int | None = None
    started_at: float | None = None  # playback start (virtual time); without a start rule, the first segment's arrival

    def ready(k: int, rung: int, got: float, elapsed: float) -> bool:
        assert rule is not None
        sample = DownloadSample(int(got), elapsed, rtt, rung, False, k)
        return rule.ready_to_start(_ctx(ladder, buffer, k, prev, now + elapsed, True), sample).ready

    for k in range(n):
        startup = started_at is None
        d = controller.choose(_ctx(ladder, buffer, k, prev, now, startup))
        rung = clamp_rung(d.rung, ladder)
        reason = d.reason
        stall = 0.0
        total_delay = 0.0
        while True:
            size = ladder.size(rung, k) + audio_bytes
            play_from: float | None = None if started_at is None else 0.0  # playback began this far in
            if play_from is None and rule is not None and k > 0 and ready(k, rung, 0.0, 0.0):
                started_at, play_from = now, 0.0
            link.sleep_ms(rtt * 1000.0)
            elapsed = rtt
            got = 0.0
            abandoned = False
            while True:
                step = check_interval_s if allow_abandon or play_from is None else math.inf
                part, secs, done = link.download_for(size - got, step)
                got += part
                elapsed += secs
                if done:
                    break
                if play_from is None and rule is not None and k > 0 and ready(k, rung, got * (size - audio_bytes) / size, elapsed):
                    started_at, play_from = now + elapsed, elapsed
                if not allow_abandon:
                    continue
                live_buffer = buffer if play_from is None else max(buffer - (elapsed - play_from), 0.0)
                verdict = controller.check_abandon(
                    DownloadSample(int(got), elapsed, rtt, rung, False, k),
                    _ctx(ladder, live_buffer, k, prev, now + elapsed, play_from is None))
                if verdict is not None and verdict.abandon and clamp_rung(verdict.rung, ladder) < rung:
                    abandoned = True
                    controller.on_sample(DownloadSample(int(got), elapsed, rtt, rung, False, k))
                    res.abandons += 1
                    new_rung = clamp_rung(verdict.rung, ladder)
                    reason = f"abandoned rung {rung} -> {new_rung}: {verdict.reason}"
                    rung = new_rung
                    break
            played = 0.0 if play_from is None else elapsed - play_from
            stall += max(played - buffer, 0.0)
            buffer = max(buffer - played, 0.0)
            now += elapsed
            total_delay += elapsed
            if not abandoned:
                break
        buffer += seg
        if started_at is None and (rule is None or k + 1 == n):
            started_at = now  # without a start rule, playback begins with the first segment (or with the last one)
        if buffer > BUFFER_CAP_MS / 1000.0:
            sleep = math.ceil((buffer - BUFFER_CAP_MS / 1000.0) / (SLEEP_MS / 1000.0)) * (SLEEP_MS / 1000.0)
            buffer -= sleep
            link.sleep_ms(sleep * 1000.0)
            now += sleep
        res.rungs.append(rung)
        res.stall_s.append(stall)
        res.delay_s.append(total_delay)
        res.buffer_s.append(buffer)
        res.time_s.append(now)
        res.throughput_mbps.append(ladder.size(rung, k) * 8.0 / max(elapsed, 1e-9) / 1e6)
        if keep_reasons:
            res.reasons.append(reason)
        controller.on_sample(DownloadSample(int(ladder.size(rung, k)), elapsed, rtt, rung, True, k))
        prev = rung
    res.started_s = started_at
    return res


def simulate(controller: Controller, trace: Trace, video: Video, mode: str = "standard",
             keep_reasons: bool = False) -> SessionResult:
    if mode == "standard":
        return simulate_standard(controller, trace, video, keep_reasons)
    if mode == "realistic":
        return simulate_realistic(controller, trace, video, keep_reasons=keep_reasons)
    raise ValueError(f"unknown mode {mode!r}")
