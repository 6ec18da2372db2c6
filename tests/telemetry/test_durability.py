"""10,000 events, a flapping collector (500s, slow answers, lost answers, down) and two
``kill -9`` of the client process: every recorded event arrives exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from tests.telemetry.conftest import Collector

WORKER = Path(__file__).with_name("record_worker.py")
TOTAL = 10_000


def run_worker(queue: Path, url: str, session: str, count: int, kill_after: int | None) -> tuple[int, bool]:
    """(highest seq reported committed, finished normally)."""
    proc = subprocess.Popen([sys.executable, str(WORKER), str(queue), url, session, str(count)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.stdout is not None
    committed, done = 0, False
    deadline = time.monotonic() + 90
    for line in proc.stdout:
        if line.startswith("committed "):
            committed = int(line.split()[1])
            if kill_after is not None and committed >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)  # no cleanup, no flush: the hard way
                break
        elif line.strip() == "done":
            done = True
        assert time.monotonic() < deadline, "worker took too long"
    proc.wait(30)
    if kill_after is not None:
        assert proc.returncode == -signal.SIGKILL
    return committed, done


def flap(collector: Collector, stop: threading.Event) -> None:
    cycle = [("error", 0.3), ("ok", 0.3), ("slow", 0.5), ("lost", 0.3), ("ok", 0.2), ("down", 0.4), ("ok", 0.3)]
    i = 0
    while not stop.is_set():
        mode, length = cycle[i % len(cycle)]
        i += 1
        if mode == "error":
            collector.faults(status=500)
        elif mode == "slow":
            collector.faults(delay_ms=1500)  # longer than the client's 1 s timeout
        elif mode == "lost":
            collector.faults(status_after_store=503)  # stored, but the client hears a failure
        elif mode == "down":
            collector.down()
        stop.wait(length)
        if mode == "down":
            collector.up()
        else:
            collector.clear()


def test_every_recorded_event_arrives_exactly_once(collector: Collector, tmp_path: Path) -> None:
    queue = tmp_path / "client" / "queue.sqlite3"
    queue.parent.mkdir()
    stop = threading.Event()
    flapper = threading.Thread(target=flap, args=(collector, stop), daemon=True)
    flapper.start()
    try:
        sessions: dict[str, int] = {}
        s1, s2, s3 = (uuid.uuid4().hex for _ in range(3))
        sessions[s1], _ = run_worker(queue, collector.url, s1, TOTAL, kill_after=3000)
        sessions[s2], _ = run_worker(queue, collector.url, s2, TOTAL, kill_after=3000)
        remaining = TOTAL - sessions[s1] - sessions[s2]
        sessions[s3], done = run_worker(queue, collector.url, s3, remaining, kill_after=None)
        assert done and sessions[s3] == remaining
    finally:
        stop.set()
        flapper.join(5)
        collector.clear()
        collector.up()
    assert sum(sessions.values()) >= TOTAL
    rows = collector.store.telemetry_events()
    counts = Counter((r["session_id"], r["seq"]) for r in rows)
    duplicates = [k for k, n in counts.items() if n > 1]
    assert not duplicates, f"{len(duplicates)} events stored more than once"
    for session, recorded in sessions.items():
        got = {seq for (sid, seq) in counts if sid == session}
        missing = set(range(1, recorded + 1)) - got
        assert not missing, f"session {session[:6]}: {len(missing)} recorded events never arrived"
    assert collector.store.telemetry_counts()["client_dropped"] == 0
    faults = collector.http.get("/v1/admin/telemetry/faults").json()["counters"]
    assert faults["faulted"] > 0 and faults["duplicates"] > 0  # the flapping did hit uploads, and retries
