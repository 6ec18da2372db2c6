import asyncio
import time

import pytest

from abr.traces import Trace
from marquee.clock import SystemClock
from marquee.errors import ConfigError
from player.shaping import LinkSchedule, TraceShaper, resolve_throttle


def schedule(times, mbps):
    return LinkSchedule(Trace("t", tuple(times), tuple(mbps)))


def test_constant_link_delivers_at_its_rate():
    link = schedule([0, 10], [0, 8])  # 8 Mbit/s = 1 MB/s; line 0 never used
    assert link.finish_time(0.0, 1_000_000) == pytest.approx(1.0)
    assert link.finish_time(2.5, 500_000) == pytest.approx(3.0)


def test_steps_are_integrated_across_intervals():
    link = schedule([0, 1, 2, 3], [99, 8, 16, 8])  # 1 MB/s, then 2 MB/s, then 1 MB/s
    assert link.finish_time(0.0, 2_000_000) == pytest.approx(1.5)
    assert link.finish_time(0.5, 3_000_000) == pytest.approx(2.0 + 0.5)


def test_the_trace_wraps_around():
    link = schedule([0, 1, 2], [0, 8, 0.8])  # 1 MB/s then 0.1 MB/s, period 2 s
    # 1.1 MB in the first period, then the next 1 MB in the first second of the next one.
    assert link.finish_time(0.0, 2_100_000) == pytest.approx(3.0)


def test_zero_bandwidth_intervals_are_waited_out():
    link = schedule([0, 1, 2], [0, 0, 8])
    assert link.finish_time(0.0, 1_000_000) == pytest.approx(2.0)


def test_resolve_throttle_accepts_rates_presets_and_files(tmp_path):
    assert resolve_throttle("2mbit").mean_mbps == pytest.approx(2.0)
    assert resolve_throttle("800kbit").mean_mbps == pytest.approx(0.8)
    assert resolve_throttle("3g").duration_s > 60
    trace_file = tmp_path / "t.txt"
    trace_file.write_text("0.0 1.0\n1.0 2.0\n2.0 3.0\n")
    assert resolve_throttle(str(trace_file)).bw_mbps == (1.0, 2.0, 3.0)
    with pytest.raises(ConfigError, match="neither a preset"):
        resolve_throttle("warp-speed")


def test_the_shaper_paces_real_reads_to_the_trace():
    shaper = TraceShaper(schedule([0, 100], [0, 8]), SystemClock())  # 1 MB/s

    async def pump():
        for _ in range(8):
            await shaper.pace(50_000)  # 400 kB in total

    started = time.monotonic()
    asyncio.run(pump())
    assert time.monotonic() - started == pytest.approx(0.4, abs=0.1)
