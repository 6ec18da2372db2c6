"""From "the user pressed Play" to a ``PlayRequest``, and which engine plays it.

Pure mapping (``make_request``: the user's settings on top of the engine's own
``player.launch.request_from_playback``) plus the choice of engine. The engine factory
returns ``EngineParts``: the ``PlaybackControl`` the bridge drives, and the
object the video widget renders from (``render_source``: anything with
``create_render_context(get_proc_address, update_cb)``, i.e. the mpv adapter's
``MpvPlayer`` in "render" mode), or None when there is no picture to draw
(tests, headless).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from marquee.settings import Settings
from player.control import ContentRef, PlaybackControl, PlayRequest
from player.launch import offered_protocol, request_from_playback
from ui.catalog import PlaybackInfo

log = logging.getLogger("marquee.ui.playback")

# Quality cap setting -> highest video bit rate the engine may choose (PlayRequest.max_bitrate_kbps).
# Chosen for the usual ladders (ours: 480p at 1.4 Mbit/s, 720p at 2.8 Mbit/s): data saver keeps
# to about 480p, HD to about 720p. None: no cap (Auto and Maximum differ only in intent).
QUALITY_CAP_KBPS: dict[str, float | None] = {"auto": None, "data_saver": 1500.0, "hd": 3000.0, "max": None}


class RenderSource(Protocol):
    def create_render_context(self, get_proc_address: Callable[[bytes], int],
                              update_cb: Callable[[], None] | None = None) -> Any: ...


@dataclass
class EngineParts:
    control: PlaybackControl
    render_source: RenderSource | None = None
    description: str = ""  # which engine plays, shown in the stats overlay
    on_close: Callable[[], None] | None = None  # after the control's close(): free what it did not own
    offline_mount: Any = None  # ui.offline_mount.OfflineMount on the engine's client (offline titles)


def make_request(info: PlaybackInfo, title: str, start_s: float, settings: Settings,
                 refresh: Callable[[], PlayRequest] | None = None, prefer: str = "dash",
                 profile_id: str | None = None) -> PlayRequest:
    return request_from_playback(
        info, offered_protocol(info, prefer),
        title=title,
        start_s=max(0.0, float(start_s)),
        audio_language=settings["playback.audio_language"] or None,
        subtitle_language=settings["playback.subtitle_language"] or None,
        abr_algorithm=settings["qa.abr_algorithm"] or "default",
        abr_params=settings.abr_params(),
        throttle=settings["qa.throttle"] or None,
        max_bitrate_kbps=QUALITY_CAP_KBPS.get(str(settings["playback.quality_cap"])),
        refresh=refresh,
        content=ContentRef(profile_id, info.title_id, info.episode_id) if profile_id else None,
    )


def needs_software_gl() -> bool:
    """Xvfb and other displays without a GPU: mpv must accept llvmpipe (``gpu-sw``)."""
    if os.environ.get("MARQUEE_SOFTWARE_GL"):
        return os.environ["MARQUEE_SOFTWARE_GL"] not in ("0", "no", "")
    # gpu-sw only *allows* a software renderer; with a real GPU mpv still uses it.
    return sys.platform.startswith("linux")


def default_engine_factory(on_snapshot: Any, on_event: Any, service_url: str | None = None) -> EngineParts:
    """The Marquee engine driving mpv in "render" mode (the video widget draws its frames).

    The mpv player is created up front, because the video widget needs it to set up
    its render context before anything plays; the engine receives it through its
    output factory, which also connects mpv's events to the engine.
    """
    from player.engine import PlaybackEngine  # noqa: PLC0415
    from player.mpv_adapter import MpvPlayer  # noqa: PLC0415

    target: dict[str, Callable[[Any], None]] = {}

    def relay(ev: Any) -> None:
        cb = target.get("cb")
        if cb is not None:
            cb(ev)

    mpv_player = MpvPlayer(relay, mode="render", software_gl=needs_software_gl())

    def output_factory(on_output_event: Callable[[Any], None]) -> Any:
        target["cb"] = on_output_event
        return mpv_player

    from marquee import paths  # noqa: PLC0415
    from player.oca.store import OcaStatsStore  # noqa: PLC0415

    from downloads.offline_transport import OFFLINE_ORIGIN  # noqa: PLC0415
    from ui.offline_mount import OfflineMount  # noqa: PLC0415

    mount = OfflineMount()
    engine = PlaybackEngine(output_factory, on_snapshot=on_snapshot, on_event=on_event,
                            oca_store=OcaStatsStore(paths.client_db_path()), transports={OFFLINE_ORIGIN: mount})
    if service_url:  # resume-position sync and QoE telemetry (issue 7)
        from marquee import settings as settings_mod  # noqa: PLC0415
        from telemetry.attach import attach  # noqa: PLC0415

        control: Any = attach(engine, service_url=service_url,
                              telemetry_enabled=bool(settings_mod.load()[0]["privacy.telemetry"]))
    else:
        control = engine

    def close_player() -> None:
        if "cb" not in target:  # the engine never took the player: it will not close it
            mpv_player.close()

    return EngineParts(control, mpv_player, "Marquee engine", on_close=close_player, offline_mount=mount)
