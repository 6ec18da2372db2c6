"""A stand-in for :class:`player.mpv_adapter.MpvPlayer` for engine tests that need no decoding.

Same public interface and the same :class:`MpvEvent` stream for what matters to
the engine (loaded, video-size, first-frame, position, paused, eof, ended,
buffering): it demuxes the feed's MPEG-TS with PyAV, paces it at ``speed`` times
real time (``speed=None``: as fast as the feed delivers), and reads each new
keyframe's size with a one-frame decode. ``tests/player/test_mpv_adapter.py``
runs one scenario against both and checks that they agree.

Differences on purpose: no read-ahead cache, so :meth:`seek` succeeds only
forward within what was already demuxed; no renderer; no audio output.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
from dataclasses import replace
from typing import Any, Callable, Mapping

import av

from marquee.clock import SystemClock, ThreadClock
from marquee.errors import MediaError
from player.feed import ByteFeed
from player.mpv_events import EventCallback, MpvEvent, MpvStatus
from player.mpv_stream import ReadStats
from player.nal import length_prefixed_to_annexb
from player.remux import TS_OFFSET_S

log = logging.getLogger("marquee.player.mpv_fake")


class _FeedFile(io.RawIOBase):
    """Blocking file view of a feed for PyAV (no seeking)."""

    def __init__(self, feed: ByteFeed, stats: ReadStats, stop: threading.Event, clock: ThreadClock,
                 starving: Callable[[bool], None]) -> None:
        self._feed, self._stats, self._stop, self._clock = feed, stats, stop, clock
        self._starving = starving  # mpv pauses for its cache when the stream runs dry

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._stop.is_set():
            try:
                if self._feed.buffered_bytes or self._feed.eof:
                    n = self._feed.read_into(b, len(b), timeout=0.05)
                else:
                    self._starving(True)
                    with self._clock.waiting():  # for the engine to write: time may move meanwhile
                        n = self._feed.read_into(b, len(b), timeout=0.05)
                    self._starving(False)
            except TimeoutError:
                continue
            self._stats.calls += 1
            self._stats.bytes += n
            return n
        return 0


class FakeMpvPlayer:
    def __init__(
        self,
        on_event: EventCallback,
        *,
        speed: float | None = 1.0,
        clock: ThreadClock | None = None,
        time_offset_s: float = TS_OFFSET_S,
        **_ignored: Any,  # mode, wid, options...: accepted for interface parity
    ) -> None:
        self._on_event = on_event
        self._speed = speed
        self._clock: ThreadClock = clock or SystemClock()
        self._offset = time_offset_s
        self._lock = threading.Lock()
        self._status = MpvStatus()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._feed: ByteFeed | None = None
        self._demuxed_until: float | None = None
        self._skip_to: float | None = None
        self.read_stats = ReadStats()

    # -------------------------------------------------------------- intents

    def play_feed(self, feed: ByteFeed, *, start_s: float | None = None) -> str:
        self._halt()
        self._stop = threading.Event()
        self._feed = feed
        self._skip_to = start_s
        with self._lock:
            self._status = MpvStatus(volume=self._status.volume, muted=self._status.muted,
                                     paused=self._status.paused)
        url = f"marquee://feed/{next(self._ids)}"
        self._thread = threading.Thread(target=self._run, args=(feed, self._stop, start_s),
                                        name="fake-mpv", daemon=True)
        self._thread.start()
        return url

    def play_url(self, url: str, *, start_s: float | None = None) -> None:
        raise MediaError("the fake player plays engine feeds only", code="unsupported_source")

    def pause(self) -> None:
        self._unpaused.clear()
        self._emit("paused", True)

    def resume(self) -> None:
        self._unpaused.set()
        self._emit("paused", False)

    def seek(self, position_s: float) -> bool:
        pos, until = self._status.position_s, self._demuxed_until
        if pos is None or until is None or not pos <= position_s <= until:
            return False
        self._skip_to = position_s
        return True

    def stop(self) -> None:
        self._halt()
        self._emit("ended", "stop")

    def set_volume(self, volume: float) -> None:
        self._emit("volume", max(0.0, min(130.0, float(volume))))

    def set_muted(self, muted: bool) -> None:
        self._emit("muted", bool(muted))

    def set_audio_track(self, track_id: int | None) -> None:
        self._emit("audio-track", track_id if track_id is not None else False)

    def set_subtitle_track(self, track_id: int | None) -> None:
        self._emit("subtitle-track", track_id if track_id is not None else False)

    def add_subtitle(self, path_or_url: str, *, language: str = "", title: str = "", select: bool = True) -> None:
        if select:
            self._emit("subtitle-track", 1)

    def tracks(self) -> tuple[tuple[str, int, str, str], ...]:
        return ()

    def status(self) -> MpvStatus:
        return self._status

    def get(self, prop: str) -> Any:
        return None

    def create_render_context(self, get_proc_address: Callable[[bytes], int],
                              update_cb: Callable[[], None] | None = None) -> Any:
        raise MediaError("the fake player has no renderer", code="render_context")

    def close(self) -> None:
        self._halt()
        self._emit("ended", "quit")

    def __enter__(self) -> "FakeMpvPlayer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------- internals

    def _halt(self) -> None:
        self._stop.set()
        if self._feed is not None:
            self._feed.abort()
        self._unpaused.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _emit(self, kind: str, value: Any = None) -> None:
        ev = MpvEvent(kind, value, self._clock.monotonic())
        with self._lock:
            s = self._status
            upd: Mapping[str, Any] = {
                "position": {"position_s": value}, "paused": {"paused": bool(value)},
                "eof": {"eof": bool(value)}, "video-size": {"video_size": value},
                "buffering": {"buffering": bool(value)}, "core-idle": {"core_idle": bool(value)},
                "volume": {"volume": value}, "muted": {"muted": bool(value)},
                "first-frame": {"first_frame": True}, "ended": {"ended": str(value)},
            }.get(kind, {})
            if kind == "log" and value[0] == "error":
                upd = {"errors": s.errors + (f"{value[1]}: {value[2]}",)}
            self._status = replace(s, **upd) if upd else s
        try:
            self._on_event(ev)
        except Exception:
            log.exception("engine event callback failed")

    def _starving(self, starving: bool) -> None:
        """Report ``buffering`` as mpv does (paused-for-cache), once playback has started."""
        status = self._status
        if status.first_frame and status.buffering != starving and not status.eof:
            self._emit("buffering", starving)

    def _run(self, feed: ByteFeed, stop: threading.Event, start_s: float | None) -> None:
        try:
            with self._clock.working():
                self._play(feed, stop)
        except Exception as exc:  # bad bytes: mpv would log and end the file
            if not stop.is_set():
                self._emit("log", ("error", "fake", f"demux failed: {exc}"))
                self._emit("ended", "error")

    def _play(self, feed: ByteFeed, stop: threading.Event) -> None:
        src = _FeedFile(feed, self.read_stats, stop, self._clock, self._starving)
        with av.open(src, "r", options={"probesize": "65536", "analyzeduration": "500000"}) as inp:  # TS or Matroska
            if stop.is_set():
                return
            self._emit("loaded")
            self._emit("eof", False)
            vids = [s for s in inp.streams if s.type == "video"]
            auds = [s for s in inp.streams if s.type == "audio"]
            clock_stream = vids[0] if vids else (auds[0] if auds else None)
            if clock_stream is None:
                self._emit("ended", "error")
                return
            t_base: float | None = None  # wall time corresponding to content time 0
            paused_at: float | None = None
            size: tuple[int, int] | None = None
            shown_size: tuple[int, int] | None = None
            shown = False
            pos = -1e9
            for pkt in inp.demux(clock_stream):
                if stop.is_set():
                    return
                if pkt.pts is None or pkt.size == 0:
                    continue
                t = float(pkt.pts * pkt.time_base) - self._offset
                self._demuxed_until = max(t, self._demuxed_until or t)
                if clock_stream.type == "video" and pkt.is_keyframe:
                    new = _frame_size(clock_stream.codec_context.name, pkt)
                    if new is not None:
                        size = new
                skip = self._skip_to
                if skip is not None and t < skip:
                    continue
                if skip is not None:
                    self._skip_to = None
                    shown, t_base = False, None
                if t <= pos:
                    continue
                pos = t
                first = not shown
                # pacing: content time t is due at t_base + t / speed
                if self._speed:
                    now = self._clock.monotonic()
                    if t_base is None:
                        t_base = now - t / self._speed
                    if not self._unpaused.is_set():
                        paused_at = now
                        with self._clock.waiting():
                            self._unpaused.wait()
                        if paused_at is not None:
                            t_base += self._clock.monotonic() - paused_at
                            paused_at = None
                    delay = t_base + t / self._speed - self._clock.monotonic()
                    if delay > 0 and self._clock.wait_in_thread(delay, stop):
                        return
                if size != shown_size:  # mpv reports the new size when that frame shows
                    shown_size = size
                    self._emit("video-size", size)
                if first:
                    shown = True
                    self._emit("first-frame")
                    self._emit("core-idle", False)
                self._emit("position", pos)
            if not stop.is_set():
                self._emit("eof", True)
                self._emit("core-idle", True)


def _frame_size(codec: str, pkt: av.Packet) -> tuple[int, int] | None:
    """Decode one keyframe in a fresh decoder to learn its size (the rung)."""
    for data in (None, length_prefixed_to_annexb(bytes(pkt)) if codec in ("h264", "hevc") else None):
        try:
            ctx: Any = av.CodecContext.create(codec, "r")
            frames = list(ctx.decode(pkt if data is None else av.Packet(data))) + list(ctx.decode(None))
        except av.FFmpegError:
            frames = []
        if frames:  # Matroska H.264/HEVC is length-prefixed: a bare decoder wants Annex B
            return frames[0].width, frames[0].height
    return None
