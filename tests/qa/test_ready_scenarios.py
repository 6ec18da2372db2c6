"""Every ready scenario, in its short (CI) form, against the real player: the embedded
service and OCAs with the scenario's shaping and faults, the real engine, real mpv with null
outputs, on the quick content (16 s). Each must pass its thresholds, and the events must
show that the scenario really happened (failovers, outages, refreshed tokens, seeks).
One run also produces the report, which must contain its plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.runner import ScenarioResult, run_scenario, write_outputs
from qa.scenario import library, load_scenario

pytestmark = [pytest.mark.slow, pytest.mark.mpv]

_RESULTS: dict[str, ScenarioResult] = {}


def _kinds(res: ScenarioResult, kind: str) -> list[dict]:
    run = res.variants[0].real
    assert run is not None
    return [e for e in run.events + run.marks if e["kind"] == kind]


def _explain(res: ScenarioResult) -> str:
    from qa.runner import format_table

    lines = [format_table(res)]
    for v in res.variants:
        lines += [c.describe() for c in v.checks]
        if v.real is not None:
            lines += [f"error: {e}" for e in v.real.summary.get("errors", [])]
    return "\n".join(lines)


@pytest.mark.parametrize("path", library(), ids=lambda p: p.stem)
def test_ready_scenario_passes_in_short_form(path: Path, quick_content: Path):
    scn = load_scenario(path, ci=True)
    res = run_scenario(scn, quick_content)
    _RESULTS[path.stem] = res
    assert res.passed, _explain(res)
    run = res.variants[0].real
    assert run is not None and not run.timed_out
    assert run.metrics is not None and run.metrics.played_s >= scn.duration_s - 0.5
    name = path.stem
    if name in ("oca-dies", "flapping-oca"):
        assert _kinds(res, "failover"), "no failover although the serving OCA went down"
        victim = _kinds(res, "qa_serving")[0]
        after = [e for e in _kinds(res, "segment") if e["t"] > victim["t"] + 0.5]
        assert after, "nothing was fetched after the fault"
        if name == "oca-dies":
            assert all(e["oca"] != victim["oca"] for e in after), "a dead OCA served segments"
    if name == "all-ocas-down":
        assert any(e.get("code") == "all_ocas_down" for e in _kinds(res, "error")), "no 'all servers down' report"
    if name == "token-expiry":
        refused = sum(c["status"].get("403", 0) for c in run.oca_counters.values())
        assert refused > 0, f"the tokens never expired: {run.oca_counters}"
    if name == "seek-storm":
        assert len(_kinds(res, "seek")) == len(scn.seeks)


def test_the_report_is_produced_with_its_plots(tmp_path: Path, quick_content: Path):
    res = _RESULTS.get("oca-dies") or run_scenario(load_scenario(library()[0], ci=True), quick_content)
    files = write_outputs(res, tmp_path)
    html = files["report"].read_text()
    assert html.count("data:image/png;base64,") == len(res.variants)
    for word in ("Thresholds", "QoE summary", "sim model", "real", "Timelines"):
        assert word in html
    pngs = sorted(tmp_path.glob("timeline-*.png"))
    assert len(pngs) == len(res.variants) and pngs[0].stat().st_size > 20_000
    summary = json.loads(files["summary"].read_text())
    variant = summary["variants"][0]
    assert {"real", "sim", "sim_vs_real", "checks", "engine_summary"} <= set(variant)
    assert {"qoe_lin_real", "qoe_lin_model", "qoe_diff_pct_model"} <= set(variant["sim_vs_real"])
    rows = [json.loads(line) for line in files["log"].read_text().splitlines()]
    kinds = {r["kind"] for r in rows}
    assert {"decision", "segment", "startup", "state"} <= kinds
    assert all("variant" in r and "t" in r for r in rows)
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)
