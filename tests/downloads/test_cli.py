"""``marquee download`` as a user runs it (subprocesses, MARQUEE_HOME, no OS keystore: the
passphrase fallback from MARQUEE_KEY_PASSPHRASE), including kill -9 in the middle of a download."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.faults import FaultSpec
from tests.downloads.conftest import FILM

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def env_for(home: Path, service_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MARQUEE_HOME=str(home), MARQUEE_SERVICE=service_url, MARQUEE_KEY_PASSPHRASE="pass phrase",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", PYTHONPATH=str(ROOT))
    env.pop("MARQUEE_LICENSE_PUBKEY", None)
    return env


def marquee(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marquee", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def done_files(home: Path) -> set[str]:
    db = sqlite3.connect(home / "data" / "downloads.sqlite3", timeout=10)
    try:
        return {r[0] for r in db.execute("SELECT path FROM files WHERE done=1")}
    finally:
        db.close()


def spy_on_ocas(svc) -> list[str]:
    seen: list[str] = []
    for node in svc.runtime.ocas:
        original = node._handle

        async def spy(scope, receive, send, original=original):
            seen.append(scope["path"].split("/", 4)[-1])  # /c/<token>/<media>/<path> -> <path>
            await original(scope, receive, send)

        node._handle = spy
    return seen


def test_kill_9_mid_download_then_resume_fetches_no_finished_file_again(svc, tmp_path):
    home = tmp_path / "cli-home"
    env = env_for(home, svc.url)
    for node in svc.runtime.ocas:  # slow links: the download takes several seconds
        svc.call(lambda node=node: node.set_faults(FaultSpec(throughput_kbps=1500)))
    proc = subprocess.Popen([sys.executable, "-m", "marquee", "download", "add", FILM, "--quality", "max", "--wait"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "the download made no progress"
        try:
            if len(done_files(home)) >= 6:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    finished = done_files(home)
    assert 6 <= len(finished) < 19, finished  # 19 files: manifest, subs none, video/audio init + 8 each
    for node in svc.runtime.ocas:
        svc.call(lambda node=node: node.set_faults(FaultSpec()))
    seen = spy_on_ocas(svc)
    listed = json.loads(marquee(env, "download", "list", "--json").stdout)["downloads"]
    assert listed[0]["state"] == "downloading"  # what the crash left
    r = marquee(env, "download", "resume", FILM, "--wait")
    assert r.returncode == 0, r.stderr
    refetched = finished & set(seen)
    assert not refetched, f"finished files fetched again: {refetched}"
    assert set(seen) >= (done_files(home) - finished - {"manifest.mpd"})
    r = marquee(env, "download", "verify", FILM)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr
    assert not list((home / "data" / "downloads" / FILM).glob("*.part"))


def test_cli_add_list_play_offline_and_remove(svc, tmp_path):
    home = tmp_path / "cli-home"
    env = env_for(home, svc.url)
    r = marquee(env, "download", "add", FILM, "--quality", "360p", "--wait", "--json")
    assert r.returncode == 0, r.stderr
    assert "No OS keystore" in r.stderr  # the fallback is announced
    assert json.loads(r.stdout)["state"] == "completed"
    r = marquee(env, "download", "list", "--json")
    out = json.loads(r.stdout)
    item = out["downloads"][0]
    assert item["id"] == FILM and item["state"] == "completed" and item["height"] == 360
    assert item["bytes"] > 0 and Path(item["path"]).is_dir() and Path(item["path"]).is_relative_to(home)
    assert item["license"]["license_remaining_s"] > 29 * 86400 and item["license"]["playback_remaining_s"] is None
    assert out["storage"]["total_bytes"] == item["bytes"]
    assert FILM in marquee(env, "download", "list").stdout
    svc.stop()  # network off
    summary_path = tmp_path / "summary.json"
    r = marquee(env, "download", "play", FILM, "--headless", "--start", "12", "--summary-json", str(summary_path),
                "--quiet", timeout=120)
    assert r.returncode == 0, r.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["ok"] and summary["played_s"] == pytest.approx(4.0, abs=0.8)
    assert set(summary) >= {"startup_ms", "start_s", "played_s", "stall_count", "stall_ms", "switches",
                            "avg_bitrate_kbps", "failovers", "errors", "ok"}
    listed = json.loads(marquee(env, "download", "list", "--json").stdout)["downloads"][0]
    assert listed["license"]["playback_remaining_s"] is not None and listed["position_s"] == 0.0  # ended
    r = marquee(env, "download", "remove", FILM)
    assert r.returncode == 0 and "when online" in r.stdout
    assert not (home / "data" / "downloads" / FILM).exists()
    r = marquee(env, "download", "play", FILM, "--headless", "--summary-json", str(summary_path))
    assert r.returncode == 2 and "no download" in r.stderr.lower()
    assert json.loads(summary_path.read_text())["ok"] is False
