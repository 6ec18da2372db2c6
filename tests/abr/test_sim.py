"""Hand-computed simulator cases (Pensieve fixed_env semantics) and trace/video loading."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from abr.api import Decision, DecisionContext, DownloadSample, Ladder
from abr.qoe import session_metrics
from abr.sim import Link, simulate
from abr.traces import Trace, load_trace_file, mahimahi_to_trace
from abr.video import Video


class Fixed:
    """Always the same rung; records what it was told."""

    name = "fixed"

    def __init__(self, rung: int) -> None:
        self.rung = rung
        self.contexts: list[DecisionContext] = []
        self.samples: list[DownloadSample] = []

    def reset(self) -> None:
        self.contexts.clear()
        self.samples.clear()

    def on_sample(self, sample: DownloadSample) -> None:
        self.samples.append(sample)

    def choose(self, ctx: DecisionContext) -> Decision:
        self.contexts.append(ctx)
        return Decision(self.rung, "fixed")

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None


def video(sizes: list[list[int]], kbps: tuple[float, ...] = (300, 750), count: int | None = None) -> Video:
    ladder = Ladder(tuple(k * 1000.0 for k in kbps), 4.0, tuple(tuple(s) for s in sizes), count or len(sizes[0]))
    return Video("t", ladder)


def const_trace(mbps: float, seconds: int = 100) -> Trace:
    return Trace("const", tuple(float(i) for i in range(seconds + 1)), tuple([mbps] * (seconds + 1)))


def test_link_download_exact_and_wraps() -> None:
    # 8 Mbit/s = 1e6 B/s, 0.95 payload: 950000 B per second.
    link = Link(Trace("w", (0.0, 1.0, 2.0), (99.0, 8.0, 8.0)))
    assert link.download(950_000) == pytest.approx(1.0)
    # The first chunk ended exactly at t=1 (line 1 used up). 2.5 s worth of bytes: line 2
    # (1 s), wrap to line 1 at t=0 (1 s), then 0.5 s into line 2.
    assert link.ptr == 2 and link.last == pytest.approx(1.0)
    assert link.download(950_000 * 2.5) == pytest.approx(2.5)
    assert link.ptr == 2 and link.last == pytest.approx(1.5)


def test_standard_first_chunks_hand_computed() -> None:
    # Two chunks at 950000 B (rung 1) over 1e6 B/s: 1 s + 80 ms each.
    v = video([[100_000, 100_000], [950_000, 950_000]])
    res = simulate(Fixed(1), const_trace(8.0), v)
    assert res.delay_s == pytest.approx([1.08, 1.08])
    assert res.stall_s == pytest.approx([1.08, 0.0])  # chunk 0's delay is the startup
    assert res.buffer_s == pytest.approx([4.0, 4.0 - 1.08 + 4.0])
    m = session_metrics(res)
    # Only chunk 1 is scored: 0.75 Mbit/s, no stall, no switch (rung 1 -> 1).
    assert m.qoe_lin == pytest.approx(0.75)
    assert m.startup_s == pytest.approx(1.08)
    assert m.switches == 0


def test_standard_rtt_stalls_but_does_not_advance_trace() -> None:
    # Trace: 8 Mbit/s for 1 s, then 0.8 Mbit/s. Chunk 0 (950000 B) ends exactly at t=1.0 of the
    # trace although 1.08 s passed: the 80 ms RTT does not consume the trace.
    trace = Trace("step", (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0), (8.0, 8.0, 0.8, 0.8, 0.8, 0.8, 0.8))
    v = video([[95_000] * 3, [950_000] * 3])
    res = simulate(Fixed(0), trace, v)
    # Chunk 1 at rung 0: 95000 B at 0.8 Mbit/s * 0.95 = 95000 B/s -> exactly 1 s + 80 ms.
    assert res.delay_s[1] == pytest.approx(1.08)
    assert res.stall_s[1] == 0.0
    m = session_metrics(res)
    # Chunks 1 and 2 at 300 kbps; the 750 -> 300 switch costs 0.45.
    assert m.qoe_lin == pytest.approx(0.3 + 0.3 - 0.45)


def test_standard_buffer_cap_sleeps_in_500ms_steps() -> None:
    v = video([[1_000] * 20, [2_000] * 20])
    res = simulate(Fixed(0), const_trace(80.0, 400), v)
    assert max(res.buffer_s) <= 60.0
    # Sleeps are whole 500 ms steps, and there are some.
    gaps = [res.time_s[i] - res.time_s[i - 1] - res.delay_s[i] for i in range(1, len(res.time_s))]
    assert any(g > 0 for g in gaps)
    assert all(math.isclose(g / 0.5, round(g / 0.5), abs_tol=1e-9) for g in gaps)
    # A chunk that would overflow the cap by x sleeps ceil(x / 0.5) * 0.5.
    for i in range(1, len(res.rungs)):
        over = res.buffer_s[i - 1] - res.delay_s[i] + 4.0 - 60.0
        if over > 0:
            assert gaps[i - 1] == pytest.approx(math.ceil(over / 0.5 - 1e-9) * 0.5)


def test_stall_is_counted_when_buffer_runs_dry() -> None:
    # 0.8 Mbit/s -> 95000 B/s. Rung 1 chunks of 950000 B take 10 s + 80 ms; buffer is 4 s.
    v = video([[95_000] * 3, [950_000] * 3])
    res = simulate(Fixed(1), const_trace(0.8, 200), v)
    assert res.stall_s[1] == pytest.approx(10.08 - 4.0)
    m = session_metrics(res)
    assert m.qoe_lin == pytest.approx(2 * 0.75 - 4.3 * 2 * 6.08)


def test_realistic_mode_scores_startup_and_does_not_wrap() -> None:
    v = video([[950_000] * 5, [1_900_000] * 5], count=5)
    trace = Trace("short", (0.0, 10.0, 20.0), (8.0, 8.0, 8.0))  # 20 s: 5 chunks of 4 s
    res = simulate(Fixed(0), trace, v, mode="realistic")
    assert len(res.rungs) == 5
    # The RTT elapses on the trace, then 1 s of transfer; chunk 0 is the startup (counted).
    assert res.delay_s[0] == pytest.approx(1.08)
    m = session_metrics(res)
    assert m.qoe_lin == pytest.approx(5 * 0.3 - 4.3 * 1.08)


def test_mahimahi_trace_conversion(tmp_path: Path) -> None:
    # 1000 packets in the first second, 500 in the second: 12 and 6 Mbit/s.
    stamps = [1 + i for i in range(1000)] + [1001 + 2 * i for i in range(500)]
    trace = mahimahi_to_trace(stamps, "mm")
    assert trace.times_s == (0.0, 1.0, 2.0)
    assert trace.bw_mbps[1:] == pytest.approx((12.0, 6.0))
    f = tmp_path / "trace.down"
    f.write_text("\n".join(str(s) for s in stamps) + "\n")
    assert load_trace_file(f).bw_mbps == trace.bw_mbps
    g = tmp_path / "cooked"
    g.write_text("0.0\t1.5\n1.0\t2.5\n")
    assert load_trace_file(g).bw_mbps == (1.5, 2.5)
