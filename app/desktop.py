"""The default command: open the desktop app.

``marquee`` / ``marquee app``: build the demo content if it is missing (in a window that
shows its progress, ``ui.first_run``), start the embedded reference service (unless
``--service URL`` or the ``service.url`` setting names one), open the window. Qt is imported only
inside the handler, and only after checking that there is a display to open.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

log = logging.getLogger("marquee.app")

NO_DISPLAY = ("marquee: no display found: run under a desktop session, or use `xvfb-run ./run` "
              "(or `marquee play --headless ...` to play without a window).")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("app", help="open the desktop app (the default when no command is given)")
    p.set_defaults(func=run_app)


def has_display(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """False on Linux/BSD without X11/Wayland (unless Qt is told to render offscreen)."""
    env = dict(os.environ) if env is None else env
    platform = platform or sys.platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def run_app(args: argparse.Namespace) -> int:
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from marquee import settings as settings_mod

    settings, _warnings = settings_mod.load()
    url = getattr(args, "service", None) or settings["service.url"] or ""
    first_run: list[Any] = []  # the first start's build window, until the app's window replaces it
    try:
        return _open(url, first_run)
    finally:
        for window in first_run:
            _dispose(window)


def _open(url: str, first_run: list[Any]) -> int:
    from marquee import paths
    from marquee.errors import MarqueeError

    embedded = None
    if not url:
        from marquee.embedded import announce_build, build_command, content_ready

        if not content_ready():
            from ui.first_run import QUIT, SKIPPED, run_first_build

            updating = announce_build()
            # --watch-stdin: the build stops with the app, however the app ends (Ctrl+C, kill -9)
            outcome, window = run_first_build([*build_command(), "--progress-step", "1", "--watch-stdin"],
                                              updating=updating, content_ready=content_ready)
            first_run.append(window)
            if outcome == QUIT:
                print("marquee: stopped; the build resumes where it left off at the next start.", file=sys.stderr)
                return 0
            if outcome == SKIPPED:
                print("marquee: opening without the demo videos; titles will not play until the build succeeds "
                      "(`marquee content build`).", file=sys.stderr)
        from marquee.embedded import SupervisedService, start_embedded_service

        print("marquee: starting the built-in service…", file=sys.stderr, flush=True)
        try:
            embedded = SupervisedService(lambda port: start_embedded_service(port=port))
        except MarqueeError as exc:
            print(f"marquee: {exc.user_message}\n{exc.message}", file=sys.stderr)
            return 1
        url = embedded.url
    try:
        from ui.app import run
        from ui.downloads_service import service_opener
        from ui.playback import default_engine_factory
        from ui.service_client import ApiCatalog

        source = ApiCatalog.connect(url, offline_cache=paths.cache_dir() / "ui-offline")
        try:
            import functools

            return run(source, functools.partial(default_engine_factory, service_url=url), service_opener(url),
                       replaces=first_run[0] if first_run else None)
        finally:
            source.close()
    finally:
        if embedded is not None:
            embedded.stop()


def _dispose(widget: Any) -> None:
    """Delete a Qt widget now, while the QApplication lives: left to Python's exit, after the
    application, its deletion corrupted the heap."""
    import shiboken6

    if shiboken6.isValid(widget):
        shiboken6.delete(widget)
