"""Playback engine benchmarks (issue 4): one command, a table, ratios measured in one run.

    .venv/bin/python benchmarks/engine.py [--runs 10] [--home DIR]

1. Time to first frame on loopback: our engine vs libmpv opening the same DASH
   manifest natively (both headless, same service, same content). Goal: ours <= 1.0x.
2. Failover cost: from the serving OCA dying (refused, reset mid-body, silent stall)
   to the next byte from another OCA. Goals: <= 100 ms refused/reset, <= 1.5 s stall.
3. Engine CPU (fetch + remux + feed, no decode) per hour of 1080p, as a fraction of
   mpv's own decode cost of the same stream. Goal: <= 10 %.
4. Fetch throughput on loopback: our fetcher vs curl fetching the same segments.
   Goal: >= 0.8x.

The service runs in a child process (``marquee serve``), so this process's CPU time
is the engine's alone. Content is the quick demo build (6 rungs up to 1080p), made
once under ``--home`` (default: /tmp/marquee-bench).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(home: Path) -> None:
    os.environ["MARQUEE_HOME"] = str(home)
    from marquee import paths

    if not (paths.content_dir() / "build.json").exists():
        print("building quick demo content (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "marquee", "content", "build", "--quick"], check=True)


def admin(service_url: str, oca: str, faults: dict[str, Any] | None) -> None:
    import httpx

    from marquee import paths
    from marquee.private_files import admin_headers

    url = f"{service_url}/v1/admin/ocas/{oca}/faults"
    headers = admin_headers(paths.service_dir())  # the embedded service's secret (the same home)
    response = httpx.put(url, json=faults, headers=headers) if faults else httpx.delete(url, headers=headers)
    response.raise_for_status()


# ---------------------------------------------------------------- 1. startup
def time_to_first_frame(service_url: str, runs: int) -> tuple[list[float], list[float]]:
    from marquee.api import ServiceClient
    from player.engine import PlaybackEngine
    from player.launch import request_for_title
    from player.mpv_adapter import MpvPlayer

    client = ServiceClient(service_url)
    client.login()
    profile = client.profiles()[0]
    ours, native = [], []
    for _ in range(runs):
        request = request_for_title(client, profile.id, "t001", start_s=0.0)
        first = threading.Event()
        engine = PlaybackEngine(lambda cb: MpvPlayer(cb, mode="headless"),
                                on_event=lambda e: first.set() if e.kind == "startup" else None)
        engine.prepare()  # mpv created before the clock starts, as for the native run below
        started = time.perf_counter()
        engine.play(request)
        first.wait(20)
        ours.append((time.perf_counter() - started) * 1000)
        engine.close()

        got = threading.Event()
        player = MpvPlayer(lambda ev: got.set() if ev.kind == "first-frame" else None, mode="headless")
        started = time.perf_counter()
        player.play_url(request.manifest_url)
        got.wait(20)
        native.append((time.perf_counter() - started) * 1000)
        player.close()
    return ours, native


# --------------------------------------------------------------- 2. failover
async def failover_costs(service_url: str, runs: int) -> dict[str, list[float]]:
    import httpx

    from marquee.api import ServiceClient
    from marquee.clock import SystemClock
    from player.fetch import Fetcher, FetchTarget, OcaPool
    from player.oca.ranking import OcaRanker

    client = ServiceClient(service_url)
    client.login()
    info = client.playback(client.profiles()[0].id, "t001")
    bases = {o.id: o.base_url for o in sorted(info.ocas, key=lambda o: o.rank)}
    first, second = list(bases)[:2]
    faults = {
        "refused": {"down": True},
        "reset": {"truncate_after_bytes": 200_000},
        "stall": {"stall_after_bytes": 200_000},
    }
    out: dict[str, list[float]] = {k: [] for k in faults}
    async with httpx.AsyncClient() as http:
        for kind, spec in faults.items():
            admin(service_url, first, spec)
            for i in range(runs):
                events: list[Any] = []
                ranker = OcaRanker([first, second])
                ranker.record_success(first, 5_000_000, 0.05, 0.001, 0.0)  # known-good: it is tried first
                fetcher = Fetcher(http, OcaPool(dict(bases)), ranker, SystemClock(), events.append,
                                  rng=random.Random(i))
                fetcher.throughput_hint_bps = 400e6
                await fetcher.fetch(FetchTarget(f"v1080/seg-{1 + i % 8}.m4s"))
                costs = [e.data["cost_ms"] for e in events if e.kind == "failover"]
                if costs:
                    out[kind].append(costs[0])
            admin(service_url, first, None)
    return out


# ------------------------------------------------------------------ 3. CPU
def engine_and_decode_cpu(service_url: str) -> tuple[float, float, float]:
    """(engine CPU s, mpv decode CPU s, content s) for the top rung played end to end."""
    from marquee.api import ServiceClient
    from player.engine import PlaybackEngine
    from player.feed import ByteFeed
    from player.launch import request_for_title
    from player.mpv_adapter import MpvEvent

    client = ServiceClient(service_url)
    client.login()
    request = request_for_title(client, client.profiles()[0].id, "t001", start_s=0.0)
    captured = bytearray()

    class Drain:
        """An output that only reads the feed (no demux, no decode): what remains is the
        engine's own work: fetch, remux, feed."""

        def __init__(self, on_event: Any) -> None:
            self.on_event = on_event

        def play_feed(self, feed: ByteFeed, *, start_s: float | None = None) -> str:
            def drain() -> None:
                self.on_event(MpvEvent("loaded"))
                self.on_event(MpvEvent("first-frame"))
                while True:
                    chunk = feed.read(1 << 20, timeout=30)
                    if not chunk:
                        break
                    captured.extend(chunk)
                self.on_event(MpvEvent("eof", True))

            threading.Thread(target=drain, daemon=True).start()
            return "drain://"

        def __getattr__(self, name: str) -> Any:
            return lambda *a, **k: None

    # Steady state: CPU between the first and the last top-rung segment (startup, manifest
    # parsing and thread creation are one-off costs, not per-hour ones).
    marks: list[tuple[float, float]] = []  # (process CPU, content end) at each top-rung segment

    def on_event(event: Any) -> None:
        if event.kind == "segment" and event.data["media"] == "video" and event.data["rung"] == 5:
            marks.append((time.process_time(), event.data["start_s"] + event.data["duration_s"]))

    engine = PlaybackEngine(Drain, on_event=on_event)
    engine.prepare()
    engine.play(replace(request, abr_algorithm="throughput"))
    engine.set_quality_cap(5)
    summary = engine.wait(120)
    engine.close()
    engine_cpu = marks[-1][0] - marks[0][0]
    content_s = marks[-1][1] - marks[0][1]
    assert summary is not None
    with tempfile.NamedTemporaryFile(suffix=".ts", delete=False) as f:
        f.write(captured)
        ts_path = f.name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # libmpv in a child process (the same library the engine feeds; no mpv command needed)
    decode = ("import mpv, sys; p = mpv.MPV(config=False, vo='null', ao='null', untimed=True); "
              "p.play(sys.argv[1]); p.wait_for_playback(); p.terminate()")
    subprocess.run([sys.executable, "-c", decode, ts_path], check=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the same child without the decode: Python's and libmpv's start-up, taken off the decode's CPU
    subprocess.run([sys.executable, "-c", decode.replace("p.play(sys.argv[1]); p.wait_for_playback(); ", "")],
                   check=True, timeout=60)
    idle = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(ts_path)
    startup = (idle.ru_utime - after.ru_utime) + (idle.ru_stime - after.ru_stime)
    mpv_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) - startup
    return engine_cpu, mpv_cpu, content_s


