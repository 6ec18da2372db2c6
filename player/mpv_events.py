"""What mpv reports, as the engine sees it: ``MpvEvent`` and the folded ``MpvStatus``.

Shared by the adapter (``player.mpv_adapter``, the only module importing ``mpv``) and
the fake (``player.mpv_fake``), so neither the fake nor the engine needs libmpv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["EVENT_KINDS", "EventCallback", "MpvEvent", "MpvStatus"]

_OBSERVED = {
    "time-pos": "position",
    "pause": "paused",
    "eof-reached": "eof",
    "video-params": "video-size",
    "demuxer-cache-duration": "cache-duration",
    "estimated-vf-fps": "fps",
    "frame-drop-count": "frame-drops",
    "decoder-frame-drop-count": "decoder-drops",
    "core-idle": "core-idle",
    "paused-for-cache": "buffering",
    "volume": "volume",
    "mute": "muted",
    "aid": "audio-track",
    "sid": "subtitle-track",
}

EVENT_KINDS = frozenset(_OBSERVED.values()) | {"loaded", "first-frame", "ended", "log"}


@dataclass(frozen=True)
class MpvEvent:
    """One thing mpv reported. ``kind`` is one of :data:`EVENT_KINDS`:

    position (content seconds | None), paused, eof, video-size ((w, h) | None),
    cache-duration, fps, frame-drops, decoder-drops, core-idle, buffering, volume,
    muted, audio-track, subtitle-track (the property's value); loaded; first-frame
    (playback-restart: first frame after a load or a seek); ended (value: "eof" |
    "stop" | "error" | ...); log (value: (level, prefix, text) at warn/error).
    """

    kind: str
    value: Any = None
    t: float = 0.0  # clock.monotonic() when the adapter received it


@dataclass(frozen=True)
class MpvStatus:
    position_s: float | None = None
    paused: bool = False
    eof: bool = False
    video_size: tuple[int, int] | None = None
    cache_duration_s: float = 0.0
    fps: float = 0.0
    frame_drops: int = 0
    decoder_drops: int = 0
    core_idle: bool = True
    buffering: bool = False
    volume: float = 100.0
    muted: bool = False
    first_frame: bool = False
    ended: str = ""
    errors: tuple[str, ...] = field(default_factory=tuple)


EventCallback = Callable[[MpvEvent], None]

_STATUS_FIELD = {
    "position": "position_s", "paused": "paused", "eof": "eof", "video-size": "video_size",
    "cache-duration": "cache_duration_s", "fps": "fps", "frame-drops": "frame_drops",
    "decoder-drops": "decoder_drops", "core-idle": "core_idle", "buffering": "buffering",
    "volume": "volume", "muted": "muted",
}
