"""One playback, from "play" to "ended": the segment pipeline.

    manifest -> tracks -> (ABR decision -> fetch from ranked OCAs -> remux to TS
    -> feed) per segment -> mpv decodes what the feed holds

Runs as coroutines on the engine's asyncio loop (see ``player.engine``). mpv's
events arrive on its own thread and are re-posted onto this loop at once, so all
session state is touched by one thread only. Everything the session decides or
observes is published as a ``PlayerEvent``; a ``PlaybackSnapshot`` is published a
few times a second and on every state change.
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
from dataclasses import dataclass, replace
from typing import Any, Callable, Protocol

import httpx

from abr import make_controller
from abr.api import Controller, Decision, DecisionContext, DownloadSample, Ladder
from marquee.clock import Clock
from marquee.errors import ManifestError, MarqueeError, MediaError, NetworkError
from player.control import PlayRequest
from player.events import (
    Abandon,
    AbrDecision,
    Ended,
    Failover,
    MpvLog,
    PlaybackError,
    PlaybackSnapshot,
    PlaybackState,
    PlayerEvent,
    Seek,
    SeekDone,
    SegmentFetched,
    StallEnd,
    StallStart,
    StateChanged,
    Startup,
    Switch,
    TrackInfo,
    TracksKnown,
)
from player.feed import ByteFeed
from player.fetch import FetchAbandoned, Fetcher, FetchProgress, FetchResult, FetchTarget, OcaPool
from player.manifest.loader import load_manifest
from player.manifest.model import Presentation, Representation, SegmentRef, Track
from player.manifest.sidx import with_sidx_segments
from player.oca.ranking import OcaRanker, OcaStats
from player.oca.store import origin_of
from player.remux import SegmentData, SegmentError, TsRemuxer
from player.shaping import LinkSchedule, TraceShaper, resolve_throttle
from player.state import PlaybackStateMachine, SessionStats

log = logging.getLogger("marquee.session")

S = PlaybackState


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


def feed_capacity(settings: SessionSettings, top_bandwidth_bps: float) -> int:
    """Bytes the feed to mpv may hold: ``max_buffer_s`` of the top rung (+25 % for audio and
    TS packetisation), at least ``feed_capacity_bytes``. A smaller feed, not ``max_buffer_s``,
    would cap the buffer (4 MiB is ~6 s of 5 Mbit/s): the ABR would never see its upper
    reservoir and would step down from the top rung on a fast link."""
    return max(settings.feed_capacity_bytes, int(settings.max_buffer_s * top_bandwidth_bps / 8 * 1.25))


_CONTINUOUS = frozenset({"position_s", "buffer_s", "throughput_kbps", "dropped_frames"})


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
        self.machine = PlaybackStateMachine()
        self.stats = SessionStats(start_s=request.start_s, last_position_s=request.start_s)
        self.snap = PlaybackSnapshot(title=request.title, position_s=request.start_s)
        self.controller: Controller = make_controller(request.abr_algorithm, request.abr_params)
        self.fixed_rung: int | None = None
        self.done = asyncio.Event()
        # set up by _load/_select_tracks
        self.presentation: Presentation | None = None
        self.video_reps: tuple[Representation, ...] = ()
        self.audio_tracks: dict[str, Track] = {}
        self.audio_rep: Representation | None = None
        self.text_tracks: tuple[Track, ...] = ()
        self.ladder: Ladder | None = None
        self.fetcher: Fetcher | None = None
        self.ranker: OcaRanker | None = None
        # pipeline state
        self._init_cache: dict[str, bytes] = {}
        self._feed: ByteFeed | None = None
        self._remuxer: TsRemuxer | None = None
        self._producer: asyncio.Task[None] | None = None
        self._current_rung: int | None = None
        self._buffered_until = request.start_s
        self._play_pressed_at = clock.monotonic()
        self._started = False
        self._seeking_since: float | None = None
        self._stall_since: float | None = None
        self._user_paused = False
        self._mpv_queue: asyncio.Queue[Any] = asyncio.Queue()
        self._subtitles: tuple[str, str, str] | None = None  # (language, title, WebVTT text)
        self._file_loaded = False
        self._preopened: tuple[ByteFeed, float] | None = None
        self._published_at = float("-inf")
        self._manifest_winner: tuple[str, float] | None = None  # (OCA, seconds) of the first answer

    # ------------------------------------------------------------------ run
    async def run(self) -> None:
        self._go(S.LOADING)
        tasks: list[asyncio.Task[Any]] = []
        try:
            # mpv opens the stream while we fetch the manifest: its start-up overlaps ours.
            self._preopened = self._open_feed(self.request.start_s, self.settings.feed_capacity_bytes)
            await self._load()
            self._select_tracks()
            tasks = [
                asyncio.create_task(self._consume_output_events()),
                asyncio.create_task(self._publish_snapshots()),
                asyncio.create_task(self._probe_after_startup()),
            ]
            self._go(S.BUFFERING)
            self._restart_pipeline(self._start_position())
            await self.done.wait()
        except MarqueeError as exc:
            self._fail(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: still end the session with a clear message
            log.exception("playback failed")
            self._fail(MarqueeError(f"internal error: {exc}", user_message="Playback failed unexpectedly."))
        finally:
            for task in tasks:
                task.cancel()
            if self._producer is not None:
                self._producer.cancel()
            if self._feed is not None:
                self._feed.abort()
            self._publish()

    # ------------------------------------------------------------- intents
    def pause(self) -> None:
        self._user_paused = True
        self.output.pause()

    def resume(self) -> None:
        self._user_paused = False
        self.output.resume()

    def seek(self, position_s: float) -> None:
        if self.presentation is None or self.machine.state in (S.LOADING, S.ERROR, S.IDLE):
            return
        duration = self.snap.duration_s or position_s
        target = max(0.0, min(position_s, max(0.0, duration - 0.5)))
        self._emit(Seek(self._t(), from_s=round(self.snap.position_s, 3), to_s=round(target, 3)))
        self._seeking_since = self.clock.monotonic()
        self._go(S.SEEKING)
        self.stats.last_position_s = target
        self._update(position_s=target)  # the buffer is measured from here on
        if self.output.seek(target):  # inside mpv's cache: nothing to refetch
            return
        self._restart_pipeline(target)

    def stop(self) -> None:
        self.output.stop()
        self._go(S.IDLE)
        self.done.set()

    def set_quality(self, rung: int | None) -> None:
        """A fixed rung chosen by the user, or None for Auto (takes effect from the next segment)."""
        if rung is not None and self.video_reps:  # before the manifest is read: clamped then
            rung = max(0, min(rung, len(self.video_reps) - 1))
        self.fixed_rung = rung
        self._update(quality_cap=self.fixed_rung)

    def set_audio_language(self, language: str) -> None:
        track = self.audio_tracks.get(language)
        if track is None or track.representations[0] is self.audio_rep:
            return
        self.audio_rep = track.ladder()[-1]
        self._update(audio_language=language)
        self._restart_pipeline(self.snap.position_s)  # audio is muxed into our stream

    def set_subtitle_language(self, language: str | None) -> None:
        if not language:
            self._subtitles = None
            self.output.set_subtitle_track(None)
            self._update(subtitle_language="")
            return
        asyncio.get_running_loop().create_task(self._load_subtitles(language))

    def oca_stats_by_origin(self) -> dict[str, OcaStats]:
        """What this session learned of each OCA, keyed by origin (to persist)."""
        if self.ranker is None or self.fetcher is None:
            return {}
        return {origin_of(self.fetcher.pool.bases[k]): s for k, s in self.ranker.snapshot().items()}

    def tracks(self) -> list[TrackInfo]:
        out = [
            TrackInfo("video", r.id, "", f"{r.height or '?'}p", r.bandwidth / 1000, r.height or 0)
            for r in self.video_reps
        ]
        out += [TrackInfo("audio", t.id, lang, t.label or lang) for lang, t in self.audio_tracks.items()]
        out += [TrackInfo("text", t.id, t.language or "und", t.label or t.language or "") for t in self.text_tracks]
        return out

    # ------------------------------------------------------------- loading
    async def _load(self) -> None:
        req = self.request
        if req.ocas:
            bases = {o.id: o.base_url for o in req.ocas}
            names = {o.id: o.name or o.id for o in req.ocas}
            order = [o.id for o in sorted(req.ocas, key=lambda o: o.rank)]
            presentation = await self._load_from_ocas(order, bases, req.manifest_path or "manifest.mpd")
        else:
            try:
                presentation = await load_manifest(self.client, req.manifest_url)
            except NetworkError as exc:
                raise NetworkError(exc.message, user_message="The stream could not be reached.") from exc
            roots = presentation.base_urls or ()
            ordered = sorted(roots, key=lambda b: (b.priority, -b.weight))
            label = req.source_name or "origin"
            bases = {(b.service_location or (label if len(ordered) == 1 else f"{label}-{i + 1}")): b.url
                     for i, b in enumerate(ordered)}
            if not bases:
                bases = {label: req.manifest_url.rsplit("/", 1)[0] + "/"}
            names = {k: k for k in bases}
            order = list(bases)
        if presentation.is_live:
            raise ManifestError(
                "live streams are not supported yet",
                user_message="This is a live stream; Marquee plays on-demand titles only for now.",
            )
        self.presentation = presentation
        winner = self._manifest_winner
        history = {k: self._oca_history[origin_of(b)] for k, b in bases.items() if origin_of(b) in self._oca_history}
        self.ranker = OcaRanker(order, history=history)
        if winner is not None:
            self.ranker.record_success(winner[0], 0, winner[1], winner[1], self.clock.monotonic())
        shaper = None
        if req.throttle:
            shaper = TraceShaper(LinkSchedule(resolve_throttle(req.throttle)), self.clock)
        self.fetcher = Fetcher(
            self.client,
            OcaPool(bases, names),
            self.ranker,
            self.clock,
            self._on_event_raw,
            rng=self._rng,
            shaper=shaper,
            refresh=self._refresh_tokens if req.refresh else None,
            session_t0=self.t0,
            extra_headers=req.extra_headers,
            extra_query=req.extra_query,
        )

    async def _load_from_ocas(self, order: list[str], bases: dict[str, str], path: str) -> Presentation:
        """Hedged requests: ask the first OCA for the manifest; if it has not answered within
        ``hedge_after_s`` (or failed), ask the next one too, and so on; the first good answer
        wins. A dead or slow OCA costs at most the hedge delay, and a healthy start costs one
        request, not one per OCA (CPU the first segment needs on a busy machine)."""
        started = self.clock.monotonic()
        errors: list[str] = []

        async def one(oca: str) -> tuple[str, Presentation]:
            return oca, await load_manifest(self.client, bases[oca] + path)

        waiting = list(order)
        pending: dict[asyncio.Task[tuple[str, Presentation]], str] = {}
        try:
            while waiting or pending:
                if waiting:
                    oca = waiting.pop(0)
                    pending[asyncio.create_task(one(oca))] = oca
                timeout = self.settings.hedge_after_s if waiting else None
                done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    oca = pending.pop(task)
                    try:
                        winner, presentation = task.result()
                    except ManifestError:
                        raise  # the same bytes on every OCA: a broken manifest is not a network fault
                    except NetworkError as exc:
                        log.warning("manifest from %s failed: %s", oca, exc.message)
                        errors.append(f"{oca}: {exc.message}")
                        continue
                    self._manifest_winner = (winner, self.clock.monotonic() - started)
                    return presentation
        finally:
            for task in pending:
                task.cancel()
        raise NetworkError(
            "no OCA served the manifest: " + "; ".join(errors),
            user_message="None of the servers could deliver this title. Check your connection and retry.",
        )

    async def _refresh_tokens(self) -> dict[str, str]:
        assert self.request.refresh is not None
        fresh = await asyncio.get_running_loop().run_in_executor(None, self.request.refresh)
        return {o.id: o.base_url for o in fresh.ocas}

    def _select_tracks(self) -> None:
        assert self.presentation is not None
        if len(self.presentation.periods) > 1:
            log.warning("multi-period manifest: playing the first period only")
        period = self.presentation.periods[0]
        reps = period.video_ladder()
        if not reps:
            raise ManifestError("the manifest has no video", user_message="This title has no video to play.")
        # One representation per bitrate (the ABR ladder must be strictly ascending).
        unique: dict[int, Representation] = {}
        for rep in reps:
            unique.setdefault(rep.bandwidth, rep)
        self.video_reps = tuple(unique.values())
        self.audio_tracks = {language: tracks[0] for language, tracks in period.audio_by_language().items()}
        wanted = self.request.audio_language
        lang: str | None = wanted if wanted in self.audio_tracks else next(iter(self.audio_tracks), None)
        self.audio_rep = self.audio_tracks[lang].ladder()[-1] if lang else None
        self.text_tracks = period.text_tracks()
        durations = [s.duration_s for s in self.video_reps[0].segments] or [2.0]
        count = len(self.video_reps[0].segments) or None
        self.ladder = Ladder(
            bitrates_bps=tuple(float(r.bandwidth) for r in self.video_reps),
            segment_seconds=statistics.median(durations),
            segment_sizes=self._segment_sizes(),
            segment_count=count,
        )
        duration = self.presentation.duration_s or sum(durations)
        if self.fixed_rung is not None:
            self.fixed_rung = min(self.fixed_rung, len(self.video_reps) - 1)
        self._update(duration_s=duration, rung_count=len(self.video_reps), audio_language=lang or "",
                     quality_cap=self.fixed_rung)
        self._emit(TracksKnown(self._t(), tracks=tuple(self.tracks())))
        if self.request.subtitle_language:
            asyncio.get_running_loop().create_task(self._load_subtitles(self.request.subtitle_language))

    def _segment_sizes(self) -> tuple[tuple[int, ...], ...] | None:
        rows = []
        for rep in self.video_reps:
            sizes = [s.size_bytes for s in rep.segments]
            if not sizes or any(s is None for s in sizes):
                return None
            rows.append(tuple(int(s) for s in sizes if s is not None))
        return tuple(rows)

    async def _probe_after_startup(self) -> None:
        """Measure the other OCAs once playback runs: before that, the first segment needs the CPU."""
        while not self._started:
            await self.clock.sleep(0.05)
        await self._probe_ocas()

    async def _probe_ocas(self) -> None:
        """Measure the other top candidates in parallel within a small budget, so a failover
        later goes to an OCA known to answer rather than just the next one listed."""
        assert self.ranker is not None and self.fetcher is not None
        winner = self._manifest_winner
        candidates = [c for c in list(self.ranker.candidates)[:4] if not winner or c != winner[0]]
        if len(candidates) < 1 or len(self.ranker.candidates) < 2:
            return
        rep = self.video_reps[0]
        target = rep.init or (rep.segments[0] if rep.segments else None)
        if target is None:
            return

        async def probe(oca: str) -> None:
            assert self.fetcher is not None and self.ranker is not None
            start = self.clock.monotonic()
            try:
                url = self.fetcher.pool.url(oca, target.url)
                headers = {"Range": "bytes=0-16383"}
                response = await self.client.get(url, headers=headers, timeout=self.settings.probe_budget_s)
                if response.status_code >= 500 or response.status_code in (404, 410):
                    raise httpx.HTTPStatusError("probe", request=response.request, response=response)
                elapsed = self.clock.monotonic() - start
                self.ranker.record_success(oca, len(response.content), elapsed, elapsed, self.clock.monotonic())
            except httpx.HTTPError as exc:
                self.ranker.record_failure(oca, f"probe failed: {type(exc).__name__}", self.clock.monotonic())

        await asyncio.gather(*(probe(o) for o in candidates))

    def _start_position(self) -> float:
        """The requested start, unless it lies in the last segment or beyond the end (a
        resume point from another copy of the title, or a finished one): then from the top."""
        start = max(0.0, self.request.start_s)
        duration = self.snap.duration_s
        if duration and self.ladder is not None and start >= duration - self.ladder.segment_seconds:
            log.info("start %.1f s is at or past the end (%.1f s): starting from the beginning", start, duration)
            start = 0.0
        self.stats.start_s = self.stats.last_position_s = start
        self._update(position_s=start)
        return start

    # ------------------------------------------------------------ pipeline
    def _open_feed(self, position_s: float, capacity: int) -> tuple[ByteFeed, float]:
        """A fresh TS stream for mpv, starting at content time ``position_s``."""
        if self._feed is not None:
            self._feed.abort()
        self._feed = ByteFeed(capacity)
        self._file_loaded = False
        self.output.play_feed(self._feed, start_s=position_s if position_s > 0 else None)
        return self._feed, position_s

    def _restart_pipeline(self, position_s: float) -> None:
        """(Re)start fetching at the segment that holds ``position_s``, into a fresh TS stream."""
        if self._producer is not None:
            self._producer.cancel()
        ref = self.video_reps[0]
        index = ref.segment_index_at(position_s)
        index = len(ref.segments) - 1 if index is None else index
        capacity = feed_capacity(self.settings, self.video_reps[-1].bandwidth)
        preopened, self._preopened = self._preopened, None
        if preopened is not None and preopened[1] == position_s and preopened[0] is self._feed:
            self._feed.capacity = capacity  # opened before the ladder was known
        else:
            self._open_feed(position_s, capacity)
        assert self._feed is not None
        self._remuxer = TsRemuxer()
        self._buffered_until = ref.segments[index].start_s if ref.segments else position_s
        self._producer = asyncio.get_running_loop().create_task(self._produce(self._feed, self._remuxer, index))

    def buffer_s(self) -> float:
        return max(0.0, self._buffered_until - self.snap.position_s)

    async def _produce(self, feed: ByteFeed, remuxer: TsRemuxer, index: int) -> None:
        segments = self.video_reps[0].segments
        try:
            while index < len(segments):
                # Never hold data back from an empty feed: mpv would starve while our buffer
                # figure still counts media it no longer has (e.g. just after a restart).
                while self.buffer_s() > self.settings.max_buffer_s and feed.buffered_bytes and not feed.aborted:
                    await self.clock.sleep(0.1)
                if feed.aborted:
                    return
                await self._produce_segment(feed, remuxer, index)
                index += 1
            tail = remuxer.finish()
            if tail:
                await feed.write(tail)
            feed.close()
        except asyncio.CancelledError:
            raise
        except MarqueeError as exc:
            self._fail(exc)
        except Exception as exc:
            log.exception("segment pipeline failed")
            self._fail(MediaError(f"internal error in the segment pipeline: {exc}", user_message="Playback failed."))

    def _decide(self, index: int) -> Decision:
        assert self.ladder is not None
        if self.fixed_rung is not None:
            return Decision(self.fixed_rung, "fixed by the user")
        ctx = DecisionContext(
            ladder=self.ladder,
            buffer_s=self.buffer_s(),
            segment_index=index,
            current_rung=self._current_rung,
            now_s=self.clock.monotonic() - self.t0,
            startup=not self._started,
        )
        decision = self.controller.choose(ctx)
        cap = self._max_rung()
        if decision.rung > cap:
            decision = Decision(cap, f"{decision.reason}; capped at rung {cap} by settings")
        return decision

    def _max_rung(self) -> int:
        cap_kbps = self.request.max_bitrate_kbps
        if not cap_kbps:
            return len(self.video_reps) - 1
        allowed = [i for i, r in enumerate(self.video_reps) if r.bandwidth <= cap_kbps * 1000]
        return allowed[-1] if allowed else 0

    async def _produce_segment(self, feed: ByteFeed, remuxer: TsRemuxer, index: int) -> None:
        decision = self._decide(index)
        rung = decision.rung
        self._emit(AbrDecision(self._t(), index=index, rung=rung, reason=decision.reason, buffer_s=round(self.buffer_s(), 3)))
        exclude: set[str] = set()
        for attempt in range(self.settings.max_segment_attempts):
            if self.audio_rep is not None:
                (video, rung), audio = await _all(self._fetch_video(index, rung, exclude),
                                                  self._fetch_audio(index, exclude))
            else:
                video, rung = await self._fetch_video(index, rung, exclude)
                audio = None
            try:
                result = remuxer.remux(video[0], audio[0] if audio else None)
            except SegmentError as exc:
                bad = video[1].oca
                assert self.ranker is not None
                self.ranker.record_failure(bad, f"corrupt segment: {exc.message}", self.clock.monotonic())
                exclude.add(bad)
                self._emit(PlaybackError(self._t(), category="media", code="corrupt_segment", recoverable=True,
                           message=f"segment {index} from {bad} was damaged; fetching it again elsewhere"))
                continue
            break
        else:
            raise MediaError(
                f"segment {index} was damaged on every server",
                user_message="The video data is damaged on every server. Try again later.",
            )
        seg = self.video_reps[rung].segments[index]
        if self._current_rung is not None and rung != self._current_rung:
            old, new = self.video_reps[self._current_rung], self.video_reps[rung]
            self._emit(Switch(self._t(), from_rung=self._current_rung, to_rung=rung, from_kbps=old.bandwidth / 1000,
                       to_kbps=new.bandwidth / 1000, reason=decision.reason, at_s=round(seg.start_s, 3)))
            self._update(last_switch_reason=decision.reason)
        self._current_rung = rung
        if not await feed.write(result.data, media_s=seg.duration_s):
            return  # aborted by a seek or stop
        self._buffered_until = seg.end_s
        fetched = video[1]
        self._emit(SegmentFetched(self._t(), media="video", index=index, rung=rung, bytes=len(video[0].media),
                   seconds=round(fetched.seconds, 4), ttfb_s=round(fetched.ttfb_s, 4), oca=fetched.oca,
                   start_s=round(seg.start_s, 3), duration_s=round(seg.duration_s, 3),
                   bitrate_kbps=self.video_reps[rung].bandwidth / 1000,
                   throughput_kbps=round(len(video[0].media) * 8 / max(fetched.seconds, 1e-6) / 1000, 1)))
        rep = self.video_reps[rung]
        self._update(rung=rung, bitrate_kbps=rep.bandwidth / 1000, oca=fetched.oca,
                     resolution=(rep.width or 0, rep.height or 0), buffered_until_s=self._buffered_until)

    async def _fetch_video(
        self, index: int, rung: int, exclude: set[str]
    ) -> tuple[tuple[SegmentData, FetchResult], int]:
        """Fetch segment ``index`` at ``rung``; if the ABR abandons it, refetch lower."""
        assert self.fetcher is not None and self.ladder is not None
        while True:
            rep = await self._ensure_index(self.video_reps[rung])
            seg = rep.segments[index]
            last_check = [0.0]

            def on_progress(p: FetchProgress, rung: int = rung) -> bool:
                if rung == 0 or p.elapsed_s - last_check[0] < self.settings.abandon_check_s:
                    return False
                last_check[0] = p.elapsed_s
                verdict = self._check_abandon(p, index, rung)
                if verdict is not None:
                    pending[0] = verdict
                    return True
                return False

            pending: list[Decision | None] = [None]
            try:
                init, result = await _all(
                    self._init_bytes(rep, exclude),
                    self.fetcher.fetch(self._target(seg, f"video {index} @ {rung}"),
                                       on_progress=on_progress, exclude=exclude),
                )
            except FetchAbandoned:
                verdict = pending[0]
                assert verdict is not None
                self._emit(Abandon(self._t(), index=index, from_rung=rung, to_rung=verdict.rung, reason=verdict.reason))
                rung = verdict.rung
                continue
            self.controller.on_sample(
                DownloadSample(len(result.data), result.ttfb_s + result.transfer_s, result.ttfb_s, rung,
                               True, index)
            )
            self.fetcher.throughput_hint_bps = len(result.data) * 8 / max(result.transfer_s + result.ttfb_s, 1e-3)
            return (SegmentData(media=result.data, init=init), result), rung

    def _check_abandon(self, p: FetchProgress, index: int, rung: int) -> Decision | None:
        assert self.ladder is not None
        sample = DownloadSample(p.nbytes, p.elapsed_s, p.ttfb_s or p.elapsed_s, rung, False, index)
        ctx = DecisionContext(self.ladder, self.buffer_s(), index, self._current_rung,
                              self.clock.monotonic() - self.t0, startup=not self._started)
        verdict = self.controller.check_abandon(sample, ctx)
        if verdict is not None and verdict.abandon and verdict.rung < rung:
            self.controller.on_sample(sample)
            return verdict
        return None

    async def _fetch_audio(self, index: int, exclude: set[str]) -> tuple[SegmentData, FetchResult] | None:
        """The audio that goes with video segment ``index``: every audio segment whose
        midpoint falls inside it (AAC frames rarely end exactly on video boundaries), and
        after the last video segment whatever audio is left."""
        assert self.fetcher is not None and self.audio_rep is not None
        rep = await self._ensure_index(self.audio_rep)
        video = self.video_reps[0].segments
        seg = video[index]
        last = index == len(video) - 1
        parts = [
            s for s in rep.segments
            if seg.start_s <= s.start_s + s.duration_s / 2 < seg.end_s or (last and s.start_s + s.duration_s / 2 >= seg.end_s)
        ]
        if index == 0:
            parts = [s for s in rep.segments if s.start_s + s.duration_s / 2 < seg.start_s] + parts
        if not parts:
            return None  # this stretch of audio travels with the neighbouring video segment
        init, *results = await _all(
            self._init_bytes(rep, exclude),
            *(self.fetcher.fetch(self._target(s, f"audio {s.number}"), exclude=exclude) for s in parts),
        )
        return SegmentData(media=b"".join(r.data for r in results), init=init), results[0]

    async def _init_bytes(self, rep: Representation, exclude: set[str]) -> bytes:
        if rep.init is None:
            return b""
        key = rep.init.url + repr(rep.init.byte_range)
        if key not in self._init_cache:
            assert self.fetcher is not None
            result = await self.fetcher.fetch(self._target(rep.init, f"init {rep.id}"), exclude=exclude)
            self._init_cache[key] = result.data
        return self._init_cache[key]

    async def _ensure_index(self, rep: Representation) -> Representation:
        """SegmentBase representations list their segments in a sidx box: fetch it once."""
        if not rep.needs_index:
            return rep
        assert self.fetcher is not None and rep.index_range is not None and rep.media_url is not None
        result = await self.fetcher.fetch(FetchTarget(rep.media_url, byte_range=rep.index_range, label="sidx"))
        filled = with_sidx_segments(rep, result.data)
        self.video_reps = tuple(filled if r is rep else r for r in self.video_reps)
        if self.audio_rep is rep:
            self.audio_rep = filled
        return filled

    @staticmethod
    def _target(seg: SegmentRef, label: str) -> FetchTarget:
        expected = None
        if seg.byte_range is not None:
            expected = seg.byte_range[1] - seg.byte_range[0] + 1
        return FetchTarget(seg.url, byte_range=seg.byte_range, expected_bytes=expected, label=label)

    async def _load_subtitles(self, language: str) -> None:
        track = next((t for t in self.text_tracks if t.language == language), None)
        if track is None or self.fetcher is None:
            return
        rep = track.representations[0]
        refs = list(rep.segments) or ([SegmentRef(0, 0.0, 0.0, rep.media_url)] if rep.media_url else [])
        try:
            parts = [await self.fetcher.fetch(self._target(r, f"subtitles {language}")) for r in refs]
        except MarqueeError as exc:
            self._emit(PlaybackError(self._t(), category="network", code="subtitles", recoverable=True,
                       message=f"subtitles could not be loaded: {exc.message}"))
            return
        text = b"".join(p.data for p in parts).decode("utf-8", "replace")
        self._subtitles = (language, track.label or language, text)
        self._update(subtitle_language=language)
        if self._file_loaded:
            self._attach_subtitles()

    def _attach_subtitles(self) -> None:
        """Hand the fetched subtitles to mpv; again after every (re)load of the stream,
        since mpv forgets added subtitle files when a new file is loaded."""
        if self._subtitles is None:
            return
        language, title, text = self._subtitles
        try:
            # mpv reads subtitles from memory: nothing touches the disk (offline titles too).
            self.output.add_subtitle("memory://" + text, language=language, title=title)
        except MarqueeError as exc:
            self._emit(PlaybackError(self._t(), category="media", code="subtitles", recoverable=True,
                       message=f"subtitles could not be shown: {exc.message}"))

    # --------------------------------------------------------- mpv events
    def on_output_event(self, event: Any) -> None:
        """Called on the loop thread (the engine re-posts mpv's thread events here)."""
        self._mpv_queue.put_nowait(event)

    async def _consume_output_events(self) -> None:
        while True:
            event = await self._mpv_queue.get()
            self._handle_output_event(event.kind, event.value)

    def _handle_output_event(self, kind: str, value: Any) -> None:
        now = self.clock.monotonic()
        if kind == "loaded":
            self._file_loaded = True
            self._attach_subtitles()
        elif kind == "position" and value is not None and self._seeking_since is None:
            # (during a seek, positions belong to the stream being replaced)
            playing = self.machine.state == S.PLAYING
            self.stats.on_position(float(value), playing)
            self._update(position_s=float(value), buffer_s=self.buffer_s())
        elif kind == "first-frame":
            if not self._started:
                self._started = True
                startup_ms = (now - self._play_pressed_at) * 1000
                self._emit(Startup(self._t(), startup_ms=round(startup_ms, 1)))
            if self._seeking_since is not None:
                self._emit(SeekDone(self._t(), ms=round((now - self._seeking_since) * 1000, 1)))
                self._seeking_since = None
            self._go(S.PAUSED if self._user_paused else S.PLAYING)
        elif kind == "paused":
            self._update(paused=bool(value))
            if self._started and self._seeking_since is None and self.machine.state in (S.PLAYING, S.PAUSED):
                self._go(S.PAUSED if value else S.PLAYING)
        elif kind == "buffering":
            self._on_buffering(bool(value), now)
        elif kind == "video-size" and value:
            self._update(resolution=tuple(value))
        elif kind in ("frame-drops", "decoder-drops") and value is not None:
            self._update(dropped_frames=int(value))
        elif kind == "volume" and value is not None:
            self._update(volume=int(value))
        elif kind == "muted" and value is not None:
            self._update(muted=bool(value))
        elif kind == "eof" and value:
            self._finish()
        elif kind == "ended" and value in ("eof",):
            self._finish()
        elif kind == "ended" and value == "error":
            self._fail(MediaError("the decoder stopped with an error", user_message="The video could not be decoded."))
        elif kind == "log":
            level, prefix, text = value
            if level in ("error", "fatal"):
                self._emit(MpvLog(self._t(), level=level, prefix=prefix, text=str(text).strip()))

    def _on_buffering(self, buffering: bool, now: float) -> None:
        if not self._started or self._seeking_since is not None:
            return
        if buffering and self._stall_since is None:
            self._stall_since = now
            self._emit(StallStart(self._t(), buffer_s=round(self.buffer_s(), 3),
                       throughput_kbps=round((self.fetcher.throughput_hint_bps if self.fetcher else 0) / 1000, 1)))
            self._go(S.BUFFERING)
            self._update(message="Buffering…")
        elif not buffering and self._stall_since is not None:
            stall_ms = (now - self._stall_since) * 1000
            self._stall_since = None
            self._emit(StallEnd(self._t(), stall_ms=round(stall_ms, 1)))
            self._go(S.PAUSED if self._user_paused else S.PLAYING)
            self._update(message="")

    def _finish(self) -> None:
        if self.machine.state in (S.ENDED, S.ERROR, S.IDLE):
            return
        if self._feed is not None and not self._feed.closed:
            return  # mpv drained what it had, but more is coming: not the end
        self._go(S.ENDED)
        self._emit(Ended(self._t(), position_s=round(self.snap.position_s, 3)))
        self.done.set()

    # ----------------------------------------------------------- publishing
    async def _publish_snapshots(self) -> None:
        while True:
            await self.clock.sleep(self.settings.snapshot_interval_s)
            self._update(buffer_s=self.buffer_s(),
                         throughput_kbps=(self.fetcher.throughput_hint_bps / 1000) if self.fetcher else 0.0)

    def _update(self, **changes: Any) -> None:
        self.snap = replace(self.snap, **changes)
        # Position and levels change with every frame mpv shows: publishing each would cost
        # more than the rest of the engine. They go out at most every 100 ms (and with the
        # next periodic snapshot); anything else goes out at once.
        if _CONTINUOUS.issuperset(changes) and self.clock.monotonic() - self._published_at < 0.1:
            return
        self._publish()

    def _publish(self) -> None:
        self._published_at = self.clock.monotonic()
        self._on_snapshot(self.snap)

    def _go(self, state: PlaybackState) -> None:
        if self.machine.state == state or not self.machine.can(state):
            return
        self.machine.go(state)
        self.snap = replace(self.snap, state=state, paused=state == S.PAUSED or self.snap.paused)
        self._emit(StateChanged(self._t(), state=state.value))
        self._publish()

    def _fail(self, exc: MarqueeError) -> None:
        # Whatever its severity where it arose, an error that reaches here ended the session.
        self._emit(PlaybackError(self._t(), category=exc.category, code=exc.code, message=exc.user_message,
                   detail=exc.message, recoverable=False))
        log.error("playback failed: %s", exc.message)
        self.snap = replace(self.snap, message=exc.user_message)
        self._go(S.ERROR)
        self.done.set()

    def _t(self) -> float:
        return self.clock.monotonic() - self.t0

    def _emit(self, event: PlayerEvent) -> None:
        self._on_event_raw(event)

    def _on_event_raw(self, event: PlayerEvent) -> None:
        self.stats.on_event(event)
        if isinstance(event, Failover):
            self._update(last_failover=f"{event.from_oca} → {event.to_oca}: {event.reason}")
        elif isinstance(event, PlaybackError) and event.code == "all_ocas_down":
            self._update(message=event.message)
        elif isinstance(event, SegmentFetched) and self.snap.message.startswith("No server"):
            self._update(message="")
        self._on_event(event)


async def _all(*awaitables: Any) -> list[Any]:
    """Run concurrently and return all results; if one fails (or we are cancelled), the
    others are cancelled rather than left running on their own."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
