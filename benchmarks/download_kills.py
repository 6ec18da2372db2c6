"""Bytes fetched per title across seeded kill -9 runs (issue 22).

    .venv/bin/python benchmarks/download_kills.py [--runs 10]

Runs the fault-injection suite's seeded kill test (``tests/downloads/test_faults.py``) with
``--runs`` seeds: each run downloads the test title with the real CLI against the reference
service and its OCAs on loopback (links shaped to 6 Mbit/s), killing it with SIGKILL at three
random moments (seeded) and resuming. Prints per run: kills, bytes the OCAs sent for the
title's media, the title's size, their ratio; then the median and max ratio and the number
of licenses left active beyond each download's own (leaked).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, KILL_RUNS=str(args.runs), QT_QPA_PLATFORM="offscreen")
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                            "tests/downloads/test_faults.py", "-k", "seeded_kill"], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
