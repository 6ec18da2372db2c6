"""``marquee qa list`` and ``marquee qa run --sim``: output contracts and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.scenario import library


def _marquee(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MARQUEE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "marquee", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_list_prints_one_path_per_line(tmp_path):
    proc = _marquee("qa", "list", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(library()) == 9
    assert all(Path(line).is_file() and line.endswith(".toml") for line in lines)


def test_sim_run_writes_the_report_and_the_summary(tmp_path, quick_content):
    out = tmp_path / "report"
    proc = _marquee("qa", "run", "sudden-drop", "--sim", "--ci", "--content", str(quick_content),
                    "--report", str(out), home=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "sim" and summary["short"] is True
    assert summary["passed"] == (proc.returncode == 0)
    variant = summary["variants"][0]
    assert {c["name"] for c in variant["checks"]} >= {"max_rebuffer_ratio", "max_startup_s", "max_fatal_errors"}
    assert {"model", "abr_realistic"} <= set(variant["sim"])
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 1 and "Sudden drop" in html
    assert (out / "timeline-1-default.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "decisions.jsonl").read_text().strip()
    assert "QoE_lin" in proc.stdout and ("PASS" in proc.stdout or "FAIL" in proc.stdout)


def test_a_failed_threshold_exits_1(tmp_path, quick_content):
    scenario = tmp_path / "hopeless.toml"
    scenario.write_text('name = "hopeless"\n[content]\nduration_s = 8\n[network]\nmbps = 0.3\n'
                        '[thresholds]\nmin_avg_bitrate_kbps = 4000\n')
    proc = _marquee("qa", "run", str(scenario), "--sim", "--content", str(quick_content), home=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL min_avg_bitrate_kbps" in proc.stdout


def test_an_invalid_scenario_exits_2_naming_the_line(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text('name = "bad"\n[network]\nmbps = 4\n\n[[faults]]\nat_s = 3\noca = "oca-7"\ndown = true\n')
    proc = _marquee("qa", "run", str(scenario), "--sim", home=tmp_path)
    assert proc.returncode == 2
    assert f"{scenario}:7: faults.0.oca" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["no-such-scenario"])
def test_an_unknown_scenario_name_lists_the_ready_ones(tmp_path, name):
    proc = _marquee("qa", "run", name, "--sim", home=tmp_path)
    assert proc.returncode == 2 and "sudden-drop" in proc.stderr


def test_a_sim_run_on_a_fresh_home_builds_nothing_and_uses_the_shipped_sizes(tmp_path):
    """``--sim`` needs segment sizes, not video: on a fresh home it starts at once from
    ``assets/sim`` instead of encoding the demo library first (minutes on two cores)."""
    home = tmp_path / "home"
    proc = _marquee("qa", "run", "sudden-drop", "--sim", "--ci", home=home)
    assert proc.returncode in (0, 1), proc.stderr
    assert "shipped segment sizes" in proc.stdout
    assert "building the demo content" not in proc.stderr
    assert not any(home.rglob("manifest.mpd")), "a sim run built content"


@pytest.mark.parametrize("args, words", [
    (["--mbps", "4", "--upstream", "ftp://host/x.mpd"], "--upstream must be an http:// or https:// URL"),
    (["--trace", "nope.txt", "--upstream", "http://127.0.0.1:1/x.mpd"], "no trace file 'nope.txt'"),
    (["--mbps", "4", "--faults", "/no/such/faults.toml", "--upstream", "http://127.0.0.1:1/x.mpd"],
     "cannot read the faults file"),
])
def test_link_bad_input_is_a_plain_error(tmp_path, args, words):
    proc = _marquee("qa", "link", *args, home=tmp_path)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_link_serves_through_the_proxy_and_writes_the_log(tmp_path):
    import functools
    import http.server
    import threading

    import httpx

    (tmp_path / "x").mkdir()
    (tmp_path / "x/seg.m4s").write_bytes(bytes(200_000))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "marquee", "qa", "link", "--mbps", "8", "--upstream",
                             f"http://127.0.0.1:{upstream.server_port}/x/seg.m4s", "--log", str(tmp_path / "log.jsonl"),
                             "--seconds", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/x/seg.m4s")
        assert len(httpx.get(url, timeout=30).content) == 200_000
        log = tmp_path / "log.jsonl"
        for _ in range(100):  # the row is written once the response has ended, just after the client has it all
            if log.exists() and log.read_text().endswith("\n"):
                break
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["path"], r["status"], r["bytes"]) for r in rows] == [
        ("link_request", "/x/seg.m4s", 200, 200_000)]
