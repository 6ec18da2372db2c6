"""``marquee content build|check``: build the demo media and artwork, validate the catalogue."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("content", help="build the demo content (media, artwork) or check the catalogue")
    csub = p.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="encode the demo masters (DASH + HLS) and draw the artwork")
    b.add_argument("--quick", action="store_true", help="a small build for tests: 2 masters x 16 s, seconds")
    b.add_argument("--force", action="store_true", help="rebuild everything even if up to date")
    b.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write (default: the content folder under the cache directory)")
    b.add_argument("--catalog", type=Path, default=None, metavar="PATH", help="catalogue file (default: assets/)")
    b.add_argument("--progress-step", type=int, default=10, metavar="PERCENT",
                   help="when not on a terminal, print a progress line every PERCENT (default 10; the app uses 1)")
    b.add_argument("--watch-stdin", action="store_true",
                   help=argparse.SUPPRESS)  # stop when stdin closes: the app that started the build is gone
    b.set_defaults(func=run_build)
    c = csub.add_parser("check", help="validate the catalogue (assets/catalog.json)")
    c.add_argument("--catalog", type=Path, default=None, metavar="PATH")
    c.set_defaults(func=run_check)


def run_build(args: argparse.Namespace) -> int:
    from marquee import paths
    from marquee.errors import MarqueeError
    from service.content.build import build
    from service.content.progress import Progress
    from service.content.spec import default_spec, quick_spec

    out = (args.out or paths.content_dir()).expanduser().resolve()
    spec = quick_spec() if args.quick else default_spec()
    progress = Progress(sys.stderr, step_percent=args.progress_step)
    if args.watch_stdin:
        from marquee.lifeline import interrupt_main_thread, on_stdin_eof

        on_stdin_eof(interrupt_main_thread)  # KeyboardInterrupt here: ffmpeg is stopped on the way out
    try:
        result = build(out, spec, catalog_path=args.catalog, force=args.force, progress=progress)
    except MarqueeError as exc:
        progress.finish("")
        print(f"marquee content build: {exc.user_message}\n  ({exc.message})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.finish("content: stopped; the next build resumes where this one stopped")
        return 130
    if result.built:
        media = result.info.get("media", {})
        progress.finish(f"content: built {len(media)} media x {len(spec.ladder)} rungs and artwork for "
                        f"{result.info.get('titles')} titles in {result.seconds:.1f} s -> {out}")
    else:
        print(f"content: up to date ({out})", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from service.content.catalog_check import check_file, default_path

    problems = check_file(args.catalog or default_path())
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print("catalogue: ok")
    return 0
