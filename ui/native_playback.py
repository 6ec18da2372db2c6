"""TEMPORARY playback path until ``player.engine.PlaybackEngine`` lands.

mpv plays the service's HLS manifest itself (its own downloads, its own ABR),
through the adapter in "render" mode, and this class turns the adapter's events
into ``PlaybackSnapshot``s so the UI works exactly as it will with the engine.
What it cannot do: our ABR, OCA failover, throttling, the stats of the engine.

Needs from the adapter (see the report): a public ``play_url(url, start_s)``;
until then it uses the adapter's private ``_command`` / ``_set``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from marquee.errors import MarqueeError
from player.control import EventCallback, PlayRequest, SnapshotCallback
from player.events import Ended, PlaybackError, PlaybackSnapshot, PlaybackState, TrackInfo
from player.mpv_adapter import MpvEvent, MpvPlayer

log = logging.getLogger("marquee.ui.native")

# Let mpv/ffmpeg probe HLS itself (the adapter's defaults are for the engine's MPEG-TS feed).
NATIVE_OPTIONS = {
    "demuxer-lavf-format": "",
    "force-seekable": "no",
    "rebase-start-time": "yes",
    "cache-secs": "20",
    "demuxer-readahead-secs": "20",
    "demuxer-max-bytes": "64MiB",
    "hls-bitrate": "max",
}


class NativeMpvPlayback:
    def __init__(self, on_snapshot: SnapshotCallback, on_event: EventCallback, *, software_gl: bool = True,
                 player: Any = None) -> None:
        self._on_snapshot, self._on_event = on_snapshot, on_event
        self._lock = threading.Lock()
        self._snap = PlaybackSnapshot()
        self._t0 = 0.0
        self._mpv = player or MpvPlayer(self._mpv_event, mode="render", software_gl=software_gl,
                                        options=NATIVE_OPTIONS, time_offset_s=0.0)
        self.render_source = self._mpv

    # ------------------------------------------------------------ PlaybackControl
    def play(self, request: PlayRequest) -> None:
        url = request.manifest_url
        if url.endswith(".mpd") and request.ocas:
            url = request.ocas[0].base_url + "master.m3u8"  # ffmpeg's HLS demuxer is the dependable one
        self._publish(state=PlaybackState.LOADING, title=request.title, position_s=request.start_s,
                      message="Starting…", audio_language=request.audio_language or "",
                      subtitle_language=request.subtitle_language or "", oca=request.ocas[0].id if request.ocas else "")
        opts = f"start={request.start_s:.3f}" if request.start_s > 0 else ""
        try:
            self._mpv._command("loadfile", url, "replace", opts)  # TEMPORARY: private adapter call
        except MarqueeError as exc:
            self._error(exc.user_message)

    def pause(self) -> None:
        self._mpv.pause()

    def resume(self) -> None:
        self._mpv.resume()

    def toggle_pause(self) -> None:
        self.resume() if self._snap.paused else self.pause()

    def seek(self, position_s: float) -> None:
        try:
            self._mpv._command("seek", f"{position_s:.3f}", "absolute")  # TEMPORARY: private adapter call
            self._publish(state=PlaybackState.SEEKING, position_s=position_s)
        except MarqueeError as exc:
            log.warning("seek failed: %s", exc)

    def stop(self) -> None:
        try:
            self._mpv.stop()
        except MarqueeError as exc:
            log.info("stop: %s", exc)
        self._publish(state=PlaybackState.IDLE)

    def close(self) -> None:
        self._mpv.close()

    def set_volume(self, volume: int) -> None:
        self._mpv.set_volume(volume)

    def set_muted(self, muted: bool) -> None:
        self._mpv.set_muted(muted)

    def set_audio_language(self, language: str) -> None:
        for kind, tid, lang, _title in self._mpv.tracks():
            if kind == "audio" and lang == language:
                self._mpv.set_audio_track(tid)
                self._publish(audio_language=language)
                return

    def set_subtitle_language(self, language: str | None) -> None:
        if language is None:
            self._mpv.set_subtitle_track(None)
            self._publish(subtitle_language="")
            return
        for kind, tid, lang, _title in self._mpv.tracks():
            if kind == "sub" and lang == language:
                self._mpv.set_subtitle_track(tid)
                self._publish(subtitle_language=language)
                return

    def set_quality_cap(self, rung: int | None) -> None:
        self._publish(quality_cap=rung, message="" if rung is None else "Fixed quality needs the Marquee engine.")

    def tracks(self) -> list[TrackInfo]:
        out = []
        for kind, tid, lang, title in self._mpv.tracks():
            k = {"sub": "text"}.get(kind, kind)
            out.append(TrackInfo(k, str(tid), lang, title or lang or f"{k} {tid}"))
        return out

    def snapshot(self) -> PlaybackSnapshot:
        return self._snap

    # ------------------------------------------------------------ mpv -> snapshots
    def _publish(self, **changes: Any) -> None:
        with self._lock:
            self._snap = replace(self._snap, **changes)
            snap = self._snap
        self._on_snapshot(snap)

    def _error(self, message: str) -> None:
        self._publish(state=PlaybackState.ERROR, message=message)
        self._on_event(PlaybackError(0.0, category="media", code="", message=message, recoverable=True))

    def _mpv_event(self, ev: MpvEvent) -> None:
        s = self._snap
        k, v = ev.kind, ev.value
        if k == "position" and v is not None:
            dur = self._mpv.get("duration")
            bitrate = self._mpv.get("video-bitrate")
            changes: dict[str, Any] = {"position_s": float(v), "duration_s": float(dur or s.duration_s or 0.0)}
            if bitrate:
                changes["bitrate_kbps"] = float(bitrate) / 1000.0
            if s.state == PlaybackState.SEEKING:
                changes["state"] = PlaybackState.PAUSED if s.paused else PlaybackState.PLAYING
            self._publish(**changes)
        elif k == "first-frame":
            self._publish(state=PlaybackState.PAUSED if s.paused else PlaybackState.PLAYING, message="")
        elif k == "paused":
            state = s.state
            if state in (PlaybackState.PLAYING, PlaybackState.PAUSED):
                state = PlaybackState.PAUSED if v else PlaybackState.PLAYING
            self._publish(paused=bool(v), state=state)
        elif k == "buffering":
            if v:
                self._publish(state=PlaybackState.BUFFERING, message="Buffering…")
            elif s.state == PlaybackState.BUFFERING:
                self._publish(state=PlaybackState.PAUSED if s.paused else PlaybackState.PLAYING, message="")
        elif k == "cache-duration":
            buf = float(v or 0.0)
            self._publish(buffer_s=buf, buffered_until_s=s.position_s + buf)
        elif k == "video-size" and v:
            self._publish(resolution=tuple(v))
        elif k in ("frame-drops", "decoder-drops"):
            self._publish(dropped_frames=int(v or 0))
        elif k == "volume" and v is not None:
            self._publish(volume=int(v))
        elif k == "muted":
            self._publish(muted=bool(v))
        elif k == "eof" and v:
            self._publish(state=PlaybackState.ENDED)
            self._on_event(Ended(0.0))
        elif k == "log":
            log.warning("mpv %s: %s: %s", *v)
        elif k == "ended" and v == "error":
            self._error("The video could not be played. Check your connection and try again.")
