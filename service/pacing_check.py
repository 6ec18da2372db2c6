"""Measure how exactly an OCA's throughput cap or trace is delivered to a real HTTP client.

    python -m service.pacing_check [--kbps 4000 | --trace "0:4,2:12"] [--seconds 5]

Starts a private service with one OCA on a throwaway content folder, downloads one file
through the shaped OCA with httpx, and prints the delivered bytes in every 1 s window
(sliding by 0.1 s) against what the cap or trace allows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from service.config import ServiceConfig
from service.faults import Rate
from service.server import ServiceThread
from service.tokens import sign_oca_token


def _content(root: Path, size: int) -> None:
    (root / "media/m0").mkdir(parents=True)
    (root / "media/m0/blob.m4s").write_bytes(os.urandom(size))
    (root / "build.json").write_text(json.dumps({"version": 1, "media": {"m0": {}}}))
    (root / "catalog.json").write_text(json.dumps({"titles": [
        {"id": "t1", "kind": "film", "title": "x", "year": 2000, "genres": ["Drama"], "media": "m0"}]}))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kbps", type=int, default=None)
    p.add_argument("--trace", default=None, help='"t:mbps,t:mbps" e.g. "0:4,2:12"')
    p.add_argument("--seconds", type=float, default=5.0)
    args = p.parse_args(argv)
    trace = [[float(a), float(b)] for a, b in (x.split(":") for x in args.trace.split(","))] if args.trace else None
    fault = {"trace": trace} if trace else {"throughput_kbps": args.kbps or 4000}
    rate = Rate(0.0, None if trace else fault["throughput_kbps"], tuple(map(tuple, trace or [])))  # type: ignore[arg-type]
    size = int(sum(bps * (min(end, args.seconds) - max(begin, 0)) for begin, end, bps in rate.segments(0.0)
                   if begin < args.seconds))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _content(root, size)
        config = ServiceConfig(content_dir=root, catalog_path=root / "catalog.json", db_path=root / "db.sqlite3",
                               ocas=1, seed_demo=False)
        with ServiceThread(config) as svc:
            node = svc.runtime.ocas[0]
            token = sign_oca_token(svc.runtime.secret, "m0", "check", int(time.time()) + 600)
            httpx.put(f"{svc.url}/v1/admin/ocas/oca-1/faults", json=fault, headers=svc.admin_headers).raise_for_status()
            t_put = time.monotonic()
            samples = []
            with httpx.stream("GET", f"http://127.0.0.1:{node.port}/c/{token}/m0/blob.m4s", timeout=60) as r:
                for chunk in r.iter_raw(8192):
                    samples.append((time.monotonic() - t_put, len(chunk)))
    errors = []
    t = samples[0][0]
    while t + 1 <= samples[-1][0]:
        got = sum(n for ts, n in samples if t <= ts < t + 1)
        expected = sum(bps * (min(end, t + 1) - max(begin, t)) for begin, end, bps in rate.segments(t) if begin < t + 1)
        errors.append(abs(got - expected) / expected)
        t += 0.1
    total_s = samples[-1][0] - samples[0][0]
    print(f"fault {json.dumps(fault)}; {size} bytes in {total_s:.2f} s; {len(errors)} sliding 1 s windows")
    print(f"window error vs allowed rate: median {statistics.median(errors):.2%}, "
          f"p90 {sorted(errors)[int(len(errors) * 0.9)]:.2%}, max {max(errors):.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
