"""ABR QoE benchmark: every controller on FCC, HSDPA, the synthetic presets, and realistic mode.

Run: ``.venv/bin/python benchmarks/abr_qoe.py`` (``--quick``: FCC and HSDPA standard only).

Prints the table (mean QoE_lin per session, ratio against RobustMPC measured in the same run,
rebuffering, bitrate, switches, startup), the validation of our simulator + baselines against
the reference values measured with Pensieve's own scripts, the goals of issue 3, the
train/held-out split of the default controller's parameters, and the CPU time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from abr.bench import RunResult, format_table, run_matrix  # noqa: E402
from abr.qoe import summarize  # noqa: E402
from abr.registry import algorithms  # noqa: E402
from abr.traces import PRESETS, TraceSet, preset, resolve_traces  # noqa: E402
from abr.video import marquee_video, pensieve_video  # noqa: E402

REFERENCE = {"fcc": {"bba0": 36.34, "robustmpc": 47.29}, "hsdpa": {"bba0": 30.04, "robustmpc": 41.19}}


def split_summary(results: list[RunResult], sets: dict[str, TraceSet]) -> list[str]:
    """Default vs RobustMPC on the tuning half (even file index) and the held-out half (odd)."""
    lines = []
    for name in ("fcc", "hsdpa"):
        by_algo = {r.summary.algo: r for r in results if r.summary.traces == name and r.summary.mode == "standard"}
        for half, parity in (("train (even)", 0), ("held-out (odd)", 1)):
            d = summarize("default", name, "standard", [m for i, m in enumerate(by_algo["default"].metrics) if i % 2 == parity])
            m = summarize("robustmpc", name, "standard", [m for i, m in enumerate(by_algo["robustmpc"].metrics) if i % 2 == parity])
            lines.append(f"  {name:<6} {half:<15} default {d.qoe_lin_mean:6.2f}  robustmpc {m.qoe_lin_mean:6.2f}  "
                         f"ratio {d.qoe_lin_mean / m.qoe_lin_mean:5.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="FCC and HSDPA in standard mode only")
    args = ap.parse_args(argv)
    algos = algorithms()
    t0 = time.process_time()
    w0 = time.perf_counter()
    std_sets = {n: resolve_traces(n)[0] for n in ("fcc", "hsdpa")}
    results = run_matrix(algos, {}, list(std_sets.values()), pensieve_video(), "standard")
    core_cpu = time.process_time() - t0
    core_wall = time.perf_counter() - w0
    if not args.quick:
        presets = [preset(n) for n in PRESETS]
        results += run_matrix(algos, {}, presets, pensieve_video(), "standard")
        results += run_matrix(algos, {}, list(std_sets.values()) + presets, marquee_video(), "realistic")
    total_cpu = time.process_time() - t0

    print(format_table(results, "robustmpc"))
    print()
    print("Validation against the reference values (Pensieve bb.py / mpc.py, mean QoE_lin):")
    ok = True
    for name, refs in REFERENCE.items():
        for algo, ref in refs.items():
            got = next(r.summary.qoe_lin_mean for r in results
                       if r.summary.traces == name and r.summary.algo == algo and r.summary.mode == "standard")
            dev = (got - ref) / ref
            ok &= abs(dev) <= 0.02
            print(f"  {name:<6} {algo:<10} ours {got:6.2f}  reference {ref:6.2f}  deviation {dev:+.2%}")
    print()
    print("Goals (standard setup):")
    for name in ("fcc", "hsdpa"):
        by = {r.summary.algo: r.summary for r in results if r.summary.traces == name and r.summary.mode == "standard"}
        d, m, b = by["default"], by["robustmpc"], by["bba0"]
        print(f"  {name:<6} QoE {d.qoe_lin_mean:6.2f} >= 1.10 x MPC {1.10 * m.qoe_lin_mean:6.2f}: "
              f"{'yes' if d.qoe_lin_mean >= 1.10 * m.qoe_lin_mean else 'NO'};  rebuffer {d.rebuffer_s_mean:.2f} <= "
              f"{m.rebuffer_s_mean:.2f}: {'yes' if d.rebuffer_s_mean <= m.rebuffer_s_mean else 'NO'};  switches "
              f"{d.switches_mean:.1f} <= {b.switches_mean / 2:.1f}: {'yes' if d.switches_mean <= b.switches_mean / 2 else 'NO'}")
    if not args.quick:
        beaten = []
        for r in results:
            s = r.summary
            if s.algo != "default" or (s.mode == "standard" and s.traces in std_sets):
                continue
            others = [o.summary.qoe_lin_mean for o in results if o.summary.traces == s.traces
                      and o.summary.mode == s.mode and o.summary.algo != "default"]
            beaten.append(f"{s.traces}/{s.mode}:{'yes' if s.qoe_lin_mean > max(others) else 'NO'}")
        print("  default beats every baseline on mean QoE_lin: " + ", ".join(beaten))
    print()
    print("Default parameters were tuned (benchmarks/abr_tune.py, abr/TUNING.md) on the even-indexed sessions")
    print("(sorted file names) of FCC and HSDPA and on presets generated with seeds 1001-1004; the odd sessions")
    print("and the presets above (seed 7) were held out:")
    print("\n".join(split_summary(results, std_sets)))
    print()
    print(f"simulator validation {'OK' if ok else 'FAILED'}; FCC+HSDPA standard, all {len(algos)} algorithms: "
          f"{core_cpu:.1f} s CPU ({core_wall:.1f} s wall); whole benchmark {total_cpu:.1f} s CPU")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
