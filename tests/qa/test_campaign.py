"""``marquee qa campaign``: the matrix, the aggregate, the result store, resume after a kill,
and the same campaign on a local two-worker Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marquee.errors import ConfigError
from qa.campaign import Campaign, aggregate, cells, mean_ci, parse_campaign
from qa.campaign_run import pool_size, run_cell
from qa.campaign_store import ResultStore

CAMPAIGN = """\
name = "t"
scenarios = ["3g-commute", "steady-fast"]
algorithms = ["default", "throughput"]
traces = ["hsdpa"]
max_traces = 2
repeats = 2
ci = true
"""


def _find(spec: str, base: Path) -> Path:
    return Path(f"/scenarios/{spec}.toml")


def test_the_matrix_has_every_combination_with_stable_ids():
    c = parse_campaign(CAMPAIGN, "c.toml", _find)
    matrix = cells(c, {}, {"hsdpa": 10})
    assert len(matrix) == 2 * 2 * 2 * 2
    assert len({m.id for m in matrix}) == len(matrix)
    assert matrix[0].id == "3g-commute|default|hsdpa#0|0" and matrix[-1].id == "steady-fast|throughput|hsdpa#1|1"
    own = Campaign("x", ("/s/a.toml",), (), (), None, 1, "sim", False)
    assert [m.id for m in cells(own, {"/s/a.toml": ["fast", "slow"]}, {})] == ["a|fast|-|0", "a|slow|-|0"]


@pytest.mark.parametrize("text, words", [
    ("scenarios = ['a']\nbogus = 1\n", "unknown key(s) bogus"),
    ("scenarios = []\n", "scenarios must name at least one"),
    ("scenarios = ['a']\nalgorithms = ['nope']\n", "unknown algorithm(s) nope"),
    ("scenarios = ['a']\nrepeats = 0\n", "repeats must be a whole number"),
    ("scenarios = ['a']\nmode = 'fast'\n", "mode must be one of sim, real"),
    ("scenarios = ['a'\n", "not valid TOML"),
])
def test_bad_campaign_files_are_plain_errors(text, words):
    with pytest.raises(ConfigError) as err:
        parse_campaign(text, "c.toml", _find)
    assert words in err.value.message


def test_mean_and_confidence_interval_by_hand():
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 * 1.0 / 3 ** 0.5)
    assert mean_ci([5.0]) == (5.0, 0.0)


def test_aggregate_counts_per_trace_wins_and_failures():
    def row(algo, trace, qoe, error=None):
        base = {"scenario": "s", "algorithm": algo, "trace": trace}
        return {**base, "error": error} if error else {**base, "metrics": {"qoe_lin": qoe, "avg_bitrate_kbps": 1000,
                                                                          "rebuffer_ratio": 0, "startup_s": 1,
                                                                          "switches_per_min": 0}}
    agg = aggregate([row("a", "t#0", 5), row("a", "t#0", 7), row("b", "t#0", 5.5), row("a", "t#1", 1),
                     row("b", "t#1", 2), row("b", "t#1", 0, error="boom")])
    by = {g["algorithm"]: g for g in agg["groups"]}
    assert by["a"]["trace_wins"] == 1 and by["b"]["trace_wins"] == 1
    assert by["a"]["qoe_lin"]["mean"] == pytest.approx(13 / 3, abs=1e-4) and by["b"]["failed"] == 1
    assert [w["winners"] for w in agg["trace_winners"]] == [["a"], ["b"]]


def test_the_store_drops_a_torn_last_line_and_resumes(tmp_path: Path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "a", "x": 1}) + "\n" + '{"id": "b", "x"')
    store = ResultStore(path)
    assert store.done("a") and not store.done("b")
    store.add({"id": "b", "x": 2})
    store.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b"]


def test_pool_size_sims_per_core_real_per_core_pair():
    assert (pool_size("sim", 8), pool_size("real", 8), pool_size("real", 1)) == (8, 4, 1)


def test_a_cell_that_fails_is_a_row_with_a_plain_error(tmp_path: Path):
    row = run_cell({"scenario": str(tmp_path / "missing.toml"), "algorithm": "default", "trace": "", "repeat": 0,
                    "mode": "sim", "ci": True})
    assert row["id"] == "missing|default|-|0" and "cannot read scenario" in row["error"] and "metrics" not in row


def _campaign(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "c.toml").write_text(CAMPAIGN)
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path / "home")}
    return subprocess.Popen([sys.executable, "-m", "marquee", "qa", "campaign", str(tmp_path / "c.toml"),
                             "--out", str(tmp_path / "out"), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _rows(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out/results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.mark.slow
def test_campaign_resumes_after_a_kill(tmp_path: Path):
    proc = _campaign(tmp_path, "--workers", "1")
    deadline = time.monotonic() + 60
    while len(_rows(tmp_path)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = _rows(tmp_path)
    assert 2 <= len(before) < 16, "killed too late to test a resume"
    again = _campaign(tmp_path, "--workers", "2")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"16 cells, {len(before)} already done, running {16 - len(before)}" in err
    rows = _rows(tmp_path)
    assert len(rows) == len({r["id"] for r in rows}) == 16
    assert rows[:len(before)] == before  # stored results were kept, not rerun
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["cells"] == 16 and {g["runs"] for g in summary["groups"]} == {4}
    assert "QoE_lin (95% CI)" in out and (tmp_path / "out/report.html").is_file()


@pytest.mark.slow
def test_campaign_on_a_local_two_worker_dask_cluster_matches_the_pool(tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        proc = _campaign(tmp_path / "dask", "--scheduler", cluster.scheduler_address)
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        address = cluster.scheduler_address
    assert f"on Dask scheduler {address}" in out
    assert len({r["ran_by"] for r in _rows(tmp_path / "dask")}) == 2  # both workers ran cells
    pool = _campaign(tmp_path / "pool", "--workers", "2")
    pool.communicate(timeout=180)
    strip = lambda rows: sorted((r["id"], json.dumps(r["metrics"], sort_keys=True)) for r in rows)  # noqa: E731
    assert len(_rows(tmp_path / "dask")) == 16
    assert strip(_rows(tmp_path / "dask")) == strip(_rows(tmp_path / "pool"))
