"""The ``marquee`` command.

Each feature package owns its subcommands in a ``cli.py`` that defines
``register(subparsers)``; that module imports only argparse-level things at the
top, so ``marquee --help`` stays fast. Handlers receive the parsed namespace and
return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from marquee import __version__

# Modules that contribute subcommands, in help order.
# Each module defines register(subparsers). Add a line when a package gains commands.
COMMAND_MODULES = (
    "service.cli",
    "service.content.cli",
    "app.desktop",
    "player.cli",
    "abr.cli",
    "downloads.cli",
    "qa.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marquee",
        description="Marquee streaming client. With no command, opens the app "
        "(starting the embedded reference service unless --service is given).",
    )
    parser.add_argument("--version", action="version", version=f"marquee {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument(
        "--service",
        metavar="URL",
        default=None,
        help="use the reference service at URL instead of starting the embedded one",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    handler = getattr(args, "func", None)
    if handler is None:
        from app.desktop import run_app

        return run_app(args)
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
