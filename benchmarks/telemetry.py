"""Sync + telemetry benchmarks (issue 7): one command, a table, ratios measured in one run.

    .venv/bin/python benchmarks/telemetry.py [--home DIR] [--events 100000]

1. Overhead during 1080p playback: the top rung of the quick demo build played in real
   time through the engine and libmpv headless (vo=null, ao=null: fetch, remux, feed and
   decode, as ``marquee play --headless``) with position sync and telemetry
   attached (heartbeat every 5 s instead of 30, CMCD headers on every request). The
   observers' CPU = time inside their engine-thread callbacks (thread CPU clock) + the
   CPU of their worker threads (/proc/self/task/<tid>/stat). Goal: <= 2 % of the
   engine's CPU. Also shown: the same playback without them (A/B, noisy on 2 shared cores).
2. Durable events per second: events committed to the SQLite WAL queue
   (``record`` + group commit by the writer thread; ``record_durable`` in groups of 100;
   and the worst case, one transaction per event). Goal: >= 10,000/s.

The service runs in a child process (``marquee serve``), so this process's CPU is the
client's alone. Content: the quick demo build under ``--home`` (default /tmp/marquee-bench).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")


def prepare(home: Path) -> None:
    os.environ["MARQUEE_HOME"] = str(home)
    from marquee import paths

    if not (paths.content_dir() / "build.json").exists():
        print("building quick demo content (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "marquee", "content", "build", "--quick"], check=True)


def thread_cpu(native_id: int | None) -> float:
    if native_id is None:
        return 0.0
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


class Timed:
    """Wraps an observer; sums the thread CPU time spent in its callbacks."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.cpu = inner, 0.0

    def _t(self, fn: Callable[..., Any], *a: Any) -> Any:
        t0 = time.thread_time()
        try:
            return fn(*a)
        finally:
            self.cpu += time.thread_time() - t0

    def start(self, request: Any) -> Any:
        return self._t(self.inner.start, request)

    def on_snapshot(self, snap: Any) -> None:
        self._t(self.inner.on_snapshot, snap)

    def on_event(self, ev: Any) -> None:
        self._t(self.inner.on_event, ev)

    def end(self) -> None:
        self._t(self.inner.end)


def play_1080p(service_url: str, attach: bool, tmp: Path) -> dict[str, float]:
    from marquee.api import ServiceClient
    from player.engine import PlaybackEngine
    from player.launch import request_for_title
    from player.mpv_adapter import MpvPlayer
    from sync.client import ProgressSync
    from sync.store import LocalStore
    from telemetry.attach import lazy_transport
    from telemetry.client import Telemetry, http_upload
    from telemetry.observed import ObservedEngine
    from telemetry.playback import PlaybackTelemetry

    client = ServiceClient(service_url)
    client.login()
    pid = client.profiles()[0].id
    request = request_for_title(client, pid, "t001", start_s=0.0)
    engine: Any = PlaybackEngine(lambda cb: MpvPlayer(cb, mode="headless"))  # what `marquee play --headless` runs
    sync = tele = None
    observers: list[Timed] = []
    if attach:
        sync = ProgressSync(lazy_transport(service_url, client), store=LocalStore(tmp / "sync.sqlite3"))
        tele = Telemetry(http_upload(service_url), path=tmp / "queue.sqlite3")
        observers = [Timed(sync), Timed(PlaybackTelemetry(tele.record, heartbeat_s=5.0, cmcd="headers"))]
        engine = ObservedEngine(engine, observers)
    cpu0 = time.process_time()
    engine.set_quality_cap(5)
    engine.play(request)
    time.sleep(0.2)
    engine.set_quality_cap(5)
    summary = engine.wait(120)
    engine.stop()
    total_cpu = time.process_time() - cpu0
    workers = 0.0
    recorded = 0
    if attach:
        assert sync is not None and tele is not None
        tele.flush(10)
        sync.flush(10)
        workers = (thread_cpu(sync._thread.native_id) + thread_cpu(tele._writer.native_id)
                   + thread_cpu(tele._uploader.native_id))
        recorded = tele.uploaded_events
        tele.close()
        sync.close()
    engine.close()
    assert summary is not None and summary.ok, summary
    callbacks = sum(o.cpu for o in observers)
    return {"total_cpu": total_cpu, "observers": callbacks + workers, "callbacks": callbacks, "workers": workers,
            "played_s": summary.played_s, "events": recorded}


def durable_rates(n: int, tmp: Path) -> dict[str, float]:
    from telemetry.client import Telemetry
    from telemetry.policy import BatchPolicy
    from telemetry.queue import DurableQueue
    from telemetry.schema import make_data

    def event(i: int) -> dict[str, Any]:
        return {"kind": "segment", "session_id": "ab" * 16, "seq": i, "ts": 1.8e9 + i, "t": i / 10,
                "data": make_data("segment", rung=5, bytes=1_500_000, download_ms=120.0, oca="oca-1",
                                  throughput_kbps=95_000.0, bitrate_kbps=6000.0)}

    events = [event(i) for i in range(n)]
    out: dict[str, float] = {}
    tele = Telemetry(None, path=tmp / "rate-record.sqlite3", installation_id="1" * 32,
                     policy=BatchPolicy(max_queue_events=10 * n))
    t0 = time.perf_counter()
    for e in events:
        tele.record(e)
    assert tele.wait_written(120)
    out["record (group commit)"] = n / (time.perf_counter() - t0)
    assert tele.stats() is not None and tele.stats().waiting == n  # type: ignore[union-attr]
    tele.close()
    q = DurableQueue(tmp / "rate-100.sqlite3", max_events=10 * n)
    t0 = time.perf_counter()
    for i in range(0, n, 100):
        q.append(events[i:i + 100], 1.0)
    out["record_durable, 100 per commit"] = n / (time.perf_counter() - t0)
    q.close()
    q = DurableQueue(tmp / "rate-1.sqlite3", max_events=10 * n)
    m = min(n, 20_000)
    t0 = time.perf_counter()
    for e in events[:m]:
        q.append([e], 1.0)
    out["one commit per event"] = m / (time.perf_counter() - t0)
    q.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "marquee-bench")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    prepare(args.home)
    from marquee.embedded import start_embedded_service

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with start_embedded_service() as service:
            base = play_1080p(service.url, False, tmp)
            withs = play_1080p(service.url, True, tmp)
        rates = durable_rates(args.events, tmp)

    engine_cpu = withs["total_cpu"] - withs["observers"]
    rows = [
        ("sync+telemetry CPU during 1080p playback", f"{withs['observers'] * 1000:.0f} ms",
         f"engine {engine_cpu * 1000:.0f} ms", f"{withs['observers'] / engine_cpu:.2%}", "<= 2 %"),
        ("  A/B: process CPU with / without", f"{withs['total_cpu'] * 1000:.0f} ms",
         f"{base['total_cpu'] * 1000:.0f} ms", f"{withs['total_cpu'] / base['total_cpu'] - 1:+.1%}", "(noisy)"),
    ]
    for name, rate in rates.items():
        rows.append((f"durable events/s: {name}", f"{rate:,.0f}", "-", f"{rate / 10_000:.1f}x goal", ">= 10,000/s"))
    header = ("metric", "ours", "baseline", "ratio", "goal")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(f"\nplayed {withs['played_s']:.1f} s of 1080p in real time; observer callbacks "
          f"{withs['callbacks'] * 1000:.1f} ms, worker threads {withs['workers'] * 1000:.0f} ms "
          f"(10 ms ticks); {withs['events']:.0f} telemetry events uploaded; {args.events:,} events for the rates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
