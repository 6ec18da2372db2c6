"""``marquee play``: play a catalogue title or any DASH/HLS URL through our engine."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from player.events import PlaybackSnapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play",
        help="play a title id or a DASH/HLS URL through the Marquee engine",
        description="Play a catalogue title (id from `marquee catalog`) or any DASH/HLS manifest URL. "
        "Prints a live status line and a summary at the end; exits non-zero when playback failed.",
    )
    p.add_argument("target", help="title or episode id, or a manifest URL (http/https)")
    p.add_argument("--headless", action="store_true", help="no window, no sound (mpv vo=null, ao=null)")
    p.add_argument("--start", type=float, default=None, metavar="SECONDS",
                   help="start here (default: the synced resume point, or 0)")
    p.add_argument("--stop-after", type=float, default=None, metavar="SECONDS",
                   help="stop after this much content has played")
    p.add_argument("--throttle", default=None, metavar="PRESET|TRACE",
                   help="shape our own downloads: a preset (3g, lte, cable, satellite, wifi-lossy), "
                   "a rate like 2mbit, or a trace file (time_s Mbit/s lines, or Mahimahi)")
    p.add_argument("--log", type=Path, default=None, metavar="FILE",
                   help="write every engine event (decisions with reasons, segments, failovers) as JSONL")
    p.add_argument("--summary-json", type=Path, default=None, metavar="FILE",
                   help="write the end-of-playback summary as JSON")
    p.add_argument("--algo", default="default", help="ABR algorithm (see `marquee abr-sim --help`)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="ABR parameter (repeatable)")
    p.add_argument("--protocol", choices=("dash", "hls"), default="dash",
                   help="which manifest of a catalogue title to play")
    p.add_argument("--profile", default=None, help="profile id or name (default: the first profile)")
    p.add_argument("--audio", default=None, metavar="LANG", help="audio language")
    p.add_argument("--subs", default=None, metavar="LANG", help="subtitle language")
    p.add_argument("--max-bitrate", type=float, default=None, metavar="KBPS", help="never pick a rung above this")
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument("--no-telemetry", action="store_true",
                   help="record no QoE telemetry for this playback (the setting privacy.telemetry also turns it off)")
    p.add_argument("--no-sync", action="store_true",
                   help="do not record or sync the resume position (by default it is sent to the service "
                   "3 s after playback starts, then every 10 s, and on pause and stop)")
    p.add_argument("--cmcd", choices=("off", "headers", "query"), default="headers",
                   help="send CMCD (CTA-5004) with segment requests to the reference OCAs (default headers)")
    p.set_defaults(func=run_play)


def _params(pairs: list[str]) -> dict[str, str]:
    from marquee.errors import ConfigError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def run_play(args: argparse.Namespace) -> int:
    from marquee.errors import MarqueeError

    try:
        return _play(args)
    except MarqueeError as exc:
        return report_failure(args, exc)


def report_failure(args: argparse.Namespace, exc: Any, prog: str = "marquee play") -> int:
    """A playback that could not start: the message on stderr, a failed summary JSON, exit 2
    (shared with ``marquee download play``)."""
    print(f"{prog}: {exc.user_message}", file=sys.stderr)
    if exc.user_message != exc.message:
        print(f"  ({exc.message})", file=sys.stderr)
    if args.summary_json:
        _write_json(args.summary_json, {"ok": False, "errors": [exc.user_message], "startup_ms": None,
                                        "start_s": args.start or 0.0, "played_s": 0.0, "stall_count": 0,
                                        "stall_ms": 0.0, "switches": 0, "avg_bitrate_kbps": 0.0,
                                        "failovers": 0, "decode_errors": 0})
    return 2


def _play(args: argparse.Namespace) -> int:
    from abr import make_controller
    from player.control import PlayRequest
    from player.launch import is_manifest_url

    params = _params(args.param)
    make_controller(args.algo, params)  # validate before anything starts
    options: dict[str, Any] = dict(
        abr_algorithm=args.algo, abr_params=params, throttle=args.throttle, audio_language=args.audio,
        subtitle_language=args.subs, max_bitrate_kbps=args.max_bitrate,
    )
    if args.throttle:
        from player.shaping import resolve_throttle

        resolve_throttle(args.throttle)  # validate early, with a clear message
    service = None
    service_url: str | None = None
    try:
        if is_manifest_url(args.target):
            request = PlayRequest(manifest_url=args.target, title=args.target, start_s=args.start or 0.0, **options)
        else:
            request, service = _catalogue_request(args, options)
            service_url = getattr(args, "_service_url", None)
        if not args.headless and not _has_display():
            print("marquee play: no display found; add --headless to play without a window", file=sys.stderr)
            return 2
        from marquee import paths
        from player.oca.store import OcaStatsStore

        summary = run_engine(request, args, oca_store=OcaStatsStore(paths.client_db_path()),
                             observe=_observer(args, service_url))
    finally:
        if service is not None:
            service.stop()
    return finish(args, summary)


def _observer(args: argparse.Namespace, service_url: str | None) -> Any:
    """Position sync and QoE telemetry for catalogue titles (issue 7); None for bare URLs."""
    if not service_url:
        return None
    from marquee import settings as settings_mod
    from telemetry.attach import attach

    enabled = settings_mod.load()[0]["privacy.telemetry"] and not args.no_telemetry
    return lambda engine: attach(engine, service_url=service_url, telemetry_enabled=enabled,
                                 cmcd=args.cmcd if enabled else "off", network=args.throttle or "",
                                 sync_enabled=not args.no_sync, client=getattr(args, "_client", None))


def run_engine(request: Any, args: argparse.Namespace, *, transports: Any = None, oca_store: Any = None,
               on_snapshot: Any = None, observe: Any = None) -> Any:
    """Play ``request`` to its end with the live status line and the ``--log`` JSONL; the summary.
    Shared with ``marquee download play`` (which mounts its offline transport)."""
    from player.engine import PlaybackEngine
    from player.events import Failover, PlaybackError, PlayerEvent

    log_file: IO[str] | None = args.log.open("w", encoding="utf-8") if args.log else None
    log_lock = threading.Lock()

    def on_event(event: PlayerEvent) -> None:
        if log_file is not None:
            with log_lock:
                log_file.write(json.dumps(event.to_json()) + "\n")
        if isinstance(event, (Failover, PlaybackError)) and not args.quiet:
            _status_print(f"[{event.kind}] " + ", ".join(f"{k}={v}" for k, v in event.data.items()), final=True)

    engine = PlaybackEngine(_output_factory(args.headless), on_event=on_event, on_snapshot=on_snapshot,
                            oca_store=oca_store, transports=transports)
    if observe is not None:
        engine = observe(engine)
    try:
        engine.play(request)
        return _watch(engine, args, request.start_s)
    finally:
        engine.close()
        if log_file is not None:
            log_file.close()


def finish(args: argparse.Namespace, summary: Any) -> int:
    """Write (``--summary-json``) and print the summary; the exit code."""
    result = summary.to_json()
    if args.summary_json:
        _write_json(args.summary_json, result)
    _print_summary(result)
    return 0 if summary.ok else 1


def _catalogue_request(args: argparse.Namespace, options: dict[str, Any]) -> tuple[Any, Any]:
    from marquee.api import ServiceClient
    from marquee.errors import ConfigError
    from player.launch import request_for_title

    service = None
    url = getattr(args, "service", None) or os.environ.get("MARQUEE_SERVICE")
    if not url:
        from marquee.embedded import build_content, content_ready, start_embedded_service

        if not content_ready():
            build_content()
        service = start_embedded_service()
        url = service.url
    client = ServiceClient(url)
    client.login()
    profiles = client.profiles()
    if not profiles:
        raise ConfigError("the account has no profiles")
    profile = profiles[0]
    if args.profile:
        match = [p for p in profiles if args.profile in (p.id, p.name)]
        if not match:
            raise ConfigError(f"no profile {args.profile!r}; profiles: {', '.join(p.name for p in profiles)}")
        profile = match[0]
    if not getattr(args, "no_sync", False):
        from telemetry.attach import send_pending

        send_pending(url, client)  # positions left by a crash first, so the resume point is current
    request = request_for_title(client, profile.id, args.target, protocol=args.protocol, start_s=args.start,
                                **options)
    args._service_url, args._client = url, client
    return request, service


def _output_factory(headless: bool) -> Any:
    from player.mpv_adapter import MpvPlayer

    def factory(on_event: Any) -> Any:
        if headless:
            return MpvPlayer(on_event, mode="headless")
        # mpv opens its own window: vo/ao chosen by mpv
        return MpvPlayer(on_event, mode="headless", options={"vo": "gpu,x11,null", "ao": "pulse,alsa,null"})

    return factory


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _watch(engine: Any, args: argparse.Namespace, start_s: float) -> Any:
    from player.events import PlaybackState

    tty = sys.stderr.isatty() and not args.quiet
    last_print = 0.0
    while True:
        summary = engine.wait(timeout=0.25)
        if summary is not None:
            break
        snap = engine.snapshot()
        if args.stop_after is not None and snap.state in (PlaybackState.PLAYING, PlaybackState.BUFFERING):
            if snap.position_s - start_s >= args.stop_after:
                engine.stop()
                summary = engine.wait(timeout=10)
                break
        now = time.monotonic()
        if not args.quiet and (tty or now - last_print >= 5.0):
            last_print = now
            _status_print(_status_line(snap), final=not tty)
    if tty:
        sys.stderr.write("\n")
    return summary


def _status_line(snap: PlaybackSnapshot) -> str:
    # What is on screen; the rung being fetched follows when it differs (after a switch).
    shown_kbps = snap.shown_bitrate_kbps or snap.bitrate_kbps
    fetching = f" (fetching {snap.bitrate_kbps:.0f})" if snap.shown_rung >= 0 and snap.rung != snap.shown_rung else ""
    return (
        f"{snap.state.value:<9} {snap.position_s:7.1f}/{snap.duration_s:.0f}s  buffer {snap.buffer_s:5.1f}s  "
        f"{snap.resolution[1]:>4}p {shown_kbps:6.0f} kbps{fetching}  net {snap.throughput_kbps:7.0f} kbps  "
        f"{snap.oca or '-'}  {snap.message}"
    )


def _status_print(text: str, final: bool) -> None:
    sys.stderr.write(("\r\033[K" if sys.stderr.isatty() else "") + text + ("\n" if final else ""))
    sys.stderr.flush()


def _print_summary(result: dict[str, Any]) -> None:
    startup = "-" if result["startup_ms"] is None else f"{result['startup_ms']:.0f} ms"
    print(
        f"startup {startup}, played {result['played_s']:.1f} s from {result['start_s']:.1f} s, "
        f"stalls {result['stall_count']} ({result['stall_ms']:.0f} ms), switches {result['switches']}, "
        f"avg {result['avg_bitrate_kbps']:.0f} kbps, failovers {result['failovers']}"
    )
    for error in result["errors"]:
        print(f"error: {error}")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
