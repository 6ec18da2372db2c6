"""``marquee download add|list|pause|resume|remove|play`` (and ``run``, the background worker).

The service: ``--service URL`` (global option), ``MARQUEE_SERVICE`` or the ``service.url``
setting; without any, commands that need it start the embedded service (like ``marquee
play``). ``remove`` and ``play`` never start it: offline they queue the release / play from
disk. The background worker gets the same URL on its command line. ``list``, ``play`` and
``verify`` work on a full disk (the journal is then read without writing).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("download", help="offline downloads: add, list, pause, resume, remove, play",
                       description="Download titles for offline viewing (encrypted at rest, with a license).")
    dsub = p.add_subparsers(dest="download_command", metavar="ACTION", required=True)

    a = dsub.add_parser("add", help="download a film or an episode")
    a.add_argument("target", metavar="ID", help="film or episode id (see `marquee catalog`)")
    a.add_argument("--quality", default=None, metavar="Q",
                   help="low, standard (<=480p), high (<=720p), max, or a height like 720p "
                   "(default: the downloads.quality setting)")
    a.add_argument("--audio", action="append", default=None, metavar="LANG", help="audio language to keep (repeatable)")
    a.add_argument("--subs", action="append", default=None, metavar="LANG",
                   help="subtitle language to keep (repeatable; 'all')")
    a.add_argument("--format", choices=("dash", "hls"), default="dash",
                   help="download the DASH manifest (default) or the HLS playlists of the title")
    a.add_argument("--wait", action="store_true", help="download in the foreground until it is complete")
    a.add_argument("--json", action="store_true", help="print the result as JSON")
    a.set_defaults(func=_handler(_add))

    ls = dsub.add_parser("list", help="the downloads: state, bytes, folder, license times")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_handler(_list))

    for name, help_text in (("pause", "pause a download"), ("resume", "resume a paused or failed download"),
                            ("remove", "delete a download and release its license")):
        c = dsub.add_parser(name, help=help_text)
        c.add_argument("target", metavar="ID")
        if name == "resume":
            c.add_argument("--wait", action="store_true", help="download in the foreground until complete")
        c.set_defaults(func=_handler({"pause": _pause, "resume": _resume, "remove": _remove}[name]))

    pl = dsub.add_parser("play", help="play a download (works offline)")
    pl.add_argument("target", metavar="ID")
    pl.add_argument("--headless", action="store_true", help="no window, no sound (mpv vo=null, ao=null)")
    pl.add_argument("--summary-json", type=Path, default=None, metavar="FILE",
                    help="write the end-of-playback summary as JSON (same as `marquee play`)")
    pl.add_argument("--start", type=float, default=None, metavar="SECONDS",
                    help="start here (default: where you stopped)")
    pl.add_argument("--stop-after", type=float, default=None, metavar="SECONDS")
    pl.add_argument("--audio", default=None, metavar="LANG")
    pl.add_argument("--subs", default=None, metavar="LANG")
    pl.add_argument("--log", type=Path, default=None, metavar="FILE", help="engine events as JSONL")
    pl.add_argument("--quiet", action="store_true", help="no live status line")
    pl.add_argument("--offline", action="store_true", help="do not contact the service even if one is configured")
    pl.set_defaults(func=_play)

    v = dsub.add_parser("verify", help="check every stored file of a download (decrypts in memory)")
    v.add_argument("target", metavar="ID")
    v.set_defaults(func=_handler(_verify))

    r = dsub.add_parser("run", help="download everything queued, then exit (the background worker)")
    r.set_defaults(func=_handler(_run))


def _handler(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from marquee.errors import MarqueeError

        from downloads.disk import as_disk_full, is_disk_full

        try:
            try:
                return int(fn(args) or 0)
            except (OSError, sqlite3.Error) as exc:
                if is_disk_full(exc):
                    raise as_disk_full(exc) from exc
                raise
        except MarqueeError as exc:
            print(f"marquee download {args.download_command}: {exc.user_message}", file=sys.stderr)
            if exc.user_message != exc.message:
                print(f"  ({exc.message})", file=sys.stderr)
            return 2

    return run


class _Online:
    """The service for the commands that need it (started lazily, embedded if none is configured)."""

    def __init__(self, args: argparse.Namespace, *, embedded: bool = True) -> None:
        self.url = getattr(args, "service", None) or os.environ.get("MARQUEE_SERVICE") or _setting_url() or None
        self.embedded_allowed = embedded
        self.service: Any = None
        self.client: Any = None

    def configured(self) -> bool:
        return bool(self.url) or self.embedded_allowed

    def link(self) -> Any:
        from downloads.online import OnlineLink
        from marquee.api import ServiceClient

        if self.client is None:
            url = self.url
            if not url:
                from marquee.embedded import build_content, content_ready, start_embedded_service

                if not content_ready():
                    build_content()
                self.service = start_embedded_service()
                url = self.service.url
            self.client = ServiceClient(url, timeout=5.0)
            self.client.login()
        return OnlineLink(self.client)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.service is not None:
            self.service.stop()


def _setting_url() -> str:
    try:
        from marquee import settings

        loaded, _ = settings.load()
        return str(loaded.get("service.url", "") or "")
    except Exception:  # unreadable settings: as if unset
        return ""


def _open(online: _Online | None, *, reading: bool = False) -> Any:
    """``reading``: a full disk falls back to reading the journal without writing it."""
    from downloads.api import Downloads
    from marquee.errors import StorageError

    link_factory = online.link if online is not None and online.configured() else None
    try:
        d = Downloads.default(link_factory=link_factory)
    except StorageError:
        if not reading:
            raise
        d = Downloads.default(link_factory=link_factory, read_only=True)
    keys_notice = None
    try:
        keys_notice = d.drm.keys().notice
    except Exception:
        keys_notice = None
    if keys_notice:
        print(f"note: {keys_notice}", file=sys.stderr)
    return d


def _progress_printer(quiet: bool = False) -> Any:
    tty = sys.stderr.isatty()

    def show(p: Any) -> None:
        if quiet:
            return
        eta = "-" if p.eta_s is None else f"{p.eta_s:.0f}s"
        line = (f"{p.download_id}: {p.state:<11} {p.percent:5.1f}%  {p.bytes_done / 1e6:7.1f}/{p.bytes_total / 1e6:.1f} MB"
                f"  {p.speed_bps * 8 / 1e6:6.1f} Mbit/s  ETA {eta}  {p.message}")
        if tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if p.state != "downloading" else ""))
        elif p.state != "downloading" or p.files_done % 10 == 0:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return show


def _add(args: argparse.Namespace) -> int:
    online = _Online(args)
    try:
        d = _open(online)
        row = d.add(args.target, quality=args.quality, audio=args.audio, subtitles=args.subs, format=args.format)
        print(f"queued {row.id}: {row.height}p, audio {', '.join(row.audio) or '-'}, "
              f"subtitles {', '.join(row.subtitles) or '-'}", file=sys.stderr)
        if args.wait:
            _foreground(d, row.id)
        else:
            _spawn_worker(online)
        info = d.info(row.id)
        if args.json:
            print(json.dumps(info.to_json(), indent=2))
        else:
            print(f"{info.id} {info.state} {info.percent:.1f}% {info.path}")
        return 0 if (not args.wait or info.state == "completed") else 1
    finally:
        online.close()


def _resume(args: argparse.Namespace) -> int:
    online = _Online(args)
    try:
        d = _open(online)
        d.resume(args.target)
        if args.wait:
            _reconcile(d)
            _foreground(d, args.target)
            info = d.info(args.target)
            print(f"{info.id} {info.state} {info.percent:.1f}% {info.path}"
                  + (f"  ({info.message})" if info.message and info.state != "completed" else ""))
            return 0 if info.state == "completed" else 1
        _spawn_worker(online)
        return 0
    finally:
        online.close()


def _run(args: argparse.Namespace) -> int:
    from downloads.worker import WorkerLock

    with WorkerLock() as lock:
        if not lock.acquired:
            print("another download worker is running", file=sys.stderr)
            return 0
        online = _Online(args)
        try:
            d = _open(online)
            d.settings = dataclasses.replace(d.settings, wait_for_space=True)  # waits, idle, for space
            _reconcile(d)
            d.run_blocking(on_progress=_progress_printer(quiet=not sys.stderr.isatty()), locked=True)
        finally:
            online.close()
    return 0


def _reconcile(d: Any) -> None:
    """Release the licenses a crash left behind (``Downloads.reconcile``); best effort."""
    from downloads.worker import license_lock
    from marquee.errors import MarqueeError

    try:
        with license_lock(wait_s=5.0):
            d.reconcile()
    except MarqueeError as exc:  # offline, a full disk, or an `add` in flight: the next start does it
        print(f"licenses not reconciled: {exc.message}", file=sys.stderr)


def _foreground(d: Any, did: str) -> None:
    """``--wait``: download ``did`` here, holding the worker lock (one process downloads per
    home). If another process holds it, follow the title in the journal until it stops
    there, then take over if it is still to do. A full disk stops it (no retries here)."""
    from downloads.manager import progress_of
    from downloads.worker import WorkerLock

    show = _progress_printer()
    d.settings = dataclasses.replace(d.settings, retry_disk_full=False)
    said = False
    while True:
        with WorkerLock() as lock:
            if lock.acquired:
                d.run_blocking(only={did}, on_progress=show, locked=True)
                return
        if not said:
            print(f"{did}: another Marquee process is downloading; following it", file=sys.stderr)
            said = True
        row = d.journal.get(did)
        if row is None or row.state not in ("queued", "downloading"):
            return
        show(progress_of(d.journal, did))
        time.sleep(1.0)


def _spawn_worker(online: _Online) -> None:
    from downloads.worker import spawn_worker

    # The embedded service stops with this command: the worker then starts its own.
    spawn_worker(online.url if online.service is None else None)


def _list(args: argparse.Namespace) -> int:
    from drm.policy import describe_remaining

    d = _open(None, reading=True)
    items = d.list()
    storage = d.storage()
    if args.json:
        print(json.dumps({"downloads": [i.to_json() for i in items],
                          "storage": {"total_bytes": storage.total_bytes, "free_bytes": storage.free_bytes,
                                      "folder": storage.folder, "per_title": storage.per_title}}, indent=2))
        return 0
    if not items:
        print("no downloads")
    for i in items:
        print(f"{i.id:<14} {i.state:<11} {i.percent:5.1f}% {i.bytes / 1e6:8.1f} MB  {i.height}p  "
              f"license {describe_remaining(i.license.license_remaining_s)}, "
              f"viewing {describe_remaining(i.license.playback_remaining_s)}  {i.path}"
              + (f"  ({i.message})" if i.message else ""))
    print(f"total {storage.total_bytes / 1e6:.1f} MB in {storage.folder}, {storage.free_bytes / 1e9:.1f} GB free")
    return 0


def _pause(args: argparse.Namespace) -> int:
    _open(None).pause(args.target)
    print(f"paused {args.target}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    online = _Online(args, embedded=False)
    try:
        released = _open(online).remove(args.target)
    finally:
        online.close()
    print(f"removed {args.target}" + ("" if released else " (the license release will be sent when online)"))
    return 0


def _verify(args: argparse.Namespace) -> int:
    damaged = _open(None, reading=True).verify(args.target)
    for path in damaged:
        print(f"damaged: {path}")
    print("ok" if not damaged else "This download is damaged. Re-download it?")
    return 0 if not damaged else 1


def _play(args: argparse.Namespace) -> int:
    from marquee.errors import MarqueeError
    from player.cli import finish, report_failure, run_engine

    online = _Online(args, embedded=False)
    d = None
    try:
        d = _open(online, reading=True)
        if args.offline:
            d.link_factory = None
        from downloads.offline import prepare_playback

        prepared = prepare_playback(d, args.target, online=not args.offline, start_s=args.start, audio=args.audio,
                                    subtitles=args.subs)
        last = {"position": prepared.request.start_s, "state": ""}

        def on_snapshot(snap: Any) -> None:
            last["position"], last["state"] = snap.position_s, snap.state.value

        summary = run_engine(prepared.request, args, transports={
            "http://offline.marquee.invalid/": prepared.transport}, on_snapshot=on_snapshot)
        position = 0.0 if last["state"] == "ended" else float(str(last["position"]))
        try:
            d.journal.set_position(args.target, position, d.clock.wall())
        except MarqueeError as exc:  # a full disk: the position is lost, not the playback
            print(f"note: the position was not saved ({exc.user_message})", file=sys.stderr)
        return finish(args, summary)
    except MarqueeError as exc:
        return report_failure(args, exc, prog="marquee download play")
    finally:
        online.close()
        if d is not None:
            d.close()
