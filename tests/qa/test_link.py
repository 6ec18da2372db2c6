"""``marquee qa link``: pacing accuracy against a trace (virtual time, the proxy's own pacing
loop), the fault timeline, and the proxy's HTTP behaviour without sockets."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx
import pytest

from abr.traces import load_trace_file
from marquee.clock import FakeClock
from marquee.errors import ConfigError
from qa.accuracy import window_accuracy
from qa.link import LinkTimeline, link_scenario, pace
from qa.linkproxy import LinkProxy

HSDPA = sorted((Path(__file__).resolve().parents[2] / "assets/traces/hsdpa").iterdir())[0]


def _paced_samples(timeline: LinkTimeline, seconds: float, overshoot_ms: float) -> list[tuple[float, int]]:
    """Read one long body through ``pace`` on a fake clock whose sleeps overshoot like a busy
    event loop (0..overshoot_ms late); returns (seconds since open, bytes) as a client sees them."""
    clock = FakeClock(start_monotonic=0.0)
    rng = random.Random(5)
    link = timeline.new_link(0.0)
    samples: list[tuple[float, int]] = []

    async def sleep(s: float) -> None:
        clock.advance(s + rng.uniform(0, overshoot_ms / 1000))

    async def body():
        while clock.monotonic() < seconds:
            yield b"\0" * 65536

    async def read() -> None:
        async for chunk in pace(body(), link, clock, sleep):
            samples.append((clock.monotonic(), len(chunk)))

    asyncio.run(read())
    return samples


@pytest.mark.parametrize("overshoot_ms", [0.0, 2.0])
def test_pacing_follows_an_hsdpa_trace_within_1_percent_median(overshoot_ms: float):
    timeline = LinkTimeline(link_scenario(trace=str(HSDPA)))
    samples = _paced_samples(timeline, 60.0, overshoot_ms)
    acc = window_accuracy(samples, timeline.trace, skip_s=0.05)
    assert acc.windows > 500
    assert acc.median <= 0.01 and acc.p90 <= 0.035, acc.describe()


def test_pacing_accuracy_measure_fails_a_link_at_the_wrong_rate():
    """The measure can fail: the same pacing against a trace 10 % off is rejected."""
    fast = LinkTimeline(link_scenario(mbps=5.5))
    samples = _paced_samples(fast, 10.0, 0.0)
    acc = window_accuracy(samples, LinkTimeline(link_scenario(mbps=5.0)).trace, skip_s=0.05)
    assert acc.median == pytest.approx(0.1, abs=0.01)


FAULTS = """\
[[faults]]
at_s = 2
until_s = 4
error_rate = 1.0
error_status = 502

[[faults]]
at_s = 5
until_s = 6
down = true

[[faults]]
at_s = 7
truncate_after_bytes = 1000
latency_ms = 40
"""


def test_fault_timeline_by_time():
    tl = LinkTimeline(link_scenario(mbps=4, rtt_ms=30, faults_text=FAULTS))
    assert tl.change_times() == [2, 4, 5, 6, 7]
    rng = random.Random(1)
    assert tl.plan(1.0, rng, "/a").error_status is None and tl.plan(1.0, rng, "/a").latency_s == pytest.approx(0.03)
    assert tl.plan(2.0, rng, "/a").error_status == 502
    assert tl.plan(4.0, rng, "/a").error_status is None
    assert [tl.state(t).down for t in (4.9, 5.0, 5.9, 6.0)] == [False, True, True, False]
    late = tl.plan(8.0, rng, "/a")
    assert late.truncate_after == 1000 and late.latency_s == pytest.approx(0.07)


@pytest.mark.parametrize("kwargs, words", [
    ({"mbps": 4, "trace": "x"}, "exactly one of --trace"),
    ({}, "exactly one of --trace"),
    ({"mbps": -1}, "--mbps must be a positive"),
    ({"trace": "no-such-file"}, "no trace file 'no-such-file'"),
    ({"mbps": 4, "faults_text": "[[faults]]\nat_s = 1\n", "faults_source": "f.toml"}, "f.toml:1: faults.0: the fault does nothing"),
    ({"mbps": 4, "faults_text": "[[faults]]\nat_s = 1\ndown = true\nbogus = 2\n", "faults_source": "f.toml"}, "f.toml:4"),
    ({"mbps": 4, "faults_text": "[[faults]]\nat_s = 3\ntoken_expiry = true\n", "faults_source": "f.toml"}, "token_expiry"),
])
def test_bad_link_options_are_plain_errors(kwargs, words):
    with pytest.raises(ConfigError) as err:
        link_scenario(**kwargs)
    assert words in err.value.message


def _upstream(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith(".mpd"):
        return httpx.Response(200, text="<MPD><BaseURL>http://up.test:81/v/</BaseURL></MPD>",
                              headers={"content-type": "application/dash+xml"})
    return httpx.Response(200, content=bytes(5000), headers={"content-type": "video/mp4"})


def test_the_proxy_rewrites_manifests_injects_faults_and_logs_requests():
    clock = FakeClock(start_monotonic=0.0)
    tl = LinkTimeline(link_scenario(mbps=1000, faults_text=FAULTS))
    proxy = LinkProxy(tl, "http://up.test:81/v/m.mpd", clock=clock, transport=httpx.MockTransport(_upstream))

    async def scenario() -> list[tuple[int, bytes]]:
        await proxy.start()
        got = []
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy.app), base_url=proxy.base) as c:
                for at, path in ((0.5, "/v/m.mpd"), (1.0, "/v/s1.m4s"), (3.0, "/v/s1.m4s"), (4.5, "/v/s2.m4s")):
                    clock.advance(at - clock.monotonic())
                    r = await c.get(path)
                    got.append((r.status_code, r.content))
        finally:
            await proxy.stop()
        return got

    got = asyncio.run(scenario())
    assert proxy.url.endswith("/v/m.mpd") and proxy.url.startswith("http://127.0.0.1:")
    assert got[0] == (200, f"<MPD><BaseURL>{proxy.base}/v/</BaseURL></MPD>".encode())
    assert [g[0] for g in got[1:]] == [200, 502, 200]
    assert len(got[1][1]) == 5000
    rows = [r for r in proxy.requests.rows if r["kind"] == "link_request"]
    assert [(r["t"], r["path"], r["status"], r["bytes"]) for r in rows] == [
        (0.5, "/v/m.mpd", 200, len(got[0][1])), (1.0, "/v/s1.m4s", 200, 5000), (3.0, "/v/s1.m4s", 502, 0),
        (4.5, "/v/s2.m4s", 200, 5000)]
    assert rows[2]["fault"] == "error" and all("duration_s" in r for r in rows)
