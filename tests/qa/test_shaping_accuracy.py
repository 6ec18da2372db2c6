"""Shaping accuracy: a scenario's link as delivered to a real HTTP client by an OCA
(server-side pacing), and by the client's own shaper (for third-party streams); the bytes
in every 1 s window must follow the trace within about 5 %."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from abr.traces import Trace
from marquee.clock import SystemClock
from player.shaping import LinkSchedule, TraceShaper
from qa.accuracy import allowed_bytes, window_accuracy
from qa.network import fault_points, link_trace
from qa.scenario import parse_scenario

SCENARIO = """name = "accuracy"
[network]
profile = [{mbps = 4, for_s = 2.5}, {mbps = 1.5, for_s = 2}, {mbps = 6}]
jitter = 0.15
seed = 3
"""
SECONDS = 7.0


def _trace() -> Trace:
    scn = parse_scenario(SCENARIO, "accuracy.toml")
    return link_trace(scn.links["oca-1"], 60)


def test_allowed_bytes_by_hand():
    tr = Trace("t", (0.0, 2.0, 100.0), (8.0, 8.0, 16.0))
    assert allowed_bytes(tr, 1.0, 3.0) == pytest.approx(1e6 + 2e6)
    assert allowed_bytes(tr, 99.0, 101.0) == pytest.approx(4e6)


def test_window_accuracy_of_a_perfect_and_a_bad_link():
    tr = Trace("t", (0.0, 100.0), (8.0, 8.0))
    perfect = [(i / 100, 10_000) for i in range(1, 500)]
    assert window_accuracy(perfect, tr).worst < 0.011
    half = [(i / 100, 5_000) for i in range(1, 500)]
    assert window_accuracy(half, tr).median == pytest.approx(0.5, abs=0.01)


@pytest.mark.slow
def test_an_oca_delivers_the_scenario_trace_within_5_percent(tmp_path: Path):
    from service.config import ServiceConfig
    from service.faults import FaultSpec
    from service.server import ServiceThread
    from service.tokens import sign_oca_token

    trace = _trace()
    size = int(allowed_bytes(trace, 0, SECONDS))
    (tmp_path / "media/m0").mkdir(parents=True)
    (tmp_path / "media/m0/blob.m4s").write_bytes(os.urandom(size))
    (tmp_path / "build.json").write_text(json.dumps({"version": 1, "media": {"m0": {}}}))
    (tmp_path / "catalog.json").write_text(json.dumps({"titles": [
        {"id": "t1", "kind": "film", "title": "x", "year": 2000, "genres": ["Drama"], "media": "m0"}]}))
    config = ServiceConfig(content_dir=tmp_path, catalog_path=tmp_path / "catalog.json",
                           db_path=tmp_path / "db.sqlite3", ocas=1, seed_demo=False)
    with ServiceThread(config) as svc:
        node = svc.runtime.ocas[0]
        token = sign_oca_token(svc.runtime.secret, "m0", "qa", int(time.time()) + 600)
        url = f"http://127.0.0.1:{node.port}/c/{token}/m0/blob.m4s"
        with httpx.Client(timeout=30) as client:
            client.get(url, headers={"Range": "bytes=0-0"})  # connect first: time only the body
            svc.call(lambda: node.set_faults(FaultSpec(trace=fault_points(trace))))
            t0 = time.monotonic()
            samples = []
            with client.stream("GET", url) as response:
                for chunk in response.iter_raw(16384):
                    samples.append((time.monotonic() - t0, len(chunk)))
    acc = window_accuracy(samples, trace, skip_s=0.05)
    print("OCA:", acc.describe())
    assert acc.median < 0.03 and acc.p90 < 0.05, acc.describe()


@pytest.mark.slow
def test_the_clients_own_shaper_follows_the_trace_within_5_percent():
    trace = _trace()
    shaper = TraceShaper(LinkSchedule(trace), SystemClock())
    samples: list[tuple[float, int]] = []

    async def reader() -> None:
        while time.monotonic() - shaper.t0 < SECONDS:
            await shaper.pace(16384)  # what the fetcher does for every chunk it reads
            samples.append((time.monotonic() - shaper.t0, 16384))

    asyncio.run(reader())
    acc = window_accuracy(samples, trace)
    print("client:", acc.describe())
    assert acc.median < 0.03 and acc.p90 < 0.05, acc.describe()
