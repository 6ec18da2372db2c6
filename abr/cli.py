"""``marquee abr-sim``: run ABR controllers over network traces in the simulator.

Examples::

    marquee abr-sim --traces fcc --traces hsdpa --algo default,robustmpc,bba0
    marquee abr-sim --traces presets --mode realistic --algo default,robustmpc --json
    marquee abr-sim --traces path/to/mahimahi_dir --video content/media/m0/manifest.mpd \\
        --algo default --param reservoir_s=6 --param robustmpc:horizon=4 --report out.html

``--param k=v`` goes to every selected algorithm that has a parameter ``k`` (a ConfigError if
none has); ``--param algo:k=v`` to that algorithm only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("abr-sim", help="simulate ABR controllers over network traces (QoE table, JSON, HTML report)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--traces", action="append", metavar="DIR_OR_PRESET",
                   help="trace directory, trace file (Pensieve 'time Mbit/s' or Mahimahi), or preset: fcc, hsdpa, "
                        "3g, lte, cable, satellite, wifi-lossy, presets (all five); repeatable or comma-separated "
                        "(default: fcc,hsdpa)")
    p.add_argument("--video", default=None, metavar="FILE_OR_MANIFEST",
                   help="chunk-size directory/file, DASH manifest, or 'pensieve' / 'marquee' "
                        "(default: pensieve in standard mode, marquee in realistic mode)")
    p.add_argument("--algo", default="default", metavar="NAME[,NAME...]",
                   help="controllers: default, throughput, bba0, bola, robustmpc, or 'all'")
    p.add_argument("--param", action="append", default=[], metavar="[ALGO:]K=V", help="controller parameter")
    p.add_argument("--mode", choices=("standard", "realistic"), default="standard",
                   help="standard: Pensieve fixed_env semantics; realistic: no wrap-around, abandonment, long sessions")
    p.add_argument("--json", action="store_true", help="one JSON object per line per algorithm and trace set")
    p.add_argument("--report", metavar="OUT.html", default=None, help="write an HTML report with plots")
    p.add_argument("--list", action="store_true", help="list algorithms and their parameters, then exit")
    p.set_defaults(func=handle)


def split_params(pairs: list[str], algos: list[str]) -> dict[str, dict[str, str]]:
    """``[algo:]k=v`` pairs -> per-algorithm dicts (ConfigError on a name no selected algorithm has)."""
    import dataclasses

    from marquee.errors import ConfigError

    from abr.params import parse_kv
    from abr.registry import _lookup

    fields = {a: {f.name for f in dataclasses.fields(_lookup(a)[0].Params)} for a in algos}
    out: dict[str, dict[str, str]] = {a: {} for a in algos}
    for pair in pairs:
        target, sep, rest = pair.partition(":")
        if sep and "=" not in target:
            if target not in out:
                raise ConfigError(f"--param {pair!r}: algorithm {target!r} is not selected")
            out[target].update(parse_kv([rest]))
            continue
        kv = parse_kv([pair])
        key = next(iter(kv)).replace("-", "_")
        takers = [a for a in algos if key in fields[a]]
        if not takers:
            raise ConfigError(f"--param {pair!r}: no selected algorithm has a parameter {key!r}")
        for a in takers:
            out[a][key] = kv[next(iter(kv))]
    return out


def handle(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from marquee.errors import ConfigError

    from abr.bench import format_table, run_matrix
    from abr.registry import algorithm_info, algorithms
    from abr.traces import resolve_traces
    from abr.video import resolve_video

    try:
        if args.list:
            for name in algorithms():
                info = algorithm_info(name)
                print(f"{name}: {info.summary}")
                for prm in info.params:
                    print(f"    {prm.name} = {prm.default}    {prm.doc}")
            return 0
        algos = algorithms() if args.algo.strip() == "all" else [a.strip() for a in args.algo.split(",") if a.strip()]
        for a in algos:
            algorithm_info(a)  # unknown name -> ConfigError
        params = split_params(args.param, algos)
        specs = [s.strip() for item in (args.traces or ["fcc,hsdpa"]) for s in item.split(",") if s.strip()]
        sets = [ts for spec in specs for ts in resolve_traces(spec)]
        video = resolve_video(args.video or ("marquee" if args.mode == "realistic" else "pensieve"))
        started = time.process_time()
        results = run_matrix(algos, params, sets, video, args.mode, keep_sessions=bool(args.report))
        cpu = time.process_time() - started
    except ConfigError as exc:
        print(f"abr-sim: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        for r in results:
            row = r.summary.to_dict()
            row["video"] = video.name
            print(json.dumps(row, sort_keys=True))
    else:
        print(format_table(results, "robustmpc" if "robustmpc" in algos else None))
        print(f"\n{sum(r.summary.sessions for r in results)} sessions, video {video.name}, "
              f"{cpu:.1f} s CPU")
    if args.report:
        from abr.report import write_report

        out = write_report(Path(args.report), results, sets, format_table(results))
        print(f"report: {out}", file=sys.stderr)
    return 0
