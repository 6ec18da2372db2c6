"""The engine: a background asyncio loop that runs one ``PlaybackSession`` at a time.

Callers (the Qt bridge, the CLI, QA) use it from any thread through the
``PlaybackControl`` methods; every intent is posted onto the engine's loop, and
snapshots and events come back through the callbacks given at construction
(called on the engine's thread: a UI must re-post them to its own thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from dataclasses import replace
from typing import Any, Callable, Coroutine, Mapping

import httpx

from marquee.clock import Clock, SystemClock
from marquee.errors import MarqueeError
from marquee.tls import ssl_context
from player.control import EventCallback, PlayRequest, SnapshotCallback
from player.net import check_redirect
from player.events import PlaybackError, PlaybackSnapshot, PlaybackState, PlaybackSummary, PlayerEvent, TrackInfo
from player.oca.store import OcaStatsStore
from player.session import MediaOutput, PlaybackSession, SessionSettings

log = logging.getLogger("marquee.engine")

# Builds the mpv output; receives the callback for mpv's events (called on mpv's thread).
OutputFactory = Callable[[Callable[[Any], None]], MediaOutput]


def http_client(mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
                connections: int = 32) -> httpx.AsyncClient:
    """One client for all downloads: keep-alive, HTTP/2 where the server offers it (TLS).

    ``mounts`` route URL prefixes to other transports: an offline title is served by a
    transport that decrypts the stored segments in memory, so it plays through the very
    same pipeline as a stream (the way Shaka's ``offline:`` scheme works).
    ``connections`` caps the pool: httpcore looks at every pooled connection for each
    request, so a pool no larger than the requests in flight is cheaper.
    """
    _larger_socket_reads()
    return httpx.AsyncClient(
        mounts=dict(mounts or {}),
        http2=True,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=min(16, connections)),
        timeout=httpx.Timeout(10.0, connect=3.0),
        follow_redirects=True,
        event_hooks={"response": [check_redirect]},  # redirects stay on their origin (player.net)
        headers={"User-Agent": "Marquee/0.1"},
        verify=ssl_context(),
    )


SOCKET_READ_BYTES = 256 * 1024


def _larger_socket_reads() -> None:
    """httpcore reads HTTP/1.1 bodies 64 KiB at a time, and each read costs a trip through
    anyio, h11, httpcore and httpx (~100 us of Python). Segments are megabytes: 256 KiB reads
    measured 1.3-2x the loopback throughput (benchmarks/engine.py). A read still returns as
    soon as any bytes arrive, so stall detection and progress are unaffected. The knob is a
    class constant of httpcore; set it for every client, idempotently."""
    from httpcore._async.http11 import AsyncHTTP11Connection

    if AsyncHTTP11Connection.READ_NUM_BYTES < SOCKET_READ_BYTES:
        AsyncHTTP11Connection.READ_NUM_BYTES = SOCKET_READ_BYTES


class PlaybackEngine:
    def __init__(
        self,
        output_factory: OutputFactory,
        *,
        on_snapshot: SnapshotCallback | None = None,
        on_event: EventCallback | None = None,
        clock: Clock | None = None,
        settings: SessionSettings | None = None,
        oca_store: OcaStatsStore | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._output_factory = output_factory
        self._on_snapshot = on_snapshot or (lambda s: None)
        self._on_event = on_event or (lambda e: None)
        self.clock = clock or SystemClock()
        self.settings = settings or SessionSettings()
        self._oca_store = oca_store
        self._transports = dict(transports or {})
        self._listeners: list[tuple[SnapshotCallback | None, EventCallback | None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="marquee-engine", daemon=True)
        self._thread.start()
        self._client: httpx.AsyncClient | None = None
        self._output: MediaOutput | None = None
        self._session: PlaybackSession | None = None
        self._quality: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_snapshot = PlaybackSnapshot()
        self._finished = threading.Event()
        self._summary: PlaybackSummary | None = None

    # ---------------------------------------------------------------- threads
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, fn: Callable[[], Any], what: str = "a player command") -> concurrent.futures.Future[Any]:
        async def wrapper() -> Any:
            return fn()

        return self._post(wrapper(), what)

    def _post(self, coro: Coroutine[Any, Any, Any], what: str, *, fatal: bool = False) -> concurrent.futures.Future[Any]:
        """Run ``coro`` on the engine's loop, watched: an exception nobody collects becomes
        a log line and an error event (and, when ``fatal``, the end of the playback), never
        a silent nothing."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        future.add_done_callback(lambda f: self._check(f, what, fatal))
        return future

    def _check(self, future: concurrent.futures.Future[Any], what: str, fatal: bool) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            return
        log.error("%s failed: %s", what, exc, exc_info=exc)
        if isinstance(exc, MarqueeError):
            user, category, code = exc.user_message, exc.category, exc.code
        else:
            user, category, code = "Playback failed unexpectedly.", "internal", "engine"
        if not fatal:
            user = f"The player could not do that ({what})."
        self._event(PlaybackError(0.0, category=category, code=code, message=user, detail=f"{what}: {exc}",
                                  recoverable=not fatal))
        if fatal:
            self._summary = PlaybackSummary(None, 0.0, 0.0, 0, 0.0, 0, 0.0, 0, [user], ok=False)
            self._snapshot(replace(self._last_snapshot, state=PlaybackState.ERROR, message=user))
            self._finished.set()

    def _with_session(self, action: Callable[[PlaybackSession], Any], what: str) -> None:
        def run() -> None:
            if self._session is not None:
                action(self._session)

        self._call(run, what)

    # ----------------------------------------------------------- PlaybackControl
    def play(self, request: PlayRequest) -> None:
        """Start playing ``request`` (stopping what plays now). Returns at once; progress
        arrives through the callbacks."""
        self._finished.clear()
        self._summary = None
        self._post(self._start(request), "starting the playback", fatal=True)

    def prepare(self) -> None:
        """Create the HTTP client and the mpv output now rather than on the first play
        (an app calls this at start so pressing Play only pays for the playback itself)."""
        asyncio.run_coroutine_threadsafe(self._prepare(), self._loop).result(timeout=30)

    async def _prepare(self) -> None:
        if self._client is None:
            self._client = http_client(self._transports)
        if self._output is None:
            self._output = self._output_factory(self._from_output_thread)

    async def _start(self, request: PlayRequest) -> None:
        await self._stop_current()
        await self._prepare()
        history = self._oca_store.load() if self._oca_store else {}
        assert self._client is not None and self._output is not None
        session = PlaybackSession(
            request,
            client=self._client,
            output=self._output,
            clock=self.clock,
            on_event=self._event,
            on_snapshot=self._snapshot,
            settings=self.settings,
            oca_history=history,
        )
        self._session = session
        if self._quality is not None:
            session.fixed_rung = self._quality  # clamped to the ladder once it is known
        self._task = self._loop.create_task(self._run(session))

    async def _run(self, session: PlaybackSession) -> None:
        try:
            await session.run()
        finally:
            if self._oca_store is not None:
                try:
                    self._oca_store.save(session.oca_stats_by_origin())
                except Exception as exc:  # statistics are a hint: never fail playback over them
                    log.warning("could not save OCA statistics: %s", exc)
            self._summary = session.stats.summary()
            self._finished.set()

    async def _stop_current(self) -> None:
        if self._session is not None and self._task is not None and not self._task.done():
            self._session.stop()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    def _from_output_thread(self, event: Any) -> None:
        session = self._session
        if session is not None:
            self._loop.call_soon_threadsafe(session.on_output_event, event)

    def add_listener(self, on_snapshot: SnapshotCallback | None = None, on_event: EventCallback | None = None) -> None:
        """More consumers of snapshots and events (telemetry, position sync, QA logs).
        Called on the engine's thread: a listener must be quick and must not block."""
        self._listeners.append((on_snapshot, on_event))

    def _snapshot(self, snap: PlaybackSnapshot) -> None:
        self._last_snapshot = snap
        self._on_snapshot(snap)
        for on_snapshot, _ in self._listeners:
            if on_snapshot is not None:
                on_snapshot(snap)

    def _event(self, event: PlayerEvent) -> None:
        self._on_event(event)
        for _, on_event in self._listeners:
            if on_event is not None:
                on_event(event)

    def pause(self) -> None:
        self._with_session(lambda s: s.pause(), "pausing")

    def resume(self) -> None:
        self._with_session(lambda s: s.resume(), "resuming")

    def toggle_pause(self) -> None:
        self._with_session(lambda s: s.resume() if s.snap.paused else s.pause(), "pausing")

    def seek(self, position_s: float) -> None:
        self._with_session(lambda s: s.seek(position_s), "seeking")

    def stop(self) -> None:
        self._with_session(lambda s: s.stop(), "stopping")

    def set_volume(self, volume: int) -> None:
        self._call(lambda: self._output.set_volume(volume) if self._output else None,
                   "setting the volume")

    def set_muted(self, muted: bool) -> None:
        self._call(lambda: self._output.set_muted(muted) if self._output else None,
                   "muting")

    def set_audio_language(self, language: str) -> None:
        self._with_session(lambda s: s.set_audio_language(language), "changing the audio language")

    def set_subtitle_language(self, language: str | None) -> None:
        self._with_session(lambda s: s.set_subtitle_language(language), "changing the subtitles")

    def set_quality_cap(self, rung: int | None) -> None:
        """A fixed rung (None: Auto); it also applies to the next playbacks, as a player's
        quality menu does."""

        def apply() -> None:
            self._quality = rung
            if self._session is not None:
                self._session.set_quality(rung)

        self._call(apply, "setting the quality")

    def tracks(self) -> list[TrackInfo]:
        future = self._call(lambda: self._session.tracks() if self._session else [])
        return list(future.result(timeout=5))

    def snapshot(self) -> PlaybackSnapshot:
        return self._last_snapshot

    # ------------------------------------------------------------------- extra
    def wait(self, timeout: float | None = None) -> PlaybackSummary | None:
        """Block until the current session ends (or ``timeout``); its summary."""
        self._finished.wait(timeout)
        return self._summary

    def summary(self) -> PlaybackSummary | None:
        future = self._call(lambda: self._session.stats.summary() if self._session else None)
        return future.result(timeout=5)

    def close(self) -> None:
        async def shutdown() -> None:
            await self._stop_current()
            if self._client is not None:
                await self._client.aclose()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        except Exception as exc:
            log.warning("engine shutdown: %s", exc)
        output = self._output
        if output is not None and hasattr(output, "close"):
            output.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
