"""Fault injection through the admin API, observed by a real HTTP client over loopback."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from service.server import ServiceThread
from tests.service.test_oca import base


def put(live: ServiceThread, oca: str, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    return httpx.put(f"{live.url}/v1/admin/ocas/{oca}/faults", json=body, headers=live.admin_headers)


def timed_download(url: str, headers: dict[str, str] | None = None) -> tuple[list[tuple[float, int]], float]:
    """(arrival time, bytes) samples of one download, and the request start time."""
    samples = []
    started = time.monotonic()
    with httpx.stream("GET", url, headers=headers, timeout=30) as r:
        assert r.status_code in (200, 206)
        for chunk in r.iter_raw(8192):
            samples.append((time.monotonic(), len(chunk)))
    return samples, started


def window_rates(samples: list[tuple[float, int]], t0: float, seconds: int) -> list[float]:
    return [sum(n for t, n in samples if t0 + k <= t < t0 + k + 1) for k in range(seconds)]


def test_down_refuses_then_recovers(live: ServiceThread) -> None:
    url = base(live) + "v0/init.mp4"
    port = live.runtime.ocas[0].port
    client = httpx.Client()
    assert client.get(url).status_code == 200  # an open keep-alive connection
    r = put(live, "oca-1", {"down": True})
    assert r.status_code == 200 and r.json()["up"] is False and r.json()["faults"] == {"down": True}
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    with pytest.raises(httpx.TransportError):  # the open connection was dropped too
        client.get(url, timeout=2)
    client.close()
    health = httpx.get(live.url + "/health").json()
    assert health["ocas"][0]["up"] is False
    assert httpx.delete(f"{live.url}/v1/admin/ocas/oca-1/faults", headers=live.admin_headers).json()["up"] is True
    assert live.runtime.ocas[0].port == port
    assert httpx.get(url).status_code == 200


def test_down_drops_a_stalled_response(live: ServiceThread) -> None:
    put(live, "oca-1", {"stall_after_bytes": 1000})
    with httpx.stream("GET", base(live) + "v0/seg-1.m4s", timeout=5) as r:
        it = r.iter_raw()
        got = next(it)
        assert 0 < len(got) <= 1000
        put(live, "oca-1", {"down": True})
        with pytest.raises(httpx.TransportError):
            for _ in it:
                pass


def test_error_rate_is_seeded(live: ServiceThread) -> None:
    def run() -> list[int]:
        put(live, "oca-2", {"error_rate": 0.4, "error_status": 502, "seed": 11})
        with httpx.Client() as c:
            return [c.get(base(live, oca=1) + "manifest.mpd").status_code for _ in range(100)]

    first = run()
    assert set(first) == {200, 502}
    assert 25 <= first.count(502) <= 55
    assert run() == first
    listing = httpx.get(live.url + "/v1/admin/ocas/oca-2", headers=live.admin_headers).json()
    assert listing["counters"]["injected_errors"] == 2 * first.count(502)
    assert listing["counters"]["requests"] == 200 and listing["error_ratio"] > 0


def test_latency_before_first_byte(live: ServiceThread) -> None:
    put(live, "oca-1", {"latency_ms": 400})
    t = time.monotonic()
    r = httpx.get(base(live) + "manifest.mpd")
    assert r.status_code == 200 and 0.4 <= time.monotonic() - t < 1.5
    put(live, "oca-1", {"latency_ms": 400, "paths": ".m4s"})  # only segments are slow
    t = time.monotonic()
    httpx.get(base(live) + "manifest.mpd")
    assert time.monotonic() - t < 0.3


def sliding_rates(samples: list[tuple[float, int]], t0: float, t_end: float, step: float = 0.1) -> list[float]:
    """Bytes in every 1 s window [t, t+1) from t0 to t_end-1, in ``step`` increments."""
    out, t = [], t0
    while t + 1 <= t_end + 1e-9:
        out.append(sum(n for ts, n in samples if t <= ts < t + 1))
        t += step
    return out


@pytest.mark.slow
def test_throughput_cap_accuracy(live: ServiceThread) -> None:
    put(live, "oca-3", {"throughput_kbps": 4000})  # 500,000 bytes/s
    samples, started = timed_download(base(live, oca=2) + "v0/seg-2.m4s")  # 1.5 MB: 3 s
    rates = sliding_rates(samples, samples[0][0], samples[-1][0])
    assert len(rates) >= 15
    errors = sorted(abs(r - 500_000) / 500_000 for r in rates)
    # Typically every window is within 2%; a loaded CI machine can delay one scheduler tick
    # (the server then catches up), so: the median window within 5%, none beyond 15%.
    assert errors[len(errors) // 2] < 0.05 and errors[-1] < 0.15, rates
    assert 1_500_000 / (samples[-1][0] - started) == pytest.approx(500_000, rel=0.05)


@pytest.mark.slow
def test_trace_pacing(live: ServiceThread) -> None:
    put(live, "oca-3", {"trace": [[0, 4], [2, 12]]})  # 0.5 MB/s for 2 s, then 1.5 MB/s
    samples, _ = timed_download(base(live, oca=2) + "v0/seg-2.m4s")
    first = samples[0][0]
    slow = sliding_rates(samples, first, first + 1.8)
    errors = sorted(abs(r - 500_000) / 500_000 for r in slow)
    assert errors[len(errors) // 2] < 0.05 and errors[-1] < 0.15, slow
    # After the switch: the remaining bytes arrive at 1.5 MB/s.
    cumulative, switch_at = 0, None
    for t, n in samples:
        cumulative += n
        if switch_at is None and t >= first + 2.1:
            switch_at, bytes_at_switch = t, cumulative
    assert switch_at is not None
    tail_rate = (1_500_000 - bytes_at_switch) / (samples[-1][0] - switch_at)
    assert tail_rate == pytest.approx(1_500_000, rel=0.1)


def test_stall_after_bytes(live: ServiceThread) -> None:
    put(live, "oca-1", {"stall_after_bytes": 5000})
    received = 0
    with pytest.raises(httpx.ReadTimeout):
        with httpx.stream("GET", base(live) + "v0/seg-1.m4s", timeout=httpx.Timeout(5, read=0.8)) as r:
            assert r.headers["content-length"] == "200000"
            for chunk in r.iter_raw():
                received += len(chunk)
    assert received == 5000


def test_truncate_after_bytes(live: ServiceThread, content_dir: Path) -> None:
    put(live, "oca-1", {"truncate_after_bytes": 7000})
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("GET", base(live) + "v0/seg-1.m4s", timeout=5) as r:
            for chunk in r.iter_raw():
                received += chunk
    assert received == (content_dir / "media/m0/v0/seg-1.m4s").read_bytes()[:7000]
    assert live.runtime.ocas[0].counters.aborted == 1


def test_corrupt_body(live: ServiceThread, content_dir: Path) -> None:
    put(live, "oca-1", {"corrupt": True})
    original = (content_dir / "media/m0/v0/seg-1.m4s").read_bytes()
    r = httpx.get(base(live) + "v0/seg-1.m4s")
    assert r.status_code == 200 and len(r.content) == len(original) and r.content != original
    assert r.content[:8] == bytes(b ^ 0xFF for b in original[:8])
    r2 = httpx.get(base(live) + "v0/seg-1.m4s", headers={"Range": "bytes=100-299"})
    assert r2.content != original[100:300]


def test_admin_validation(live: ServiceThread) -> None:
    r = put(live, "oca-1", {"latency": 5})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_fault"
    assert put(live, "oca-9", {}).status_code == 404
    r = httpx.patch(f"{live.url}/v1/admin/ocas/oca-2", json={"weight": 3}, headers=live.admin_headers)
    assert r.status_code == 200 and r.json()["weight"] == 3
    r = httpx.patch(f"{live.url}/v1/admin/ocas/oca-2", json={"weight": 0.95}, headers=live.admin_headers)
    listing = httpx.get(f"{live.url}/v1/admin/ocas", headers=live.admin_headers).json()["ocas"]
    assert [o["id"] for o in listing] == ["oca-1", "oca-2", "oca-3"]
    assert {"faults", "counters", "up", "port", "weight"} <= set(listing[0])
