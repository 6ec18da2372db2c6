"""Safe-by-default numbers (issue 18): one command, tables, ratios against a baseline of the same run.

    .venv/bin/python benchmarks/hostile.py

The service runs as the app runs it (``marquee serve`` in a child process, two OCAs, the test
catalogue and fake content in a temporary home), so its RSS and latency are its own.

1. Hostile requests (``service/probe.py``): status, time and peak-RSS growth of the service per
   request. Goals: no 500, none hangs, growth <= 50 MB each.
2. Slow clients: seconds until a client that trickles its headers, or its body, is dropped. Goal: <= 10 s.
3. /health and OCA latency idle (baseline) and while dashboards over 2,000 OCA names are computed
   (a new batch before each view defeats the cache). Goal: <= 50 ms.
4. Login answer time for a known account (wrong password) and an unknown one: the ratio should be ~1.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def latency_ms(get: "callable", n: int) -> list[float]:  # type: ignore[valid-type]
    out = []
    for _ in range(n):
        started = time.perf_counter()
        get()
        out.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
    return out




def main() -> int:
    import httpx

    from marquee.embedded import start_embedded_service
    from service.probe import Probe, dropped_after
    from tests.service.fakes import make_catalog, make_content

    home = Path(tempfile.mkdtemp(prefix="marquee-hostile-"))
    os.environ["MARQUEE_HOME"] = str(home / "home")
    catalog = home / "catalog.json"
    catalog.write_text(json.dumps(make_catalog()))
    content = make_content(home / "content")
    service = start_embedded_service(content, ocas=2, extra_args=["--catalog", str(catalog)])
    pid, port = service.process.pid, int(service.url.rsplit(":", 1)[1])
    assert service.admin_secret_file is not None
    probe = Probe(service.url, service.admin_secret_file.read_text().strip())
    try:
        print("1. Hostile requests (service: marquee serve, pid %d)" % pid)
        print(f"   {'request':<52} {'status':>6} {'seconds':>8} {'peak RSS +MB':>13}")
        outcomes = [probe.run(case, pid) for case in probe.cases()]
        for o in outcomes:
            flag = "" if o.expected else "  UNEXPECTED"
            print(f"   {o.name[:52]:<52} {o.status:>6} {o.seconds:8.3f} {o.rss_growth_mb:13.1f}{flag}")
        five = sum(o.status >= 500 for o in outcomes)
        print(f"   => {len(outcomes)} requests, {five} answered 5xx, {sum(not o.expected for o in outcomes)} unexpected, "
              f"slowest {max(o.seconds for o in outcomes):.2f} s, largest peak-RSS growth "
              f"{max(o.rss_growth_mb for o in outcomes):.1f} MB (goal <= 50 MB)")

        print("\n2. Slow clients (one byte every 0.5 s, never finishing)")
        head = dropped_after(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-a: b\r\n")
        body = dropped_after(port, b"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                             b"\r\nContent-Length: 1000\r\n\r\n{", b"x")
        print(f"   headers trickled: dropped after {head:.1f} s; body trickled: dropped after {body:.1f} s (goal <= 10 s)")

        print("\n3. /health and OCA latency, idle (baseline) vs while dashboards are computed")
        http = httpx.Client(timeout=30)
        oca = probe.oca_url() + "v0/init.mp4"
        idle_h = latency_ms(lambda: http.get(service.url + "/health"), 40)
        idle_o = latency_ms(lambda: http.get(oca), 40)
        stop = threading.Event()
        views = [0]

        def dashboards() -> None:
            while not stop.is_set():
                probe.post_batch(probe.batch([{"kind": "segment", "session_id": uuid.uuid4().hex, "seq": 1,
                                               "ts": 1.8e9, "t": 1.0,
                                               "data": {"rung": 1, "bytes": 10, "download_ms": 1.0, "oca": f"e{i}",
                                                        "throughput_kbps": 1.0, "bitrate_kbps": 1.0}}
                                              for i in range(2000)]))
                httpx.get(service.url + "/v1/telemetry/dashboard", timeout=60)
                views[0] += 1

        worker = threading.Thread(target=dashboards, daemon=True)
        worker.start()
        time.sleep(0.3)
        busy_h = latency_ms(lambda: http.get(service.url + "/health"), 40)
        busy_o = latency_ms(lambda: http.get(oca), 40)
        stop.set()
        worker.join(60)
        print(f"   {'':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95 / idle':>11}")
        for name, idle, busy in (("/health", idle_h, busy_h), ("OCA segment", idle_o, busy_o)):
            for label, xs in (("idle", idle), ("dashboards running", busy)):
                p95 = statistics.quantiles(xs, n=20)[-1]
                base = statistics.quantiles(idle, n=20)[-1]
                print(f"   {name + ' ' + label:<32} {statistics.median(xs):8.1f} {p95:8.1f} {max(xs):8.1f} "
                      f"{p95 / base:11.2f}")
        print(f"   ({views[0]} dashboards over 2,000 OCA names computed meanwhile; goal: p95 <= 50 ms)")

        print("\n4. Login answer time (wrong password), known vs unknown account")
        known = latency_ms(lambda: http.post(service.url + "/v1/auth/login", json={
            "email": "demo@marquee.test", "password": "nope", "device_id": "b"}), 4)
        unknown = latency_ms(lambda: http.post(service.url + "/v1/auth/login", json={
            "email": f"{uuid.uuid4().hex[:8]}@nowhere.test", "password": "nope", "device_id": "b"}), 4)
        print(f"   known {statistics.median(known):.0f} ms, unknown {statistics.median(unknown):.0f} ms, "
              f"ratio {statistics.median(unknown) / statistics.median(known):.2f} (was 1 ms vs 37-51 ms)")
        http.close()
        return 1 if five or any(not o.expected for o in outcomes) else 0
    finally:
        probe.close()
        service.stop()


if __name__ == "__main__":
    raise SystemExit(main())
