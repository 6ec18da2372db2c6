"""``marquee qa run SCENARIO [--sim] [--report DIR]`` and ``marquee qa list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("qa", help="QA scenarios under throttled and faulty networks",
                       description="Run network/fault scenarios against the real player or the simulator.")
    qsub = p.add_subparsers(dest="qa_command", metavar="ACTION")
    run = qsub.add_parser(
        "run", help="run a scenario and print the verdict (exit 1 when a threshold fails)",
        description="Start the embedded service with the scenario's per-OCA shaping and fault timeline, play "
        "headless through the real engine and mpv, record every event and check the thresholds. "
        "The simulator's predictions of the same scenario are always computed and compared.")
    run.add_argument("scenario", help="a scenario file (.toml) or the name of a ready one (see `marquee qa list`)")
    run.add_argument("--sim", action="store_true", help="run in the ABR simulator only (seconds, no service, no mpv)")
    run.add_argument("--report", type=Path, default=None, metavar="DIR",
                     help="write report.html, summary.json and decisions.jsonl into DIR")
    run.add_argument("--ci", action="store_true", help="the short form: apply the scenario's [ci] overrides")
    run.add_argument("--content", type=Path, default=None, metavar="DIR",
                     help="built content to serve (default: the demo content, built on first use)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.set_defaults(func=run_qa)
    lst = qsub.add_parser("list", help="print the ready scenarios, one path per line")
    lst.set_defaults(func=list_qa)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def list_qa(args: argparse.Namespace) -> int:
    from qa.scenario import library

    for path in library():
        print(path)
    return 0


def resolve_scenario_path(spec: str) -> Path:
    from marquee.errors import ConfigError
    from qa.scenario import library

    path = Path(spec).expanduser()
    if path.is_file():
        return path
    for candidate in library():
        if spec in (candidate.stem, candidate.name):
            return candidate
    raise ConfigError(f"no scenario {spec!r}: give a .toml file or one of: {', '.join(p.stem for p in library())}")


def run_qa(args: argparse.Namespace) -> int:
    from marquee.errors import MarqueeError

    try:
        return _run(args)
    except MarqueeError as exc:
        print(f"marquee qa: {exc.user_message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from marquee import paths
    from qa.runner import format_table, run_scenario, write_outputs
    from qa.scenario import load_scenario

    scn = load_scenario(resolve_scenario_path(args.scenario), ci=args.ci)
    content = args.content
    if content is None and scn.url is None:
        from marquee.embedded import build_content, content_ready

        if content_ready():
            content = paths.content_dir()
        elif not args.sim:  # the real player needs the videos: build them, as `marquee` does on first use
            if not build_content():
                return 2
            content = paths.content_dir()
        # else: the simulator needs only segment sizes; without a build, those shipped (qa.sim_profile)
    progress = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    result = run_scenario(scn, content, sim_only=args.sim, progress=progress)
    print(f"scenario: {scn.name} ({'simulator' if args.sim else 'real player'}"
          f"{', short form' if scn.short else ''}; content {result.content.label})")
    print(format_table(result))
    for v in result.variants:
        for check in v.checks:
            print(f"  {v.variant.name}: {check.describe()}")
        if v.real is not None:
            for err in v.real.summary.get("errors", []):
                print(f"  {v.variant.name}: error: {err}")
    if args.report:
        files = write_outputs(result, args.report)
        print(f"report: {files['report']}")
    print("PASS" if result.passed else "FAIL")
    return 0 if result.passed else 1
