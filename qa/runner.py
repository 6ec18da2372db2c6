"""One scenario, every variant: real run (unless sim only), both simulator predictions,
verdicts, the comparison, and the files (``report.html``, ``summary.json``, ``decisions.jsonl``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from qa.media import ContentInfo, content_info, horizon_s
from qa.metrics import Check, RunMetrics, compute_metrics, counted, verdict
from qa.network import effective_trace
from qa.realrun import RealRun, run_real, write_log
from qa.scenario import Scenario, Variant
from qa.simrun import SimRun, run_abr_realistic, run_model


@dataclass
class VariantResult:
    variant: Variant
    model: SimRun
    abr: SimRun
    model_metrics: RunMetrics
    abr_metrics: RunMetrics
    real: RealRun | None = None
    checks: list[Check] = field(default_factory=list)  # of the real run, or of the model in --sim

    @property
    def passed(self) -> bool:
        if self.real is not None:
            return self.real.passed
        return all(c.ok for c in self.checks)

    def compared_runs(self, abr_label: str = "sim abr") -> list[tuple[str, RunMetrics, float | None]]:
        """(label, metrics, QoE_lin difference to the real run in %) of the real run (when it
        produced metrics) and the two simulations, as the tables show them."""
        real = self.real.metrics if self.real is not None else None
        runs = ([("real", real)] if real is not None else []) + [("sim model", self.model_metrics),
                                                                  (abr_label, self.abr_metrics)]
        return [(label, m, diff_pct(m.qoe_lin, real.qoe_lin) if real is not None and label != "real" else None)
                for label, m in runs]


@dataclass
class ScenarioResult:
    scenario: Scenario
    content: ContentInfo
    sim_only: bool
    variants: list[VariantResult]
    trace_horizon_s: float

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.variants)


def sim_metrics(run: SimRun) -> RunMetrics:
    return compute_metrics(run.bitrates_kbps, startup_s=run.startup_s, stall_s=run.stall_s,
                           stall_count=run.stall_count, played_s=run.played_s)


def diff_pct(sim: float, real: float) -> float | None:
    """Relative difference of a QoE value, in % of the real one's magnitude."""
    if abs(real) < 1e-9:
        return None
    return (sim - real) / abs(real) * 100


def run_scenario(scn: Scenario, content_dir: Path | None, *, sim_only: bool = False,
                 progress: Callable[[str], None] = lambda s: None) -> ScenarioResult:
    info = content_info(scn, content_dir)
    horizon = horizon_s(scn, info.video)
    trace = effective_trace(scn, horizon)
    results = []
    for variant in scn.variants:
        model = run_model(scn, variant, trace, info.video, list(info.audio_bytes))
        abr = run_abr_realistic(scn, variant, trace, info.video)
        vr = VariantResult(variant, model, abr, sim_metrics(model), sim_metrics(abr))
        if sim_only:
            vr.checks = verdict(vr.model_metrics, scn.thresholds)
        else:
            progress(f"{scn.name} / {variant.name}: playing {scn.duration_s:g} s in real time")
            vr.real = run_real(scn, variant, content_dir, horizon_s=horizon, progress=progress)
            vr.checks = vr.real.checks
        results.append(vr)
    return ScenarioResult(scn, info, sim_only, results, horizon)


def summary_json(res: ScenarioResult) -> dict[str, Any]:
    scn = res.scenario
    out: dict[str, Any] = {
        "scenario": scn.name, "source": scn.source, "mode": "sim" if res.sim_only else "real",
        "short": scn.short, "content": res.content.label, "duration_s": scn.duration_s, "passed": res.passed,
        "variants": [],
    }
    for v in res.variants:
        entry: dict[str, Any] = {
            "name": v.variant.name, "algo": v.variant.algo, "params": dict(v.variant.params), "passed": v.passed,
            "checks": [c.to_json() for c in v.checks],
            "sim": {"model": v.model_metrics.to_json(), "abr_realistic": v.abr_metrics.to_json()},
        }
        if v.real is not None and v.real.metrics is not None:
            real = v.real.metrics
            entry["real"] = real.to_json()
            entry["engine_summary"] = v.real.summary
            entry["timed_out"] = v.real.timed_out
            entry["oca_counters"] = v.real.oca_counters
            entry["sim_vs_real"] = {
                "qoe_lin_real": round(real.qoe_lin, 3),
                "qoe_lin_model": round(v.model_metrics.qoe_lin, 3),
                "qoe_lin_abr_realistic": round(v.abr_metrics.qoe_lin, 3),
                "qoe_diff_pct_model": _r(diff_pct(v.model_metrics.qoe_lin, real.qoe_lin)),
                "qoe_diff_pct_abr_realistic": _r(diff_pct(v.abr_metrics.qoe_lin, real.qoe_lin)),
                "rung_agreement_model": round(rung_agreement(v.model.bitrates_kbps, _real_bitrates(v.real)), 3),
            }
        out["variants"].append(entry)
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _real_bitrates(run: RealRun) -> list[float]:
    segs = [e for e in run.events if e["kind"] == "segment" and e.get("media", "video") == "video"]
    return [float(segs[k]["bitrate_kbps"]) for k in counted([e.get("start_s", 0.0) for e in segs],
                                                             run.final_position_s)]


def rung_agreement(a: list[float], b: list[float]) -> float:
    """Share of segments (in fetch order) fetched at the same bitrate in both runs."""
    n = min(len(a), len(b))
    if n == 0:
        return 0.0
    return sum(1 for x, y in zip(a[:n], b[:n]) if x == y) / max(len(a), len(b))


def write_outputs(res: ScenarioResult, out_dir: Path) -> dict[str, Path]:
    from qa.report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"summary": out_dir / "summary.json", "report": out_dir / "report.html",
             "log": out_dir / "decisions.jsonl"}
    files["summary"].write_text(json.dumps(summary_json(res), indent=2) + "\n", encoding="utf-8")
    reals = [v.real for v in res.variants if v.real is not None]
    if reals:
        write_log(files["log"], reals)
    else:
        with files["log"].open("w", encoding="utf-8") as fh:
            for v in res.variants:
                r = v.model.result
                for k, (rung, t, reason) in enumerate(zip(r.rungs, r.time_s, r.reasons)):
                    fh.write(json.dumps({"variant": v.variant.name, "kind": "sim_decision", "t": round(t, 3),
                                         "n": k, "rung": rung, "reason": reason}) + "\n")
    write_report(files["report"], res)
    return files


def format_table(res: ScenarioResult) -> str:
    head = f"{'variant':<14} {'run':<13} {'QoE_lin':>8} {'diff%':>6} {'startup':>7} {'stall_s':>7} {'stalls':>6} " \
           f"{'kbps':>6} {'sw/min':>6} {'fovers':>6} {'fatal':>5}"
    lines = [head, "-" * len(head)]
    for v in res.variants:
        for label, m, d in v.compared_runs():
            startup = "-" if m.startup_s is None else f"{m.startup_s:.2f}"
            lines.append(
                f"{v.variant.name:<14} {label:<13} {m.qoe_lin:8.2f} {'' if d is None else f'{d:+.1f}':>6} "
                f"{startup:>7} {m.stall_s:7.2f} {m.stall_count:>6} {m.avg_bitrate_kbps:6.0f} "
                f"{m.switches_per_min:6.1f} {m.failovers:>6} {m.fatal_errors:>5}")
    return "\n".join(lines)