# ------------------------------------------------------------ 4. throughput
async def fetch_throughput(service_url: str, rounds: int) -> tuple[float, float]:
    """Median Mbit/s of ours and curl over alternating rounds (the machine is shared: taking
    turns exposes both to the same background load)."""
    import httpx

    from marquee.api import ServiceClient
    from marquee.clock import SystemClock
    from player.fetch import Fetcher, FetchTarget, OcaPool
    from player.oca.ranking import OcaRanker

    client = ServiceClient(service_url)
    client.login()
    info = client.playback(client.profiles()[0].id, "t001")
    base = info.ocas[0].base_url
    names = [f"v1080/seg-{n}.m4s" for n in range(1, 9)]
    ours, curl = [], []
    from player.engine import http_client

    async with http_client() as http:  # the engine's own client and its settings
        fetcher = Fetcher(http, OcaPool({"a": base}), OcaRanker(["a"]), SystemClock(), lambda e: None)
        await fetcher.fetch(FetchTarget(names[0]))  # a warm connection, as curl reuses its own
        for _ in range(rounds):
            started = time.perf_counter()
            total = 0
            for name in names:
                total += len((await fetcher.fetch(FetchTarget(name))).data)
            ours.append(total * 8 / (time.perf_counter() - started) / 1e6)
            args = ["curl", "-s", "-o", "/dev/null", base + names[0]]  # curl's own warm-up request
            for name in names:
                args += ["-o", "/dev/null", base + name]
            started = time.perf_counter()
            subprocess.run(args, check=True)
            # curl fetched one extra (warm-up) segment: count it, it is the same size class
            curl.append((total + total / len(names)) * 8 / (time.perf_counter() - started) / 1e6)
    return statistics.median(ours), statistics.median(curl)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "marquee-bench")
    args = parser.parse_args()
    prepare(args.home)
    from marquee.embedded import start_embedded_service

    with start_embedded_service() as service:
        ours, native = time_to_first_frame(service.url, args.runs)
        costs = asyncio.run(failover_costs(service.url, args.runs))
        engine_cpu, mpv_cpu, content_s = engine_and_decode_cpu(service.url)
        tput_ours, tput_curl = asyncio.run(fetch_throughput(service.url, 9))

    med = statistics.median
    rows = [
        ("time to first frame (median ms)", f"{med(ours):.0f}", f"mpv native {med(native):.0f}",
         f"{med(ours) / med(native):.2f}x", "<= 1.0x"),
        ("failover, refused (median ms)", f"{med(costs['refused']):.0f}", "-", "-", "<= 100 ms"),
        ("failover, reset mid-body (median ms)", f"{med(costs['reset']):.0f}", "-", "-", "<= 100 ms"),
        ("failover, silent stall (median ms)", f"{med(costs['stall']):.0f}", "-", "-", "<= 1500 ms"),
        ("engine CPU per hour of 1080p (s)", f"{engine_cpu / content_s * 3600:.0f}",
         f"mpv decode {mpv_cpu / content_s * 3600:.0f}", f"{engine_cpu / mpv_cpu:.1%}", "<= 10 %"),
        ("fetch throughput (Mbit/s)", f"{tput_ours:.0f}", f"curl {tput_curl:.0f}", f"{tput_ours / tput_curl:.2f}x",
         ">= 0.8x"),
    ]
    widths = [max(len(r[i]) for r in rows + [("metric", "ours", "baseline", "ratio", "goal")]) for i in range(5)]
    header = ("metric", "ours", "baseline", "ratio", "goal")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(f"\nruns: {args.runs}; startup samples ours {[round(x) for x in ours]}, native {[round(x) for x in native]}")
    print(f"failover samples: { {k: [round(x) for x in v] for k, v in costs.items()} }")
    return 0


if __name__ == "__main__":
    sys.exit(main())
