"""The staged segment pipeline: decide -> fetch -> remux (worker thread) -> ordered write.

Two stages joined by a bounded queue, in the spirit of streamlink's ``segmented``:

- the *producer* asks the model for the rung of the next segment, fetches video and
  audio (and their init segments) concurrently from the ranked OCAs (failover, Range
  continuation and abandonment live in ``player.fetch``), refetches a corrupt copy from
  another OCA, and remuxes it in a worker thread so the event loop stays free;
- the *writer* puts remuxed segments into the bounded feed in order.

The full feed blocks the writer, the full queue blocks the producer: mpv's reading is
what paces fetching. Besides, the producer waits while the buffer exceeds
``max_buffer_s``. The model hears of every segment twice: ready (fetched; the fetched
rung moves) and placed (in the feed; the buffer grows).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from abr.api import Controller, Decision, DownloadSample
from marquee.clock import Clock
from marquee.errors import MarqueeError, MediaError
from player.events import Abandon
from player.feed import ByteFeed
from player.fetch import FetchAbandoned, Fetcher, FetchProgress, FetchResult, FetchTarget
from player.manifest.model import Representation, SegmentRef
from player.manifest.sidx import with_sidx_segments
from player.model import Command, PlaybackModel, SegmentPlaced
from player.net import HARD_CAP_BYTES, segment_cap
from player.remux import SegmentData, SegmentError, StreamRemuxer
from player.tracks import Tracks

log = logging.getLogger("marquee.session")

Apply = Callable[[list[Command]], None]


@dataclass(frozen=True)
class PipelineSettings:
    max_buffer_s: float = 30.0
    abandon_check_s: float = 0.2  # how often the ABR may abandon a download in flight
    max_segment_attempts: int = 4  # corrupt copies tolerated before giving up on a segment
    remux_in_worker: bool = True  # False: remux on the loop (deterministic virtual-time tests)
    ready_ahead: int = 1  # remuxed segments waiting for room in the feed


@dataclass(frozen=True)
class _Ready:
    data: bytes
    placed: SegmentPlaced | None  # None: the remuxer's tail


class SegmentPipeline:
    def __init__(self, fetcher: Fetcher, tracks: Tracks, controller: Controller, model: PlaybackModel,
                 clock: Clock, now: Callable[[], float], apply: Apply, settings: PipelineSettings) -> None:
        self.fetcher = fetcher
        self.tracks = tracks
        self.controller = controller
        self.model = model
        self.clock = clock
        self.now = now  # seconds since the session started
        self.apply = apply
        self.settings = settings
        self._init_cache: dict[str, bytes] = {}

    async def run(self, feed: ByteFeed, remuxer: StreamRemuxer, index: int) -> None:
        """Fill ``feed`` from segment ``index`` to the end; a failure ends the playback."""
        queue: asyncio.Queue[_Ready | None] = asyncio.Queue(maxsize=max(1, self.settings.ready_ahead))
        writer = asyncio.ensure_future(self._write(feed, queue))
        try:
            segments = self.tracks.video[0].segments
            while index < len(segments):
                # Never hold data back from an empty feed: mpv would starve while our buffer
                # figure still counts media it no longer has (e.g. just after a restart).
                while (self.model.buffer_s() > self.settings.max_buffer_s and feed.buffered_bytes
                       and not feed.aborted and not writer.done()):
                    await self.clock.sleep(0.1)
                if feed.aborted or writer.done():
                    break
                if not await _put(queue, await self._segment(remuxer, index), writer):
                    break
                index += 1
            else:
                tail = remuxer.finish()
                if tail:
                    await _put(queue, _Ready(tail, None), writer)
                await _put(queue, None, writer)
            if writer.done() or not feed.aborted:
                await writer  # its end, or its exception
        except asyncio.CancelledError:
            raise
        except MarqueeError as exc:
            self.apply(self.model.fail(exc, self.now()))
        except Exception as exc:
            log.exception("segment pipeline failed")
            self.apply(self.model.fail(MediaError(f"internal error in the segment pipeline: {exc}",
                                                  user_message="Playback failed."), self.now()))
        finally:
            writer.cancel()

    async def _write(self, feed: ByteFeed, queue: asyncio.Queue[_Ready | None]) -> None:
        while True:
            ready = await queue.get()
            if ready is None:
                feed.close()
                self.apply(self.model.feed_finished())
                return
            seg = ready.placed
            if not await feed.write(ready.data, media_s=seg.duration_s if seg else 0.0):
                return  # aborted by a seek or stop
            if seg is not None:
                self.apply(self.model.segment_placed(seg, self.now()))

    async def _segment(self, remuxer: StreamRemuxer, index: int) -> _Ready:
        decision, commands = self.model.decide(self.controller, self.tracks.ladder, index, self.now())
        self.apply(commands)
        rung = decision.rung
        exclude: set[str] = set()
        for _ in range(self.settings.max_segment_attempts):
            if self.tracks.audio is not None:
                (video, rung), audio = await _all(self._fetch_video(index, rung, exclude),
                                                  self._fetch_audio(index, exclude))
            else:
                video, rung = await self._fetch_video(index, rung, exclude)
                audio = None
            try:
                data = await self._remux(remuxer, video[0], audio[0] if audio else None)
            except SegmentError as exc:
                bad = video[1].oca
                self._init_cache.clear()  # the damage may be in a cached init segment: refetch those too
                self.fetcher.ranker.record_failure(bad, f"corrupt segment: {exc.message}", self.clock.monotonic())
                exclude.add(bad)
                self.apply(self.model.report(self.now(), category="media", code="corrupt_segment",
                                             message=f"segment {index} from {bad} was damaged; "
                                                     "fetching it again elsewhere"))
                continue
            break
        else:
            raise MediaError(
                f"segment {index} was damaged on every server",
                user_message="The video data is damaged on every server. Try again later.",
            )
        seg = self.tracks.video[rung].segments[index]
        fetched = video[1]
        placed = SegmentPlaced(index, rung, seg.start_s, seg.duration_s, len(video[0].media), fetched.seconds,
                               fetched.ttfb_s, fetched.oca, decision.reason)
        self.apply(self.model.segment_ready(placed, self.now()))
        return _Ready(data, placed)

    async def _remux(self, remuxer: StreamRemuxer, video: SegmentData, audio: SegmentData | None) -> bytes:
        if self.settings.remux_in_worker:
            result = await asyncio.to_thread(remuxer.remux, video, audio)
        else:
            result = remuxer.remux(video, audio)
        return result.data

    async def _fetch_video(self, index: int, rung: int,
                           exclude: set[str]) -> tuple[tuple[SegmentData, FetchResult], int]:
        """Fetch segment ``index`` at ``rung``; if the ABR abandons it, refetch lower."""
        while True:
            rep = await self._ensure_index(self.tracks.video[rung])
            seg = rep.segments[index]
            last_check = [0.0]
            pending: list[Decision | None] = [None]

            def on_progress(p: FetchProgress, rung: int = rung) -> bool:
                if rung == 0 or p.elapsed_s - last_check[0] < self.settings.abandon_check_s:
                    return False
                last_check[0] = p.elapsed_s
                verdict = self._check_abandon(p, index, rung)
                if verdict is not None:
                    pending[0] = verdict
                    return True
                return False

            try:
                init, result = await _all(
                    self._init_bytes(rep, exclude),
                    self.fetcher.fetch(target(seg, f"video {index} @ {rung}", rep.bandwidth), on_progress=on_progress,
                                       exclude=exclude),
                )
            except FetchAbandoned:
                verdict = pending[0]
                assert verdict is not None
                self.apply(self.model.observe(Abandon(self.now(), index=index, from_rung=rung, to_rung=verdict.rung,
                                                      reason=verdict.reason)))
                rung = verdict.rung
                continue
            self.controller.on_sample(DownloadSample(len(result.data), result.ttfb_s + result.transfer_s,
                                                     result.ttfb_s, rung, True, index))
            self.fetcher.throughput_hint_bps = len(result.data) * 8 / max(result.transfer_s + result.ttfb_s, 1e-3)
            return (SegmentData(media=result.data, init=init), result), rung

    def _check_abandon(self, p: FetchProgress, index: int, rung: int) -> Decision | None:
        sample = DownloadSample(p.nbytes, p.elapsed_s, p.ttfb_s or p.elapsed_s, rung, False, index)
        verdict = self.controller.check_abandon(sample, self.model.context(self.tracks.ladder, index, self.now()))
        if verdict is not None and verdict.abandon and verdict.rung < rung:
            self.controller.on_sample(sample)
            return verdict
        return None

    async def _fetch_audio(self, index: int, exclude: set[str]) -> tuple[SegmentData, FetchResult] | None:
        """The audio that goes with video segment ``index``: every audio segment whose
        midpoint falls inside it (AAC frames rarely end exactly on video boundaries), and
        after the last video segment whatever audio is left."""
        assert self.tracks.audio is not None
        rep = await self._ensure_index(self.tracks.audio)
        video = self.tracks.video[0].segments
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
            *(self.fetcher.fetch(target(s, f"audio {s.number}", rep.bandwidth), exclude=exclude) for s in parts),
        )
        return SegmentData(media=b"".join(r.data for r in results), init=init), results[0]

    async def _init_bytes(self, rep: Representation, exclude: set[str]) -> bytes:
        if rep.init is None:
            return b""
        key = rep.init.url + repr(rep.init.byte_range)
        if key not in self._init_cache:
            result = await self.fetcher.fetch(target(rep.init, f"init {rep.id}"), exclude=exclude)
            self._init_cache[key] = result.data
        return self._init_cache[key]

    async def _ensure_index(self, rep: Representation) -> Representation:
        """SegmentBase representations list their segments in a sidx box: fetch it once."""
        if not rep.needs_index:
            return rep
        assert rep.index_range is not None and rep.media_url is not None
        result = await self.fetcher.fetch(FetchTarget(rep.media_url, byte_range=rep.index_range, label="sidx",
                                                      max_bytes=HARD_CAP_BYTES))
        filled = with_sidx_segments(rep, result.data)
        self.tracks.replace(rep, filled)
        return filled


def target(seg: SegmentRef, label: str, bandwidth_bps: float | None = None) -> FetchTarget:
    """What to fetch for ``seg``; with ``bandwidth_bps`` a media segment is capped at what the
    manifest promises for it (``player.net.segment_cap``), anything else at the hard cap."""
    expected = None
    if seg.byte_range is not None:
        expected = seg.byte_range[1] - seg.byte_range[0] + 1
    cap = segment_cap(bandwidth_bps, seg.duration_s) if bandwidth_bps and seg.duration_s > 0 else HARD_CAP_BYTES
    return FetchTarget(seg.url, byte_range=seg.byte_range, expected_bytes=expected, label=label, max_bytes=cap)


async def _put(queue: asyncio.Queue[_Ready | None], item: _Ready | None, writer: asyncio.Future[None]) -> bool:
    """Queue ``item`` for the writer; False when the writer stopped (the feed was aborted)."""
    if writer.done():
        return False
    put = asyncio.ensure_future(queue.put(item))
    try:
        await asyncio.wait([put, writer], return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not put.done():
            put.cancel()
    if put.cancelled():
        put.cancel()
        return False
    return True


async def _all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Run concurrently and return all results; if one fails (or we are cancelled), the
    others are cancelled rather than left running on their own."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
