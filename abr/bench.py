"""Run algorithms over trace sets and summarise (shared by ``marquee abr-sim`` and the benchmark).

A fresh controller is built per (algorithm, trace set); sessions run in trace-set order (file
names sorted), with ``reset()`` between sessions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from abr.qoe import SessionMetrics, Summary, session_metrics, summarize
from abr.registry import make_controller
from abr.sim import SessionResult, simulate
from abr.traces import TraceSet
from abr.video import Video


@dataclass
class RunResult:
    summary: Summary
    metrics: list[SessionMetrics]
    sessions: list[SessionResult] = field(default_factory=list)


def run_one(algo: str, params: Mapping[str, str], traces: TraceSet, video: Video, mode: str = "standard",
            keep_sessions: bool = False, label: str | None = None) -> RunResult:
    """``label`` names the row (default: ``algo``), e.g. the same controller with other parameters."""
    controller = make_controller(algo, params)
    metrics: list[SessionMetrics] = []
    kept: list[SessionResult] = []
    for trace in traces.traces:
        res = simulate(controller, trace, video, mode, keep_reasons=keep_sessions)
        metrics.append(session_metrics(res))
        if keep_sessions:
            kept.append(res)
    return RunResult(summarize(label or algo, traces.name, mode, metrics), metrics, kept)


def run_matrix(algos: Sequence[str], params: Mapping[str, Mapping[str, str]], sets: Sequence[TraceSet],
               video: Video, mode: str = "standard", keep_sessions: bool = False) -> list[RunResult]:
    """Every algorithm on every trace set; ``params[algo]`` are that algorithm's overrides. An entry
    ``label=algo`` (e.g. ``default-before=default``) runs ``algo`` with ``params[label]`` under that label."""
    out: list[RunResult] = []
    for traces in sets:
        for entry in algos:
            label, _, algo = entry.partition("=")
            out.append(run_one(algo or label, params.get(label, {}), traces, video, mode, keep_sessions, label))
    return out


def format_table(results: Sequence[RunResult], baseline: str | None = "robustmpc") -> str:
    """A plain-text table; with ``baseline``, QoE ratios against it on the same trace set and mode."""
    base = {(r.summary.traces, r.summary.mode): r.summary.qoe_lin_mean for r in results
            if r.summary.algo == baseline}
    head = (f"{'traces':<12} {'mode':<9} {'algo':<14} {'n':>4} {'QoE_lin':>8} {'xMPC':>6} {'p10':>7} "
            f"{'QoE_log':>8} {'QoE_hd':>8} {'rebuf_s':>7} {'kbps':>6} {'switch':>6} {'sw_kbps':>7} "
            f"{'start_s':>7} {'aband':>5}")
    lines = [head, "-" * len(head)]
    for r in results:
        s = r.summary
        b = base.get((s.traces, s.mode))
        ratio = f"{s.qoe_lin_mean / b:6.3f}" if b and b > 0 else f"{'-':>6}"
        lines.append(
            f"{s.traces:<12} {s.mode:<9} {s.algo:<14} {s.sessions:>4} {s.qoe_lin_mean:8.2f} {ratio} "
            f"{s.qoe_lin_p10:7.2f} {s.qoe_log_mean:8.2f} {s.qoe_hd_mean:8.1f} {s.rebuffer_s_mean:7.2f} "
            f"{s.bitrate_kbps_mean:6.0f} {s.switches_mean:6.1f} {s.switch_kbps_mean:7.0f} "
            f"{s.startup_s_mean:7.2f} {s.abandons_mean:5.2f}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- tuning split (see abr/TUNING.md)

TUNING_PRESET_SEEDS = (1001, 1002, 1003, 1004)
"""Seeds of the synthetic presets used for tuning; the benchmark's presets use the default seed (7)."""
TUNING_PRESET_SESSIONS = 40


def half(traces: TraceSet, parity: int) -> TraceSet:
    """The even (``parity`` 0) or odd (1) sessions of a set, by index in sorted file-name order."""
    return TraceSet(f"{traces.name}-{'even' if parity == 0 else 'odd'}",
                    tuple(t for i, t in enumerate(traces.traces) if i % 2 == parity))


def quarter(traces: TraceSet, q: int) -> TraceSet:
    """Sessions whose index (sorted file-name order) is ``q`` modulo 4: quarters 0 and 2 make the even half."""
    return TraceSet(f"{traces.name}-q{q}", tuple(t for i, t in enumerate(traces.traces) if i % 4 == q))


def tuning_sets(seeds: tuple[int, ...] = TUNING_PRESET_SEEDS, sessions: int = TUNING_PRESET_SESSIONS,
                quarters: bool = False) -> list[TraceSet]:
    """The tuning half: even sessions of FCC and HSDPA, and every preset generated with each of ``seeds``
    (one set per seed, ``sessions`` each; other seeds than the benchmark's, so the benchmark's presets
    stay held out). With ``quarters``, each even half is given as its two quarters (index 0 and 2 modulo
    4), so that a tuner can require the goal on each of them (a gain carried by a few sessions of one
    quarter does not count)."""
    from abr.traces import PRESETS, preset, resolve_traces

    sets: list[TraceSet] = []
    for n in ("fcc", "hsdpa"):
        full = resolve_traces(n)[0]
        sets += [quarter(full, 0), quarter(full, 2)] if quarters else [half(full, 0)]
    for n in PRESETS:
        sets += [TraceSet(f"{n}-s{seed}", preset(n, sessions, seed=seed).traces) for seed in seeds]
    return sets


def heldout_sets() -> list[TraceSet]:
    """The held-out half of FCC and HSDPA (odd sessions); the benchmark's presets (seed 7) are held out too."""
    from abr.traces import resolve_traces

    return [half(resolve_traces(n)[0], 1) for n in ("fcc", "hsdpa")]


# ---------------------------------------------------------------- real-link cases (issue 21)

REAL_LINK_TRACES = ("norway_bus_1", "norway_car_1", "norway_tram_1")
BEFORE_LABEL = "default-before"
BEFORE_PARAMS = {"start_rule": "false", "ramp_hold": "0", "ramp_exit": "reservoir", "max_up_step": "2",
                 "startup_ratio": "1.35", "ramp_ratio": "1.3"}
"""The default controller as it was before issue 21 (same code, the new rules off): the benchmark runs it
next to the default in the same run."""


def real_link_sets() -> list[TraceSet]:
    """The links of the real-link runs, one session each: three HSDPA traces and a steady 5 Mbit/s link
    (80 ms RTT, the simulator's default)."""
    from abr.traces import Trace, bundled_traces_dir, load_trace_file

    sets = [TraceSet(n, (load_trace_file(bundled_traces_dir() / "hsdpa" / n),)) for n in REAL_LINK_TRACES]
    steady = Trace("steady_5mbps", (0.0, 600.0), (5.0, 5.0))
    return sets + [TraceSet("steady_5mbps", (steady,))]
