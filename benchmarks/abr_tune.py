"""Tune the default controller's parameters on the documented split (abr/TUNING.md).

Run: ``.venv/bin/python benchmarks/abr_tune.py [--rounds N] [--random N] [--workers 2] [--start k=v ...]
[--keys k1,k2]``

Train sets (``abr.bench.tuning_sets``): even sessions of FCC and HSDPA, and the five presets
generated with seeds 1001-1004 (one set of 40 sessions per seed and preset) in standard mode; in
realistic mode the same FCC/HSDPA halves and the presets of seed 1001 (20 sessions each, for speed). The
benchmark's presets (seed 7) and the odd FCC/HSDPA sessions are never evaluated here.

Score: per set, margin = default QoE_lin / target - 1, the target being 1.10 x RobustMPC on
FCC/HSDPA standard and the best baseline everywhere else; score = mean(min(margin, 0.05)) +
min(margin) + sum(w * min(margin, 0)), w = 3 in standard mode and 1 in realistic mode (a single FCC
trace whose link dies for good dominates the realistic FCC mean); a rebuffer above RobustMPC's or
switches above half of BBA-0's on FCC/HSDPA standard costs 0.05 each. In standard mode the FCC and
HSDPA even halves are given as two quarters each (index 0 and 2 modulo 4), so the goal must hold on
each quarter (``--legacy-objective``: whole halves, no min(margin) term, as the first run). Random
search around the start (``--keys`` restricts the parameters it changes), then coordinate search.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from abr.bench import run_one, tuning_sets  # noqa: E402
from abr.default import DefaultParams  # noqa: E402
from abr.video import marquee_video, pensieve_video  # noqa: E402

BASELINES = ("throughput", "bba0", "bola", "robustmpc")
SPACE: dict[str, list] = {
    "reservoir_s": [3, 4, 5, 6, 7, 8, 10],
    "cushion_s": [16, 20, 24, 27, 30, 34, 38, 44],
    "end_reservoir": [0.05, 0.1, 0.15, 0.2, 0.3],
    "end_top": [0.15, 0.2, 0.25, 0.3, 0.4, 0.5],
    "up_confirm": [1, 2, 3, 4],
    "headroom_segments": [4, 6, 8, 10, 12, 16, 20],
    "retry_gain": [0.0, 0.025, 0.05, 0.1, 0.2],
    "max_up_step": [1, 2, 3, 5],
    "down_band": [1, 2, 3],
    "cap_keep": [0.3, 0.45, 0.6, 0.7, 0.8],
    "startup_ratio": [1.0, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5],
    "startup_drop": [1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0],
    "startup_step": [1, 2, 3, 5],
    "startup_slack_s": [0.0, 0.25, 0.5, 1.0, 2.0],
    "virtual_leak_s": [0.0, 0.25, 0.5, 1.0, 2.0, 4.0],
    "virtual_drain": [0.0, 0.5, 1.0, 2.0],
    "ramp_ratio": [0.0, 0.9, 0.96, 1.05, 1.15, 1.3, 1.5],
    "spend_horizon_s": [0.0, 40.0, 80.0, 120.0, 200.0],
    "spend_share": [0.3, 0.5, 0.65, 0.8, 1.0],
    "risk_k": [0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
    "risk_window": [4, 8, 12, 16],
    "fast_half_life": [0.6, 1.2, 2.0, 3.0],
    "slow_half_life": [6.0, 10.0, 15.0, 25.0],
    "headroom_from": ["fast", "safe"],
}

_CORE_TARGET = {"fcc": 1.10, "hsdpa": 1.10}  # x RobustMPC on the FCC/HSDPA train quarters (--core-target)
_ROBUST = True  # add the worst set's margin to the score (TUNING.md, "robust objective")
_SETS: dict | None = None
_QUARTERS = True  # FCC/HSDPA even halves as two quarters each in standard mode (TUNING.md, "robust objective")
_VIDEOS = None


def _init() -> None:
    global _SETS, _VIDEOS
    _SETS = {"standard": tuning_sets(quarters=_QUARTERS), "realistic": tuning_sets((1001,), 20)}
    _VIDEOS = {"standard": pensieve_video(), "realistic": marquee_video()}


def _run(algo: str, params: dict, mode: str) -> list[tuple[str, float, float, float]]:
    assert _SETS is not None and _VIDEOS is not None
    out = []
    for ts in _SETS[mode]:
        s = run_one(algo, {k: str(v) for k, v in params.items()}, ts, _VIDEOS[mode], mode).summary
        out.append((f"{ts.name}/{mode}", s.qoe_lin_mean, s.rebuffer_s_mean, s.switches_mean))
    return out


def baselines() -> dict[str, dict[str, tuple[float, float, float]]]:
    cache = Path("/tmp/abr_tune_baselines_q.json" if _QUARTERS else "/tmp/abr_tune_baselines.json")
    if cache.exists():
        return json.loads(cache.read_text())
    _init()
    res: dict[str, dict[str, tuple[float, float, float]]] = {}
    for algo in BASELINES:
        for mode in ("standard", "realistic"):
            for name, q, rb, sw in _run(algo, {}, mode):
                res.setdefault(name, {})[algo] = (q, rb, sw)
    cache.write_text(json.dumps(res))
    return res


def evaluate(params: dict) -> dict[str, tuple[float, float, float]]:
    if _SETS is None:
        _init()
    out = {}
    for mode in ("standard", "realistic"):
        for name, q, rb, sw in _run("default", params, mode):
            out[name] = (q, rb, sw)
    return out


def score(res: dict, base: dict) -> tuple[float, dict[str, float]]:
    margins = {}
    penalty = 0.0
    for name, (q, rb, sw) in res.items():
        b = base[name]
        core = name.split("-")[0] in ("fcc", "hsdpa") and name.endswith("/standard")
        target = _CORE_TARGET[name.split("-")[0]] * b["robustmpc"][0] if core else max(v[0] for v in b.values())
        margins[name] = q / target - 1.0
        if core:
            penalty += 0.05 * (rb > b["robustmpc"][1]) + 0.05 * (sw > b["bba0"][2] / 2)
    m = list(margins.values())
    shortfall = sum((3.0 if k.endswith("/standard") else 1.0) * min(x, 0.0) for k, x in margins.items())
    worst = min(m) if _ROBUST else 0.0
    return sum(min(x, 0.05) for x in m) / len(m) + worst + shortfall - penalty, margins


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--start", nargs="*", default=[])
    ap.add_argument("--keys", default="", help="comma-separated parameters: random and coordinate search only "
                    "change these (default: all of SPACE)")
    ap.add_argument("--legacy-objective", action="store_true",
                    help="the first objective: FCC/HSDPA even halves whole, no worst-set term")
    ap.add_argument("--core-target", default="", help="e.g. hsdpa=1.16: the FCC/HSDPA standard target as a multiple "
                    "of RobustMPC (default 1.10 each; issue 21's HSDPA goal 47.7 is 1.158 x RobustMPC)")
    args = ap.parse_args(argv)
    for kv in filter(None, args.core_target.split(",")):
        name, _, value = kv.partition("=")
        if name not in _CORE_TARGET:
            ap.error(f"--core-target: unknown set {name!r}")
        _CORE_TARGET[name] = float(value)
    global _QUARTERS, _ROBUST
    if args.legacy_objective:
        _QUARTERS = _ROBUST = False
    base = baselines()
    defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(DefaultParams) if f.name in SPACE}
    best = dict(defaults)
    best.update(dict(kv.split("=", 1) for kv in args.start))
    for k in list(best):
        best[k] = type(SPACE[k][0])(best[k]) if not isinstance(SPACE[k][0], str) else best[k]
    rng = random.Random(args.seed)
    keys = [k for k in args.keys.split(",") if k] or list(SPACE)
    unknown = set(keys) - set(SPACE)
    if unknown:
        ap.error(f"unknown --keys: {sorted(unknown)}")
    with ProcessPoolExecutor(args.workers, initializer=_init) as pool:
        best_score, margins = score(evaluate(best), base)
        print(f"start {best_score:.4f} {best}", flush=True)

        def try_many(cands: list[dict]) -> None:
            nonlocal best, best_score, margins
            for cand, res in zip(cands, pool.map(evaluate, cands)):
                sc, mg = score(res, base)
                if sc > best_score + 1e-6:
                    best, best_score, margins = cand, sc, mg
                    print(f"better {best_score:.4f} {json.dumps(best)}", flush=True)
                    print("   " + " ".join(f"{k}:{v:+.3f}" for k, v in margins.items()), flush=True)

        batch = []
        for _ in range(args.random):
            cand = dict(best)
            for k in rng.sample(keys, rng.randint(1, min(4, len(keys)))):
                cand[k] = rng.choice(SPACE[k])
            if cand["slow_half_life"] < cand["fast_half_life"]:
                continue
            batch.append(cand)
            if len(batch) == 2 * args.workers:
                try_many(batch)
                batch = []
        if batch:
            try_many(batch)
        for _ in range(args.rounds):
            for k in keys:
                try_many([dict(best, **{k: v}) for v in SPACE[k] if v != best[k]])
    print("FINAL", best_score, json.dumps(best))
    print("   " + " ".join(f"{k}:{v:+.3f}" for k, v in margins.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
