"""Issue 21: the start rule, the ramp's exit, and reasons that name the rule that set the rung."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abr import DecisionContext, DownloadSample, Ladder
from abr.api import Decision
from abr.bench import real_link_sets
from abr.compose import Step, Verdict
from abr.default import BufferHysteresis, DefaultParams
from abr.qoe import session_metrics
from abr.sim import simulate
from abr.start import best_start_rung, needed_buffer_s
from abr.traces import Trace
from abr.video import Video, real_link_video

# The controller before issue 21 (its rules off, its parameter values).
BEFORE = DefaultParams(start_rule=False, ramp_hold=0.0, ramp_exit="reservoir", max_up_step=2, startup_ratio=1.35,
                       ramp_ratio=1.3)


class Recorder(BufferHysteresis):
    """The default controller, keeping every decision with the steps that made it."""

    def __init__(self, params: DefaultParams) -> None:
        super().__init__(params)
        self.log: list[tuple[Decision, list[Step]]] = []

    def choose(self, ctx: DecisionContext) -> Decision:
        d = super().choose(ctx)
        self.log.append((d, list(self.last_steps)))
        return d


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 12.0), min_size=4, max_size=40), st.sampled_from([2.0, 4.0]),
       st.sampled_from(["standard", "realistic"]), st.sampled_from(["step", "reservoir"]), st.sampled_from([0.0, 1.0]),
       st.booleans())
def test_logged_reason_names_the_rule_whose_output_is_the_rung(bw: list[float], seg: float, mode: str, exit_rule: str,
                                                               hold: float, start_rule: bool) -> None:
    kbps = (400, 1200, 2800) if seg == 2.0 else (300, 750, 1200, 1850, 2850, 4300)
    ladder = Ladder(tuple(k * 1e3 for k in kbps), seg, None, 30)
    times = tuple(float(5 * i) for i in range(len(bw)))
    ctrl = Recorder(DefaultParams(ramp_exit=exit_rule, ramp_hold=hold, start_rule=start_rule))
    res = simulate(ctrl, Trace("t", times, tuple(bw)), Video("v", ladder, 96_000.0), mode, keep_reasons=True)
    assert ctrl.log
    for decision, steps in ctrl.log:
        named = [s for s in steps if s.rule == decision.rule]
        assert named, (decision, steps)
        assert decision.reason == f"{named[-1].rule}: {named[-1].reason}"
        assert named[-1].rung == decision.rung  # the named rule's own output is the decided rung
        assert steps[-1] is named[-1]  # and no later cap or clamp changed it
        # Every step that lowered the rung wrote its own reason (a cap never inherits another rule's text).
        for before, after in zip(steps, steps[1:]):
            assert after.reason != before.reason
    logged = [r for r in res.reasons if not r.startswith(("abandoned", "fixed first chunk"))]
    assert set(logged) <= {d.reason for d, _ in ctrl.log}


def test_verdict_limit_only_takes_over_when_it_lowers() -> None:
    v = Verdict()
    v.set("map", 3, "maps to 3")
    assert v.limit("safety cap", 4, "no effect") == 3 and len(v.steps) == 1
    assert v.limit("safety cap", 1, "too slow") == 1
    assert v.decision() == Decision(1, "safety cap: too slow", rule="safety cap")
    with pytest.raises(ValueError):
        Verdict().rung


def _fed(mbps: float, n: int = 3) -> BufferHysteresis:
    ctrl = BufferHysteresis()
    for i in range(n):
        ctrl.on_sample(DownloadSample(250_000, 0.08 + 250_000 * 8 / (mbps * 1e6), 0.08, 0, True, i))
    return ctrl


def test_ready_to_start_waits_for_the_predicted_fetch() -> None:
    ladder = real_link_video().ladder
    fresh = BufferHysteresis()
    sample = DownloadSample(0, 0.0, 0.08, 0, False, 1)
    assert not fresh.ready_to_start(DecisionContext(ladder, 2.0, 1, 0, 1.0, True), sample).ready
    slow = _fed(0.45)  # the lowest rung (400 kbps) is sustained only just
    need = needed_buffer_s(ladder, 1, ladder.size(0, 1), sample, slow.est.bps, slow.est.ttfb_s, 10.0)
    assert need > 2.0
    assert not slow.ready_to_start(DecisionContext(ladder, need - 0.01, 1, 0, 3.0, True), sample).ready
    verdict = slow.ready_to_start(DecisionContext(ladder, need + 0.01, 1, 0, 3.0, True), sample)
    assert verdict.ready and "covers the predicted" in verdict.reason
    fast = _fed(8.0)
    assert fast.ready_to_start(DecisionContext(ladder, 2.0, 1, 0, 1.0, True), sample).ready
    # Half the segment already received: only the rest has to be covered.
    half = DownloadSample(int(ladder.size(0, 1) / 2), 1.5, 0.08, 0, False, 1)
    assert needed_buffer_s(ladder, 1, ladder.size(0, 1), half, 1e6, 0.08, 0.0) == pytest.approx(
        ladder.size(0, 1) / 2 * 8 / 1e6, rel=1e-3)


@given(st.floats(0.1, 50.0))
def test_first_rung_is_worth_its_startup(mbps: float) -> None:
    ladder = real_link_video().ladder
    r = best_start_rung(ladder, 0, 0.0, mbps * 1e6, 0.08, 4.3, ladder.top)
    def value(q: int) -> float:
        return ladder.bitrates_bps[q] / 1e6 - 4.3 * (0.08 + ladder.size(q, 0) * 8 / (mbps * 1e6))
    assert all(value(r) >= value(q) for q in range(ladder.top + 1))
    if mbps <= 1.0:
        assert r == 0


def test_no_stall_at_start_on_a_slow_link() -> None:
    """20 s at 0.45 Mbit/s (the 400 kbps rung plus 96 kbps audio does not quite fit), then 2 Mbit/s: the
    controller before issue 21 starts on the first segment and stalls; the start rule waits instead."""
    trace = Trace("slow", (0.0, 20.0, 400.0), (0.45, 0.45, 2.0))
    video = real_link_video()
    before = session_metrics(simulate(BufferHysteresis(BEFORE), trace, video, "realistic"))
    after = session_metrics(simulate(BufferHysteresis(), trace, video, "realistic"))
    assert before.rebuffer_s > 0.5
    assert after.rebuffer_s == 0.0 and after.startup_s > before.startup_s


def test_real_link_cases_do_not_stall_or_fall_to_the_bottom() -> None:
    video = real_link_video()
    for traces in real_link_sets():
        res = simulate(BufferHysteresis(), traces.traces[0], video, "realistic", keep_reasons=True)
        assert sum(res.stall_s) == 0.0, traces.name
        if traces.name == "norway_bus_1":
            first_up = next(k for k, r in enumerate(res.rungs) if r > 0)
            early = [r for k, r in enumerate(res.rungs) if k > first_up and res.time_s[k] <= 20.0]
            assert 0 not in early, res.rungs[:15]
    before = simulate(BufferHysteresis(BEFORE), real_link_sets()[0].traces[0], video, "realistic")
    assert 0 in before.rungs[2:10]  # the fall this guards against
