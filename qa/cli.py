"""``marquee qa run SCENARIO [--sim] [--report DIR]``, ``marquee qa link`` and ``marquee qa list``."""

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
    link = qsub.add_parser(
        "link", help="a shaping proxy on loopback for any player (prints the URL to give it)",
        description="Serve an upstream DASH/HLS stream on a loopback URL through one emulated link that follows a "
        "trace or a fixed rate (the OCAs' pacing), with a fault timeline and a request log. Runs until Ctrl-C.")
    rate = link.add_mutually_exclusive_group(required=True)
    rate.add_argument("--trace", metavar="T", help="a trace file (time mbps per line, or mahimahi), or one in assets/traces")
    rate.add_argument("--mbps", type=float, metavar="X", help="a steady link of X Mbit/s")
    link.add_argument("--rtt-ms", type=float, default=0.0, metavar="R", help="added to every request (default 0)")
    link.add_argument("--faults", type=Path, metavar="FILE",
                      help="a TOML file of [[faults]] tables, as in a scenario (at_s, until_s, down, error_rate, "
                      "latency_ms, stall_after_bytes, truncate_after_bytes, corrupt)")
    link.add_argument("--upstream", required=True, metavar="URL", help="the stream to serve, e.g. http://host/x/manifest.mpd")
    link.add_argument("--port", type=int, default=0, help="the loopback port (default: any free one)")
    link.add_argument("--log", type=Path, metavar="FILE", help="write the request log here (JSON lines)")
    link.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C)")
    link.set_defaults(func=link_qa)
    camp = qsub.add_parser(
        "campaign", help="run a matrix of scenarios x algorithms x traces x repeats, resumable",
        description="Run every cell of a campaign file (see qa/campaign.py), storing each result as it finishes in "
        "DIR/results.jsonl (run the same command again to resume after a crash), then write DIR/summary.json and "
        "DIR/report.html (means with 95 %% confidence intervals, per-trace wins). Runs on a local process pool, "
        "or on a Dask distributed cluster with --scheduler.")
    camp.add_argument("file", type=Path, help="the campaign file (.toml)")
    camp.add_argument("--out", type=Path, default=None, metavar="DIR",
                      help="results and report (default: ./campaign-<name>)")
    camp.add_argument("--scheduler", default=None, metavar="ADDR",
                      help="a Dask scheduler address (tcp://host:8786): run the cells on its workers")
    camp.add_argument("--workers", type=int, default=None, metavar="N",
                      help="local pool size (default: one per core for simulations, one per core pair for real runs)")
    camp.add_argument("--content", type=Path, default=None, metavar="DIR", help="built content (as for qa run)")
    camp.set_defaults(func=campaign_qa)
    lst = qsub.add_parser("list", help="print the ready scenarios, one path per line")
    lst.set_defaults(func=list_qa)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def list_qa(args: argparse.Namespace) -> int:
    from qa.scenario import library

    for path in library():
        print(path)
    return 0


def link_qa(args: argparse.Namespace) -> int:
    from marquee.errors import MarqueeError

    try:
        return _link(args)
    except MarqueeError as exc:
        print(f"marquee qa link: {exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _link(args: argparse.Namespace) -> int:
    import asyncio

    from marquee.errors import ConfigError
    from qa.link import LinkTimeline, link_scenario
    from qa.linkproxy import LinkProxy, upstream_origin

    upstream_origin(args.upstream)
    faults_text, source = "", "--faults"
    if args.faults is not None:
        try:
            faults_text, source = args.faults.read_text(encoding="utf-8"), str(args.faults)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the faults file {args.faults}: {exc}") from exc
    scn = link_scenario(trace=args.trace, mbps=args.mbps, rtt_ms=args.rtt_ms, faults_text=faults_text,
                        faults_source=source, base_dir=Path.cwd())
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {args.port}")
    sink = None
    if args.log is not None:
        try:
            sink = args.log.open("w", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write the request log {args.log}: {exc}") from exc

    async def serve() -> None:
        proxy = LinkProxy(LinkTimeline(scn), args.upstream, port=args.port, log_sink=sink)
        try:
            await proxy.start()
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from exc
        link = scn.links["oca-1"]
        print(proxy.url, flush=True)
        print(f"link: {link.source}, rtt {link.rtt_ms:g} ms, {len(scn.faults)} fault(s); upstream "
              f"{proxy.origin}; Ctrl-C stops", file=sys.stderr, flush=True)
        try:
            if args.seconds is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(args.seconds)
        finally:
            await proxy.stop()
            print(f"{len([r for r in proxy.requests.rows if r['kind'] == 'link_request'])} request(s)",
                  file=sys.stderr, flush=True)

    try:
        asyncio.run(serve())
    finally:
        if sink is not None:
            sink.close()
    return 0


def campaign_qa(args: argparse.Namespace) -> int:
    from marquee.errors import MarqueeError

    try:
        return _campaign(args)
    except MarqueeError as exc:
        print(f"marquee qa campaign: {exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmarquee qa campaign: stopped; the finished cells are stored (run it again to resume)",
              file=sys.stderr)
        return 130


def _campaign(args: argparse.Namespace) -> int:
    import time

    from marquee import paths
    from marquee.errors import ConfigError
    from qa.campaign import cells, format_aggregate, parse_campaign
    from qa.campaign_run import Progress, execute, pool_size, trace_count, write_report
    from qa.campaign_store import ResultStore
    from qa.scenario import load_scenario

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the campaign file {args.file}: {exc}") from exc

    def find(spec: str, base: Path) -> Path:
        near = base / spec
        return near if near.is_file() else resolve_scenario_path(spec)

    campaign = parse_campaign(text, str(args.file), find)
    variants = {s: [v.name for v in load_scenario(Path(s), ci=campaign.ci).variants] for s in campaign.scenarios}
    counts = {t: trace_count(t) for t in campaign.traces}
    matrix = cells(campaign, variants, counts)
    if args.workers is not None and not 1 <= args.workers <= 512:
        raise ConfigError(f"--workers must be between 1 and 512, not {args.workers}")
    content = args.content
    if content is None:
        from marquee.embedded import build_content, content_ready

        if content_ready():
            content = paths.content_dir()
        elif campaign.mode == "real":
            if not build_content():
                return 2
            content = paths.content_dir()
    out = args.out or Path(f"campaign-{campaign.name}")
    store = ResultStore(out / "results.jsonl")
    pending = [c for c in matrix if not store.done(c.id)]
    workers = args.workers or pool_size(campaign.mode)
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else f"a local pool of {workers}"
    print(f"campaign {campaign.name}: {len(matrix)} cells, {len(matrix) - len(pending)} already done, "
          f"running {len(pending)} on {where}", file=sys.stderr, flush=True)
    progress = Progress(len(matrix), len(matrix) - len(pending), sys.stderr)
    t0 = time.monotonic()
    try:
        execute(pending, store, workers=workers, scheduler=args.scheduler, content_dir=content, progress=progress)
    finally:
        progress.finish()
        store.close()
    wall = time.monotonic() - t0
    ids = {c.id for c in matrix}
    rows = [r for i, r in store.rows.items() if i in ids]
    agg = write_report(campaign, rows, out, wall, where)
    print(format_aggregate(agg))
    failed = sum(1 for r in rows if r.get("error"))
    print(f"{len(pending)} cells ran in {wall:.1f} s on {where}; {failed} failed; report: {out / 'report.html'}")
    return 1 if failed else 0


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
