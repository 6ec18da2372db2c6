"""The scenario in the simulator, in virtual time (pure).

Two predictions of the same scenario, both on :func:`qa.network.effective_trace` (the best
OCA still up at each moment) and our ladder's real segment sizes:

* ``abr`` -- ``abr.sim.simulate_realistic`` exactly as ``marquee abr-sim`` runs it (0.95
  payload factor, one 80 ms-or-trace RTT per chunk, 60 s buffer cap, video bytes only, no
  seeks). The baseline the issue asks to compare with.
* ``model`` -- the same controller in a loop that models what differs in the real player:
  the OCA paces HTTP *body* bytes at exactly the trace rate (no 0.95 factor); each segment
  is the video and the audio that goes with it, fetched in parallel on the one link, after
  the link's RTT and any injected latency; startup also pays the manifest and OCA-probe
  round trips and mpv's open/decode time; the engine stops fetching above ``max_buffer_s``
  (polling every 0.1 s) rather than at 60 s, and a remuxed segment waits until the bounded
  feed to mpv has room for it (``feed_sized_by_buffer=False`` models the engine before it
  sized the feed by the buffer target: a 4 MiB feed capped the buffer at ~9 s at 5 Mbit/s);
  downloads are checked for abandonment every 0.2 s;
  while every OCA is down the fetcher backs off exponentially, so recovery is noticed up to
  one backoff late, and a download cut by the outage resumes by Range with a new request whose
  time alone (not the outage) makes the throughput sample, as ``player.fetch`` reports it; a seek drops the buffer and in-flight download, and the wait after it
  is not a stall (the engine reports it as seek time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from abr import make_controller
from abr.api import Controller, DecisionContext, DownloadSample, Ladder, clamp_rung
from abr.sim import PAYLOAD, Link, SessionResult, simulate_realistic
from abr.traces import Trace
from abr.video import Video
from qa.metrics import counted
from qa.network import rate_at
from qa.scenario import Scenario, Variant


@dataclass(frozen=True)
class PlayerModel:
    """Costs of the real pipeline that the plain simulator leaves out (seconds)."""

    request_overhead_s: float = 0.004  # loopback HTTP request/response handling, per request
    startup_requests: int = 3  # manifest + OCA probe + init segment before the first media byte
    mpv_start_s: float = 0.12  # open the TS stream, probe, decode the first frame
    poll_s: float = 0.1  # the engine's buffer-full polling
    abandon_check_s: float = 0.2
    # All OCAs down: the fetcher retries after min(cap, base * 2^k) * U(0.5, 1) (player.retry);
    # the model waits the mean of that, so recovery is noticed up to one backoff late.
    feed_capacity_bytes: int = 4 << 20  # SessionSettings.feed_capacity_bytes (the floor)
    feed_sized_by_buffer: bool = True  # the engine sizes the feed to max_buffer_s of the top rung
    mpv_readahead_s: float = 2.0  # mpv's demuxer-readahead-secs / cache-secs
    ts_overhead: float = 1.04  # MPEG-TS packetisation over the fMP4 payload
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 4.0

    def backoff_s(self, attempt: int) -> float:
        return 0.75 * min(self.backoff_cap_s, self.backoff_base_s * 2 ** attempt)


@dataclass
class SimSample:
    t: float
    buffer_s: float
    rung: int
    kbps: float
    throughput_kbps: float


@dataclass
class SimRun:
    kind: str  # "abr" | "model"
    variant: str
    result: SessionResult
    bitrates_kbps: list[float]  # per counted segment
    startup_s: float
    stall_s: float
    stall_count: int
    played_s: float
    samples: list[SimSample] = field(default_factory=list)
    segment_times: list[float] = field(default_factory=list)
    end_t: float = 0.0  # when the run stopped (virtual seconds since play)
    end_buffer_s: float = 0.0


def _payload_free(trace: Trace) -> Trace:
    """The trace scaled so that ``abr.sim.Link`` (which delivers 95 %) delivers exactly it."""
    return Trace(trace.name, trace.times_s, tuple(b / PAYLOAD for b in trace.bw_mbps), trace.rtt_s)


def sliced_video(video: Video, first: int, count: int) -> Video:
    ladder = video.ladder
    n = min(count, video.segments - first)
    sizes = tuple(tuple(row[first:first + n]) for row in ladder.segment_sizes) if ladder.segment_sizes else None
    return Video(video.name, Ladder(ladder.bitrates_bps, ladder.segment_seconds, sizes, n))


def run_abr_realistic(scn: Scenario, variant: Variant, trace: Trace, video: Video) -> SimRun:
    seg = video.ladder.segment_seconds
    first = int(scn.start_s // seg)
    count = math.ceil((scn.start_s + scn.duration_s) / seg) - first
    v = sliced_video(video, first, count)
    controller = make_controller(variant.algo, variant.params)
    horizon = Trace(trace.name, trace.times_s + (trace.times_s[-1] + 3600.0,),
                    trace.bw_mbps + (trace.bw_mbps[-1] or 0.01,), trace.rtt_s)
    res = simulate_realistic(controller, horizon, v, check_interval_s=0.2, keep_reasons=True)
    kbps = [res.bitrates_kbps[r] for r in res.rungs]
    stall = sum(res.stall_s[1:])
    samples = [SimSample(t, b, r, res.bitrates_kbps[r], thr * 1000)
               for t, b, r, thr in zip(res.time_s, res.buffer_s, res.rungs, res.throughput_mbps)]
    return SimRun("abr", variant.name, res, kbps, res.startup_s, stall, sum(1 for s in res.stall_s[1:] if s > 0),
                  len(kbps) * seg, samples, list(res.time_s))


def run_model(scn: Scenario, variant: Variant, trace: Trace, video: Video, audio_bytes: list[int],
              model: PlayerModel = PlayerModel()) -> SimRun:
    """The modelled player (see the module doc); plays ``duration_s`` of content."""
    controller: Controller = make_controller(variant.algo, variant.params)
    controller.reset()
    ladder = video.ladder
    seg = ladder.segment_seconds
    n_total = video.segments
    rtt = trace.rtt_s or 0.0
    link = Link(_payload_free(trace), wrap=False)
    now = 0.0
    res = SessionResult(trace.name, variant.name, "model", tuple(b / 1000 for b in ladder.bitrates_bps), seg,
                        scored_from=0)
    samples: list[SimSample] = []
    seeks = list(scn.seeks)

    def wait(seconds: float) -> None:
        nonlocal now
        if seconds > 0:
            link.sleep_ms(seconds * 1000.0)
            now += seconds

    # startup round trips (manifest, probe, init): latency only
    wait(model.startup_requests * (rtt + model.request_overhead_s))
    index = min(int(scn.start_s // seg), n_total - 1)
    position = index * seg  # playhead (content time)
    target_pos = scn.start_s
    buffered_until = index * seg
    playing = False  # first frame shown (after startup or a seek)
    started = False
    startup_s = 0.0
    stall_s = 0.0
    stall_count = 0
    in_stall = False
    prev: int | None = None
    played = 0.0
    stop_at = scn.duration_s
    kbps_of: list[float] = []
    fetched: list[int] = []  # content index of each fetched segment
    times: list[float] = []

    def advance(dt: float) -> None:
        """Play for ``dt`` seconds of wall time (stall when the buffer runs dry)."""
        nonlocal position, stall_s, in_stall, stall_count, played
        if not playing:
            return
        avail = max(0.0, buffered_until - position)
        play = min(dt, avail, max(0.0, stop_at - played))
        position += play
        played += play
        if play < dt and played < stop_at:
            stall_s += dt - play
            if not in_stall:
                in_stall = True
                stall_count += 1

    def elapse(dt: float) -> None:
        advance(dt)
        wait(dt)

    queued: list[tuple[float, float, float]] = []  # (content start, end, TS bytes) fed so far
    capacity = float(model.feed_capacity_bytes)
    if model.feed_sized_by_buffer:  # player.session.feed_capacity
        capacity = max(capacity, scn.max_buffer_s * ladder.bitrates_bps[-1] / 8 * 1.25)

    def feed_bytes() -> float:
        """TS bytes in the feed that mpv has not read yet (it reads mpv_readahead_s ahead)."""
        edge = position + model.mpv_readahead_s
        total = 0.0
        for a, b, n in queued:
            if b > edge:
                total += n * (b - max(a, edge)) / (b - a)
        return total

    def await_link() -> None:
        """Every OCA down: back off like the fetcher until one answers again."""
        attempt = 0
        while rate_at(trace, now + 1e-6) <= 0 and attempt < 60:
            elapse(model.backoff_s(attempt))
            attempt += 1

    while played < stop_at - 1e-9:
        # seeks due now
        if seeks and now >= seeks[0].at_s:
            s = seeks.pop(0)
            index = min(int(s.to_s // seg), n_total - 1)
            position = s.to_s
            buffered_until = index * seg
            playing = False
            in_stall = False
            target_pos = s.to_s
            queued.clear()
        if index >= n_total:  # everything fetched: play out what is buffered
            left = buffered_until - position
            if left <= 1e-9:
                break
            elapse(min(left, stop_at - played) + 1e-9)
            continue
        while buffered_until - position > scn.max_buffer_s and played < stop_at:
            elapse(model.poll_s)
            if seeks and now >= seeks[0].at_s:
                break
        if seeks and now >= seeks[0].at_s:
            continue
        if played >= stop_at:
            break
        buffer_now = max(0.0, buffered_until - position)
        d = controller.choose(DecisionContext(ladder, buffer_now, index, prev, now, not started))
        rung = clamp_rung(d.rung, ladder)
        elapsed = 0.0
        audio = audio_bytes[index] if index < len(audio_bytes) else 0
        while True:  # video and its audio in parallel on the one link, with abandonment checks
            size = ladder.size(rung, index)
            total = size + audio
            await_link()
            before = now  # the engine times the attempt that succeeds, not the backoff before it
            elapse(rtt + model.request_overhead_s)
            elapsed = now - before
            got = 0.0
            abandoned = False
            while True:
                part, secs, done = link.download_for(total - got, model.abandon_check_s)
                got += part
                advance(secs)
                now += secs
                elapsed += secs
                if done:
                    break
                if rate_at(trace, now + 1e-6) <= 0:  # the connection died with every OCA: resume by Range
                    # The engine's sample is every byte of the segment over the time of the attempt
                    # that succeeded (player.fetch: ttfb + transfer of that attempt), so the outage
                    # and the backoff do not count as a slow download.
                    await_link()
                    resumed = now
                    elapse(rtt + model.request_overhead_s)
                    elapsed = now - resumed
                    continue
                if rung == 0:
                    continue
                live = max(0.0, buffered_until - position)
                video_got = int(got * size / total)
                verdict = controller.check_abandon(DownloadSample(video_got, elapsed, rtt, rung, False, index),
                                                   DecisionContext(ladder, live, index, prev, now, not started))
                if verdict is not None and verdict.abandon and clamp_rung(verdict.rung, ladder) < rung:
                    controller.on_sample(DownloadSample(video_got, elapsed, rtt, rung, False, index))
                    rung = clamp_rung(verdict.rung, ladder)
                    abandoned = True
                    break
            if not abandoned:
                break
        controller.on_sample(DownloadSample(int(size), elapsed, rtt, rung, True, index))
        video_elapsed = elapsed
        # The remuxed segment goes into the bounded feed: the write waits while the feed
        # (what mpv has not read yet; mpv reads ~2 s ahead) has no room for it.
        ts_bytes = model.ts_overhead * total
        while (playing and played < stop_at and feed_bytes() > 0
               and feed_bytes() + ts_bytes > capacity):
            elapse(model.poll_s / 2)
            if seeks and now >= seeks[0].at_s:
                break
        queued.append((index * seg, (index + 1) * seg, ts_bytes))
        buffered_until = (index + 1) * seg
        in_stall = False if buffered_until - position > 0 else in_stall
        if not playing:
            if not started:
                startup_s = now + model.mpv_start_s
                started = True
            elapse(model.mpv_start_s)
            playing = True
            position = max(position, target_pos)
        res.rungs.append(rung)
        res.stall_s.append(0.0)
        res.delay_s.append(video_elapsed)
        res.buffer_s.append(max(0.0, buffered_until - position))
        res.time_s.append(now)
        res.throughput_mbps.append(size * 8 / max(video_elapsed, 1e-9) / 1e6)
        res.reasons.append(d.reason)
        kbps_of.append(res.bitrates_kbps[rung])
        fetched.append(index)
        times.append(now)
        samples.append(SimSample(now, max(0.0, buffered_until - position), rung, res.bitrates_kbps[rung],
                                 size * 8 / max(video_elapsed, 1e-9) / 1000))
        prev = rung
        index += 1
    if res.stall_s:
        res.stall_s[0] = startup_s
        res.stall_s[-1] += stall_s
    # Segments fetched ahead but never played do not count (the real run stops at the same point).
    keep = counted([i * seg for i in fetched], position)
    return SimRun("model", variant.name, res, [kbps_of[k] for k in keep], startup_s, stall_s, stall_count, played,
                  samples, times, now, max(0.0, buffered_until - position))
