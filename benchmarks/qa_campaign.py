"""Campaign wall time: the local process pool vs a local two-worker Dask cluster (issue 20, item 4).

    .venv/bin/python benchmarks/qa_campaign.py [--traces 5] [--repeats 2]

One simulated campaign (3 scenarios x 3 algorithms x N HSDPA traces x repeats), run by the
real command (`marquee qa campaign`, a fresh result folder each time) on: a pool of one
process (the baseline), the default pool (one per core), and a LocalCluster of two worker
processes with one thread each (started before the clock starts, as an existing cluster is),
after one warm-up run. Prints wall time and speed-up against the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def campaign(path: Path, traces: int, repeats: int) -> None:
    path.write_text(f"""name = "bench"
scenarios = ["3g-commute", "steady-fast", "sudden-drop"]
algorithms = ["default", "bola", "throughput"]
traces = ["hsdpa"]
max_traces = {traces}
repeats = {repeats}
""")


def timed(args: list[str], out: Path) -> float:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "marquee", "qa", "campaign", *args, "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"campaign failed: {proc.stderr[-2000:]}")
    return time.monotonic() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--traces", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        file = root / "bench.toml"
        campaign(file, args.traces, args.repeats)
        cells = 3 * 3 * args.traces * args.repeats
        timed([str(file), "--workers", "2"], root / "warm-up")  # imports and caches warm for every engine alike
        rows = [("pool, 1 process (baseline)", timed([str(file), "--workers", "1"], root / "p1"))]
        rows.append((f"pool, {os.cpu_count()} processes", timed([str(file)], root / "pn")))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
            rows.append(("Dask LocalCluster, 2 workers", timed([str(file), "--scheduler", cluster.scheduler_address],
                                                               root / "dask")))
    print(f"campaign: {cells} simulated cells (3 scenarios x 3 algorithms x {args.traces} traces x {args.repeats})")
    print(f"{'engine':<32}{'wall s':>8}{'speed-up':>10}")
    base = rows[0][1]
    for name, wall in rows:
        print(f"{name:<32}{wall:>8.1f}{base / wall:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
