"""The default command: open the desktop app (placeholder until the UI lands)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="open the desktop app (the default when no command is given)")
    p.set_defaults(func=run_app)


def run_app(args: argparse.Namespace) -> int:
    raise SystemExit("the desktop app is not built yet")
