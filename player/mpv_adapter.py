"""libmpv behind a small, typed surface. The ONLY module in Marquee that imports ``mpv``.

mpv only decodes and renders: it reads the engine's MPEG-TS stream from a
:class:`player.feed.ByteFeed` through a custom stream protocol
(``marquee://feed/<id>``) and keeps a small demuxer read-ahead, so the buffer
(and with it every ABR decision) stays in the engine.

Everything mpv reports arrives on python-mpv's event thread; the adapter turns it
into a frozen :class:`MpvEvent` and hands it to the engine's callback at once
(the callback must only enqueue). :meth:`MpvPlayer.status` returns an immutable
:class:`MpvStatus` snapshot built from the same events.

The stream protocol is registered with our own ctypes callbacks rather than
python-mpv's ``register_stream_protocol``, whose read path copies into mpv's
buffer one byte at a time from Python; ours is one ``memmove`` per chunk.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

import mpv  # the only import of mpv in the project

from marquee.clock import Clock, SystemClock
from marquee.errors import MediaError
from player.feed import ByteFeed
from player.mpv_events import _OBSERVED, _STATUS_FIELD, EVENT_KINDS, EventCallback, MpvEvent, MpvStatus
from player.mpv_stream import ReadStats, _FeedStream, _OpenFn
from player.remux import TS_OFFSET_S

log = logging.getLogger("marquee.player.mpv")

PROTOCOL = "marquee"

# Small read-ahead: mpv holds ~2 s, the engine holds the real buffer.
DEFAULT_OPTIONS: Mapping[str, str] = {
    "config": "no",
    "terminal": "no",
    "input-default-bindings": "no",
    "input-vo-keyboard": "no",
    "osc": "no",
    "load-scripts": "no",
    "ytdl": "no",
    "idle": "yes",
    "keep-open": "yes",  # stop at the end with eof-reached=yes instead of unloading
    "rebase-start-time": "no",  # time-pos = TS time; we subtract the remuxer's fixed offset
    "demuxer-lavf-probesize": "32768",  # our own TS: PAT/PMT and in-band SPS come first
    "demuxer-lavf-analyzeduration": "0.1",  # start on the first segment, not the third
    "cache": "yes",  # a demuxer cache, so short seeks back stay inside mpv
    "cache-secs": "2",
    "demuxer-readahead-secs": "2",
    "demuxer-max-bytes": "4MiB",
    "demuxer-max-back-bytes": "8MiB",
    "demuxer-seekable-cache": "yes",
    "force-seekable": "yes",  # the feed cannot seek; this allows seeks inside the cache
    "cache-pause": "yes",
    "hr-seek": "yes",
}

_END_REASONS = {0: "eof", 1: "restarted", 2: "stop", 3: "quit", 4: "error", 5: "redirect"}


# ------------------------------------------------------------------ the player


class MpvPlayer:
    """A libmpv instance playing engine feeds.

    ``mode``: "headless" (``vo=null``, ``ao=null``), "window" (embed into ``wid``),
    "render" (``vo=libmpv``: the UI draws through :meth:`create_render_context`).
    ``options`` override/extend :data:`DEFAULT_OPTIONS`.
    """

    def __init__(
        self,
        on_event: EventCallback,
        *,
        mode: str = "headless",
        wid: int | None = None,
        software_gl: bool = False,
        log_level: str = "warn",
        options: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        time_offset_s: float = TS_OFFSET_S,
    ) -> None:
        opts = dict(DEFAULT_OPTIONS)
        if mode == "headless":
            opts.update({"vo": "null", "ao": "null"})
        elif mode == "window":
            if wid is None:
                raise ValueError("mode='window' needs wid")
            opts["wid"] = str(int(wid))
        elif mode == "render":
            opts["vo"] = "libmpv"
        else:
            raise ValueError(f"unknown mode {mode!r}")
        if software_gl:
            opts["gpu-sw"] = "yes"  # Xvfb / llvmpipe: accept the software renderer
        opts.update(options or {})
        self._on_event = on_event
        self._clock = clock or SystemClock()
        self._feed_offset = time_offset_s
        self._offset = time_offset_s  # of the file loaded now
        self._lock = threading.Lock()
        self._status = MpvStatus()
        self._feeds: dict[str, ByteFeed] = {}
        self._streams: dict[str, _FeedStream] = {}
        self._closed_streams: list[_FeedStream] = []
        self._ids = itertools.count(1)
        self._gl_proc: Any = None
        self.read_stats = ReadStats()
        try:
            self._mpv = mpv.MPV(log_handler=self._on_log, loglevel=log_level, **opts)
        except Exception as exc:  # mpv raises its own error types; translate at the edge
            raise MediaError(f"libmpv could not start: {exc}", code="mpv_init") from exc
        self._open_cb = _OpenFn(self._open)
        add = mpv.backend["mpv_stream_cb_add_ro"]  # a fresh function object: our own argtypes
        add.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, _OpenFn]
        add.restype = ctypes.c_int
        handle = ctypes.cast(self._mpv.handle, ctypes.c_void_p)
        rc = add(handle, PROTOCOL.encode(), None, self._open_cb)
        if rc < 0:
            raise MediaError(f"libmpv refused the {PROTOCOL}:// protocol (error {rc})", code="mpv_init")
        for prop in _OBSERVED:
            self._mpv.observe_property(prop, self._on_property)
        self._mpv.register_event_callback(self._on_mpv_event)

    # -------------------------------------------------------------- intents

    def play_feed(self, feed: ByteFeed, *, start_s: float | None = None) -> str:
        """Play the TS stream in ``feed``; ``start_s`` (content time) drops what lies
        before it (the feed starts at the segment that holds it). Returns the URL."""
        fid = str(next(self._ids))
        with self._lock:
            del self._closed_streams[:-4]  # long closed by now; the last few may still be returning
            self._feeds[fid] = feed
        url = f"{PROTOCOL}://feed/{fid}"
        self._load(url, start_s, self._feed_offset, {})
        return url

    def play_url(self, url: str, *, start_s: float | None = None) -> None:
        """Let mpv open a URL or file itself (no engine feed: e.g. a file, or a fallback).
        Positions are the file's own, rebased to start at 0."""
        self._load(url, start_s, 0.0, {"rebase-start-time": "yes"})

    def _load(self, url: str, start_s: float | None, offset: float, opts: dict[str, str]) -> None:
        with self._lock:
            self._offset = offset
            self._status = MpvStatus(volume=self._status.volume, muted=self._status.muted)
        if start_s is not None and start_s > 0:
            opts["start"] = f"{start_s + offset:.3f}"
        self._command("loadfile", url, "replace", ",".join(f"{k}={v}" for k, v in opts.items()))

    def pause(self) -> None:
        self._set("pause", True)

    def resume(self) -> None:
        self._set("pause", False)

    def seek(self, position_s: float) -> bool:
        """Seek to content time ``position_s`` if mpv holds it in its cache; False
        otherwise (the engine then restarts the feed at the segment that holds it)."""
        target = position_s + self._offset
        if not self._cached(target):
            return False
        self._command("seek", f"{target:.3f}", "absolute+exact")
        return True

    def stop(self) -> None:
        self._command("stop")
        with self._lock:
            feeds = list(self._feeds.values())
        for f in feeds:
            f.abort()

    def set_volume(self, volume: float) -> None:
        self._set("volume", max(0.0, min(130.0, float(volume))))

    def set_muted(self, muted: bool) -> None:
        self._set("mute", bool(muted))

    def set_audio_track(self, track_id: int | None) -> None:
        self._set("aid", "no" if track_id is None else int(track_id))

    def set_subtitle_track(self, track_id: int | None) -> None:
        self._set("sid", "no" if track_id is None else int(track_id))

    def add_subtitle(self, path_or_url: str, *, language: str = "", title: str = "", select: bool = True) -> None:
        """Add an external subtitle file (e.g. a WebVTT the engine fetched and saved)."""
        args = [path_or_url, "select" if select else "auto", title or language or "sub", language]
        self._command("sub-add", *args)

    def tracks(self) -> tuple[tuple[str, int, str, str], ...]:
        """(type, id, language, title) for every track mpv knows."""
        try:
            items = self._mpv.track_list or []
        except Exception:
            return ()
        return tuple((t.get("type", ""), int(t.get("id", 0)), t.get("lang", "") or "", t.get("title", "") or "")
                     for t in items)

    def status(self) -> MpvStatus:
        return self._status

    def get(self, prop: str) -> Any:
        """Read one mpv property (for diagnostics and tests); None if unavailable."""
        try:
            return self._mpv._get_property(prop)
        except Exception:
            return None

    def close(self) -> None:
        with self._lock:
            feeds = list(self._feeds.values())
        for f in feeds:
            f.abort()
        try:
            self._mpv.terminate()
        except Exception as exc:
            log.warning("mpv terminate failed: %s", exc)

    def __enter__(self) -> "MpvPlayer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------- render context

    def create_render_context(
        self, get_proc_address: Callable[[bytes], int], update_cb: Callable[[], None] | None = None
    ) -> "RenderContext":
        """Create an OpenGL ``MpvRenderContext`` (mode="render"). Call it with the UI's
        GL context current; ``get_proc_address(name)`` returns a GL function address.
        ``update_cb`` is called (on an mpv thread) when a new frame should be drawn."""

        def proc(_ctx: Any, name: bytes) -> int:
            try:
                return int(get_proc_address(name) or 0)
            except Exception:
                log.exception("get_proc_address failed")
                return 0

        fn = mpv.MpvGlGetProcAddressFn(proc)
        try:
            ctx = mpv.MpvRenderContext(self._mpv, "opengl", opengl_init_params={"get_proc_address": fn})
        except Exception as exc:
            raise MediaError(f"mpv render context failed: {exc}", code="render_context",
                             user_message="The video renderer could not start.") from exc
        rc = RenderContext(ctx, fn)
        if update_cb is not None:
            ctx.update_cb = update_cb
        return rc

    # ----------------------------------------------------------- internals

    def _open(self, _userdata: Any, uri: bytes, info: Any) -> int:
        try:
            text = uri.decode()
            prefix = f"{PROTOCOL}://feed/"
            fid = text[len(prefix):] if text.startswith(prefix) else ""
            with self._lock:
                feed = self._feeds.get(fid)
            if feed is None:
                return mpv.ErrorCode.LOADING_FAILED
            stream = _FeedStream(feed, self.read_stats)

            def forget() -> None:
                # Called from inside the stream's own close callback: keep the ctypes
                # thunks alive until the next load (freeing a running thunk is unsafe).
                with self._lock:
                    closed = self._streams.pop(fid, None)
                    if closed is not None:
                        self._closed_streams.append(closed)
                    self._feeds.pop(fid, None)

            stream.on_close = forget
            with self._lock:
                self._streams[fid] = stream  # keeps the callbacks alive until close
            cb = info.contents
            cb.cookie = None
            cb.read = stream.read_cb
            cb.seek = None
            cb.size = None
            cb.close = stream.close_cb
            cb.cancel = stream.cancel_cb
            return 0
        except Exception:
            log.exception("stream open failed")
            return mpv.ErrorCode.LOADING_FAILED

    def _emit(self, kind: str, value: Any = None) -> None:
        ev = MpvEvent(kind, value, self._clock.monotonic())
        self._update_status(ev)
        try:
            self._on_event(ev)
        except Exception:
            log.exception("engine event callback failed")

    def _update_status(self, ev: MpvEvent) -> None:
        with self._lock:
            s = self._status
            name = _STATUS_FIELD.get(ev.kind)
            if name is not None:
                value = ev.value
                if name in ("fps", "cache_duration_s"):
                    value = float(value or 0.0)
                elif name in ("frame_drops", "decoder_drops"):
                    value = int(value or 0)
                elif name in ("paused", "eof", "core_idle", "buffering", "muted"):
                    value = bool(value)
                elif name == "volume":
                    value = float(value if value is not None else 100.0)
                s = replace(s, **{name: value})
            elif ev.kind == "first-frame":
                s = replace(s, first_frame=True)
            elif ev.kind == "ended":
                s = replace(s, ended=str(ev.value))
            elif ev.kind == "log" and ev.value[0] in ("error", "fatal"):
                s = replace(s, errors=(s.errors + (f"{ev.value[1]}: {ev.value[2]}",))[-50:])
            self._status = s

    def _on_property(self, name: str, value: Any) -> None:
        kind = _OBSERVED[name]
        if kind == "position" and value is not None:
            # mpv 0.35 reports time-pos 0 at load, before the first timestamp is known;
            # with rebase-start-time=no that is "offset seconds before the content".
            value = float(value) - self._offset
            if value < -1.0:
                value = None
        elif kind == "video-size":
            value = (int(value["w"]), int(value["h"])) if isinstance(value, dict) and "w" in value else None
        elif kind == "cache-duration" and value is not None:
            value = float(value)
        self._emit(kind, value)

    def _on_mpv_event(self, event: Any) -> None:
        eid = event.event_id.value
        if eid == mpv.MpvEventID.PLAYBACK_RESTART:
            self._emit("first-frame")
        elif eid == mpv.MpvEventID.FILE_LOADED:
            self._emit("loaded")
        elif eid == mpv.MpvEventID.END_FILE:
            data = event.data
            self._emit("ended", _END_REASONS.get(int(data.reason), str(data.reason)))

    def _on_log(self, level: str, prefix: str, text: str) -> None:
        if level in ("warn", "error", "fatal"):
            self._emit("log", (level, prefix, str(text).rstrip()))

    def _cached(self, target: float) -> bool:
        state = self.get("demuxer-cache-state")
        if not isinstance(state, dict):
            return False
        for r in state.get("seekable-ranges") or []:
            if float(r.get("start", 0)) <= target <= float(r.get("end", -1)):
                return True
        return False

    def _set(self, prop: str, value: Any) -> None:
        try:
            self._mpv._set_property(prop, value)
        except Exception as exc:
            raise MediaError(f"mpv refused {prop}={value!r}: {exc}", code="mpv_command") from exc

    def _command(self, *args: str) -> None:
        try:
            self._mpv.command(*args)
        except Exception as exc:
            raise MediaError(f"mpv command {args[0]} failed: {exc}", code="mpv_command") from exc


class RenderContext:
    """The UI's handle on mpv's OpenGL render API (call from the GL thread)."""

    def __init__(self, ctx: Any, proc_fn: Any) -> None:
        self._ctx = ctx
        self._proc_fn = proc_fn  # keep the C callback alive as long as the context

    def update(self) -> bool:
        """True when a new frame is ready to be rendered."""
        return bool(self._ctx.update())

    def render(self, fbo: int, width: int, height: int, *, flip_y: bool = True) -> None:
        self._ctx.render(opengl_fbo={"w": width, "h": height, "fbo": fbo}, flip_y=flip_y)

    def report_swap(self) -> None:
        self._ctx.report_swap()

    def free(self) -> None:
        self._ctx.free()
