"""One playback, from "play" to "ended": the shell around the pure playback model.

    startup (player.startup) -> tracks (player.tracks) -> segment pipeline
    (player.pipeline) -> feed -> mpv; mpv's events -> model -> snapshots and events

The decisions are the model's (``player.model``); this module does the I/O they ask
for. It runs as coroutines on the engine's asyncio loop (see ``player.engine``); mpv's
events arrive on its own thread and are re-posted onto this loop at once, so all
session state is touched by one thread only.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Protocol

import httpx

from abr import make_controller
from abr.api import Controller
from marquee.clock import Clock
from marquee.errors import MarqueeError
from player import net, startup
from player.control import PlayRequest
from player.events import PlaybackSnapshot, PlayerEvent, TrackInfo, TracksKnown
from player.feed import ByteFeed
from player.fetch import Fetcher
from player.model import Command, Emit, Finish, PlaybackModel, Publish, RestartFeed
from player.oca.ranking import OcaStats
from player.oca.store import origin_of
from player.pipeline import PipelineSettings, SegmentPipeline
from player.remux import TS_OFFSET_S, StreamRemuxer
from player.state import SessionStats
from player.subtitles import Subtitles
from player.tracks import Tracks, select_tracks

log = logging.getLogger("marquee.session")


class MediaOutput(Protocol):
    """What the session needs from mpv (``player.mpv_adapter.MpvPlayer`` or the fake)."""

    def play_feed(self, feed: ByteFeed, *, start_s: float | None = None) -> str: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def seek(self, position_s: float) -> bool: ...
    def stop(self) -> None: ...
    def set_volume(self, volume: float) -> None: ...
    def set_muted(self, muted: bool) -> None: ...
    def add_subtitle(self, path_or_url: str, *, language: str = "", title: str = "", select: bool = True) -> None: ...
    def set_subtitle_track(self, track_id: int | None) -> None: ...


@dataclass(frozen=True)
class SessionSettings:
    max_buffer_s: float = 30.0  # stop fetching ahead beyond this much media
    feed_capacity_bytes: int = 4 << 20
    probe_budget_s: float = 0.3  # parallel OCA probe at startup
    hedge_after_s: float = 0.1  # ask the next OCA for the manifest when the first is this slow
    abandon_check_s: float = 0.2  # how often the ABR may abandon a download in flight
    max_segment_attempts: int = 4  # corrupt copies tolerated before giving up on a segment
    snapshot_interval_s: float = 0.25
    remux_in_worker: bool = True  # remux off the event loop (False: deterministic tests)

    def pipeline(self) -> PipelineSettings:
        return PipelineSettings(self.max_buffer_s, self.abandon_check_s, self.max_segment_attempts,
                                self.remux_in_worker)


def feed_capacity(settings: SessionSettings, top_bandwidth_bps: float) -> int:
    """Bytes the feed to mpv may hold: ``max_buffer_s`` of the top rung (+25 % for audio and
    TS packetisation), at least ``feed_capacity_bytes``. A smaller feed, not ``max_buffer_s``,
    would cap the buffer (4 MiB is ~6 s of 5 Mbit/s): the ABR would never see its upper
    reservoir and would step down from the top rung on a fast link."""
    return max(settings.feed_capacity_bytes, int(settings.max_buffer_s * top_bandwidth_bps / 8 * 1.25))


class PlaybackSession:
    def __init__(
        self,
        request: PlayRequest,
        *,
        client: httpx.AsyncClient,
        output: MediaOutput,
        clock: Clock,
        on_event: Callable[[PlayerEvent], None],
        on_snapshot: Callable[[PlaybackSnapshot], None],
        settings: SessionSettings = SessionSettings(),
        oca_history: dict[str, OcaStats] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.request = request
        self.client = client
        self.output = output
        self.clock = clock
        self.settings = settings
        self._on_event = on_event
        self._on_snapshot = on_snapshot
        self._oca_history = oca_history or {}
        self._rng = rng or random.Random()
        self.t0 = clock.monotonic()
        self.model = PlaybackModel(request.title, request.start_s, max_bitrate_kbps=request.max_bitrate_kbps)
        self.controller: Controller = make_controller(request.abr_algorithm, request.abr_params)
        self.done = asyncio.Event()
        self.tracks_chosen: Tracks | None = None
        self.fetcher: Fetcher | None = None
        self.pipeline: SegmentPipeline | None = None
        self.subtitles = Subtitles(output, self._report)
        self._winner: tuple[str, float] | None = None
        self._feed: ByteFeed | None = None
        self._producer: asyncio.Task[None] | None = None
        self._preopened: tuple[ByteFeed, float] | None = None
        self._mpv_queue: asyncio.Queue[Any] = asyncio.Queue()

    # ---------------------------------------------------------------- views
    @property
    def stats(self) -> SessionStats:
        return self.model.stats

    @property
    def snap(self) -> PlaybackSnapshot:
        return self.model.snap

    @property
    def fixed_rung(self) -> int | None:
        return self.model.fixed_rung

    @fixed_rung.setter
    def fixed_rung(self, rung: int | None) -> None:
        self.model.fixed_rung = rung

    def now(self) -> float:
        return self.clock.monotonic() - self.t0

    # ------------------------------------------------------------------ run
    async def run(self) -> None:
        net.start_playback_scope()  # the origins this playback's redirects may reach
        self.apply(self.model.loading(self.now()))
        tasks: list[asyncio.Task[Any]] = []
        try:
            # mpv opens the stream while we fetch the manifest: its start-up overlaps ours.
            self._preopened = self._open_feed(self.request.start_s, self.settings.feed_capacity_bytes)
            presentation, origins = await startup.load(self.client, self.request, self.clock,
                                                       self.settings.hedge_after_s)
            self._winner = origins.winner
            self.fetcher = startup.make_fetcher(self.client, self.request, origins, self.clock, self._observe,
                                                self._oca_history, self._rng, self.t0)
            tracks = self.tracks_chosen = select_tracks(presentation, self.request.audio_language)
            self.pipeline = SegmentPipeline(self.fetcher, tracks, self.controller, self.model, self.clock, self.now,
                                            self.apply, self.settings.pipeline())
            start, commands = self.model.presentation_ready(tracks.rungs, tracks.duration_s, tracks.audio_language,
                                                            tracks.ladder.segment_seconds, self.now())
            self.apply(commands)
            self.apply([Emit(TracksKnown(self.now(), tracks=tuple(tracks.infos())))])
            if self.request.subtitle_language:
                tasks.append(self._spawn(self._load_subtitles(self.request.subtitle_language), "loading subtitles"))
            tasks += [
                self._spawn(self._consume_output_events(), "reading mpv's events", fatal=True),
                self._spawn(self._publish_snapshots(), "publishing snapshots", fatal=True),
                self._spawn(self._probe_after_startup(), "probing the OCAs"),
            ]
            if start != self.request.start_s:
                log.info("start %.1f s is at or past the end (%.1f s): starting from the beginning",
                         self.request.start_s, tracks.duration_s)
            self._restart_pipeline(start)
            await self.done.wait()
        except MarqueeError as exc:
            self.apply(self.model.fail(exc, self.now()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: still end the session with a clear message
            log.exception("playback failed")
            self.apply(self.model.fail(MarqueeError(f"internal error: {exc}",
                                                    user_message="Playback failed unexpectedly."), self.now()))
        finally:
            for task in tasks:
                task.cancel()
            if self._producer is not None:
                self._producer.cancel()
            if self._feed is not None:
                self._feed.abort()
            self.apply(self.model.final_snapshot())

    def apply(self, commands: list[Command]) -> None:
        """Carry out what the model decided."""
        for command in commands:
            if isinstance(command, Publish):
                self._on_snapshot(command.snapshot)
            elif isinstance(command, Emit):
                self._on_event(command.event)
            elif isinstance(command, RestartFeed):
                self._restart_pipeline(command.position_s)
            elif isinstance(command, Finish):
                if command.state.value == "error":
                    log.error("playback failed: %s", self.model.snap.message)
                self.done.set()

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str, *, fatal: bool = False) -> asyncio.Task[None]:
        """A task of this playback, watched: if it dies of an exception (a bug), that is said
        (and, when ``fatal``, ends the playback) rather than lost."""
        task = asyncio.get_running_loop().create_task(coro)

        def done(t: asyncio.Task[None]) -> None:
            if t.cancelled() or t.exception() is None:
                return
            exc = t.exception()
            log.error("%s failed: %s", what, exc, exc_info=exc)
            if fatal:
                self.apply(self.model.fail(MarqueeError(f"internal error in {what}: {exc}",
                                                        user_message="Playback failed unexpectedly."), self.now()))
            else:
                self._report("internal", "engine", f"{what} failed: {exc}")

        task.add_done_callback(done)
        return task

    def _observe(self, event: PlayerEvent) -> None:
        self.apply(self.model.observe(event))

    def _report(self, category: str, code: str, message: str) -> None:
        self.apply(self.model.report(self.now(), category=category, code=code, message=message))

    # ------------------------------------------------------------- intents
    def pause(self) -> None:
        self.model.pause()
        self.output.pause()

    def resume(self) -> None:
        self.model.resume()
        self.output.resume()

    def seek(self, position_s: float) -> None:
        target, commands = self.model.seek(position_s, self.now())
        self.apply(commands)
        if target is None or self.output.seek(target):  # inside mpv's cache: nothing to refetch
            return
        self.apply(self.model.seek_outside_cache(target))

    def stop(self) -> None:
        self.output.stop()
        self.apply(self.model.stop(self.now()))

    def set_quality(self, rung: int | None) -> None:
        """A fixed rung chosen by the user, or None for Auto (takes effect from the next segment)."""
        self.apply(self.model.set_quality(rung, self.now()))

    def set_audio_language(self, language: str) -> None:
        tracks = self.tracks_chosen
        if tracks is None or not tracks.choose_audio(language):
            return
        self.apply(self.model.set_language(self.now(), audio_language=language))
        self._restart_pipeline(self.model.snap.position_s)  # audio is muxed into our stream

    def set_subtitle_language(self, language: str | None) -> None:
        if not language:
            self.subtitles.off()
            self.apply(self.model.set_language(self.now(), subtitle_language=""))
            return
        self._spawn(self._load_subtitles(language), "loading subtitles")

    def oca_stats_by_origin(self) -> dict[str, OcaStats]:
        """What this session learned of each OCA, keyed by origin (to persist)."""
        if self.fetcher is None:
            return {}
        bases = self.fetcher.pool.bases
        return {origin_of(bases[k]): s for k, s in self.fetcher.ranker.snapshot().items()}

    def tracks(self) -> list[TrackInfo]:
        return self.tracks_chosen.infos() if self.tracks_chosen is not None else []

    # ------------------------------------------------------------ internals
    async def _load_subtitles(self, language: str) -> None:
        if self.fetcher is None or self.tracks_chosen is None:
            return
        if await self.subtitles.load(self.fetcher, self.tracks_chosen.text, language):
            self.apply(self.model.set_language(self.now(), subtitle_language=language))

    async def _probe_after_startup(self) -> None:
        """Measure the other OCAs once playback runs: before that, the first segment needs the CPU."""
        while not self.model.started:
            await self.clock.sleep(0.05)
        assert self.fetcher is not None and self.tracks_chosen is not None
        await startup.probe_ocas(self.client, self.fetcher, self.tracks_chosen.video[0], self._winner, self.clock,
                                 self.settings.probe_budget_s)

    def _open_feed(self, position_s: float, capacity: int) -> tuple[ByteFeed, float]:
        """A fresh TS stream for mpv, starting at content time ``position_s``."""
        if self._feed is not None:
            self._feed.abort()
        self._feed = ByteFeed(capacity)
        self.subtitles.stream_opened(TS_OFFSET_S)  # the StreamRemuxer below keeps this offset
        self.output.play_feed(self._feed, start_s=position_s if position_s > 0 else None)
        return self._feed, position_s

    def _restart_pipeline(self, position_s: float) -> None:
        """(Re)start fetching at the segment that holds ``position_s``, into a fresh TS stream."""
        assert self.tracks_chosen is not None and self.pipeline is not None
        if self._producer is not None:
            self._producer.cancel()
        ref = self.tracks_chosen.video[0]
        index = ref.segment_index_at(position_s)
        index = len(ref.segments) - 1 if index is None else index
        capacity = feed_capacity(self.settings, self.tracks_chosen.video[-1].bandwidth)
        preopened, self._preopened = self._preopened, None
        if preopened is not None and preopened[1] == position_s and preopened[0] is self._feed:
            self._feed.capacity = capacity  # opened before the ladder was known
        else:
            self._open_feed(position_s, capacity)
        assert self._feed is not None
        self.apply(self.model.feed_restarted(position_s, ref.segments[index].start_s if ref.segments else position_s))
        self._producer = self._spawn(self.pipeline.run(self._feed, StreamRemuxer(), index), "the segment pipeline",
                                     fatal=True)

    # --------------------------------------------------------- mpv events
    def on_output_event(self, event: Any) -> None:
        """Called on the loop thread (the engine re-posts mpv's thread events here)."""
        self._mpv_queue.put_nowait(event)

    async def _consume_output_events(self) -> None:
        while True:
            event = await self._mpv_queue.get()
            if event.kind == "loaded":
                self.subtitles.stream_loaded()
            self.apply(self.model.output(event.kind, event.value, self.now(), self._throughput_kbps()))

    async def _publish_snapshots(self) -> None:
        while True:
            await self.clock.sleep(self.settings.snapshot_interval_s)
            self.apply(self.model.tick(self._throughput_kbps(), self.now()))

    def _throughput_kbps(self) -> float:
        return self.fetcher.throughput_hint_bps / 1000 if self.fetcher is not None else 0.0
