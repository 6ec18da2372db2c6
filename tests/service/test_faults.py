import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.faults import (FaultSpec, FaultSpecError, Link, Rate, RequestPlan, corrupt_chunk, parse_fault_spec,
                            plan_request)


def test_parse_full_spec() -> None:
    spec = parse_fault_spec({"down": False, "error_rate": 0.5, "error_status": 500, "latency_ms": 200,
                             "trace": [[0, 5], [10, 0.8]], "stall_after_bytes": 1000, "truncate_after_bytes": 10,
                             "corrupt": True, "seed": 3, "paths": ".m4s"})
    assert spec.trace == ((0.0, 5.0), (10.0, 0.8))
    assert spec.to_dict()["error_status"] == 500
    assert parse_fault_spec(spec.to_dict()) == spec
    assert parse_fault_spec({}).is_empty()


@pytest.mark.parametrize("body,fragment", [
    ([], "object"), ({"dwon": True}, "unknown"), ({"down": "yes"}, "true or false"), ({"error_rate": 2}, "error_rate"),
    ({"error_rate": True}, "error_rate"), ({"error_status": 200}, "error_status"), ({"latency_ms": -1}, "latency"),
    ({"latency_ms": 1.5}, "latency"), ({"throughput_kbps": 0}, "throughput"), ({"trace": []}, "trace"),
    ({"trace": [[0, 1], [0, 2]]}, "increase"), ({"trace": [[0, -1]]}, "negative"), ({"trace": [[0, 0]]}, "never"),
    ({"trace": [["a", 1]]}, "pair"), ({"trace": [[0, 1]], "throughput_kbps": 5}, "either"),
    ({"stall_after_bytes": "10"}, "stall"), ({"paths": ""}, "paths"),
])
def test_parse_rejects(body: object, fragment: str) -> None:
    with pytest.raises(FaultSpecError, match=fragment):
        parse_fault_spec(body)


def test_error_rate_is_seeded_and_close_to_rate() -> None:
    spec = FaultSpec(error_rate=0.3, error_status=502, seed=42)
    plans = [plan_request(spec, random.Random(42), "m0/x") for _ in range(1)]
    rng = random.Random(42)
    plans = [plan_request(spec, rng, "m0/x") for _ in range(2000)]
    errors = sum(p.error_status == 502 for p in plans)
    assert 0.26 < errors / 2000 < 0.34
    rng2 = random.Random(42)
    assert [plan_request(spec, rng2, "m0/x") for _ in range(2000)] == plans


def test_paths_filter() -> None:
    spec = FaultSpec(corrupt=True, paths=".m4s")
    assert plan_request(spec, random.Random(), "m0/manifest.mpd") == RequestPlan()
    assert plan_request(spec, random.Random(), "m0/v0/seg-1.m4s").corrupt


def test_corrupt_chunk_is_deterministic_and_damages() -> None:
    data = bytes(range(256)) * 20
    out = corrupt_chunk(data, 0)
    assert len(out) == len(data) and out != data
    assert sum(a != b for a, b in zip(out, data)) == 8 + len([i for i in range(len(data)) if i % 1024 == 512])
    assert corrupt_chunk(data[100:200], 100) != data[100:200]  # a small range past the start still changes


def test_constant_rate_link() -> None:
    link = Link(Rate(t0=0.0, kbps=8000))  # 1 MB/s
    assert link.reserve(0.0, 1000, continuing=False) == pytest.approx(0.001)
    assert link.reserve(0.0, 1000, continuing=True) == pytest.approx(0.002)  # queued behind the first
    assert link.reserve(5.0, 1000, continuing=False) == pytest.approx(5.001)  # idle time is not banked
    assert link.chunk_size(5.0) == 10000


def test_trace_rate_integration() -> None:
    rate = Rate(t0=100.0, trace=((0.0, 8.0), (1.0, 0.0), (2.0, 16.0)))  # 1 MB/s, outage, 2 MB/s
    assert rate.finish_time(100.0, 500_000) == pytest.approx(100.5)
    assert rate.finish_time(100.5, 1_000_000) == pytest.approx(102.25)  # 0.5 s, skip outage, 0.25 s at 2 MB/s
    assert rate.bytes_per_s(101.5) == 0.0
    assert rate.bytes_per_s(99.0) == 1e6  # before the first point: its rate


@given(st.lists(st.tuples(st.floats(0.1, 5), st.one_of(st.just(0.0), st.floats(0.01, 50))), min_size=1, max_size=6),
       st.integers(1, 10_000_000), st.floats(0, 20))
def test_finish_time_delivers_exactly(steps: list[tuple[float, float]], nbytes: int, start: float) -> None:
    t, trace = 0.0, []
    for dt, mbps in steps:
        trace.append((t, mbps))
        t += dt
    if all(m == 0 for _, m in trace):
        trace[-1] = (trace[-1][0], 1.0)
    rate = Rate(t0=0.0, trace=tuple(trace))
    done = rate.finish_time(start, nbytes)
    if trace[-1][1] == 0 and math.isinf(done):
        return
    # Integrate the rate from start to done: it must equal nbytes.
    delivered = sum(bps * (min(end, done) - begin) for begin, end, bps in rate.segments(start) if begin < done)
    assert delivered == pytest.approx(nbytes, rel=1e-6)
