"""The simulator side: the modelled player against hand-computed cases."""

from __future__ import annotations

import pytest

from abr.api import Ladder
from abr.video import Video
from qa.network import effective_trace
from qa.scenario import Variant, parse_scenario
from qa.simrun import PlayerModel, run_abr_realistic, run_model

ZERO = PlayerModel(request_overhead_s=0.0, startup_requests=0, mpv_start_s=0.0)


def _video(n: int = 10, kbps=(400, 1000, 2000)) -> Video:
    sizes = tuple(tuple(int(k * 1000 * 2 / 8) for _ in range(n)) for k in kbps)
    return Video("v", Ladder(tuple(k * 1000.0 for k in kbps), 2.0, sizes, n))


def _scn(extra: str = "", duration: float = 20) -> object:
    return parse_scenario(f'name = "s"\n[content]\nduration_s = {duration}\n[network]\nmbps = 8\n{extra}', "s.toml")


def test_the_first_segment_timing_by_hand():
    scn = _scn()
    trace = effective_trace(scn, 100)
    run = run_model(scn, Variant("default"), trace, _video(), [0] * 10, ZERO)
    first = run.result.rungs[0]
    size = _video().ladder.size(first, 0)
    # no RTT, no overheads: the first segment arrives after size / 8 Mbit/s, exactly (no 0.95 factor)
    assert run.startup_s == pytest.approx(size * 8 / 8e6, rel=1e-6)
    assert run.stall_s == 0 and run.played_s == pytest.approx(20)


def test_audio_shares_the_link_in_parallel_with_the_video():
    scn = _scn("rtt_ms = 100")
    trace = effective_trace(scn, 100)
    bare = run_model(scn, Variant("default"), trace, _video(), [0] * 10, ZERO)
    audio = run_model(scn, Variant("default"), trace, _video(), [25_000] * 10, ZERO)
    # both requests pay the 100 ms at the same time; the audio bytes take 25 kB / 1 MB/s more
    assert audio.startup_s - bare.startup_s == pytest.approx(0.025, abs=1e-6)


def test_an_outage_longer_than_the_buffer_stalls_and_the_simulators_agree_on_rungs_when_quiet():
    quiet = _scn()
    trace = effective_trace(quiet, 100)
    model = run_model(quiet, Variant("default"), trace, _video(), [0] * 10, ZERO)
    abr = run_abr_realistic(quiet, Variant("default"), trace, _video())
    assert model.stall_s == 0 and abr.stall_s == 0
    assert max(model.bitrates_kbps) == max(abr.bitrates_kbps) == 2000
    down = _scn('[player]\nmax_buffer_s = 4\n[[faults]]\noca = "all"\nat_s = 5\nuntil_s = 15\ndown = true\n')
    run = run_model(down, Variant("default"), effective_trace(down, 100), _video(), [0] * 10, ZERO)
    assert run.stall_count >= 1 and 3.0 < run.stall_s < 10.5


def test_a_seek_restarts_at_the_target_and_is_not_a_stall():
    text = 'name = "s"\n[content]\nduration_s = 8\nseeks = [{at_s = 1, to_s = 12}]\n[network]\nmbps = 8\n'
    scn = parse_scenario(text, "s.toml")
    run = run_model(scn, Variant("default"), effective_trace(scn, 100), _video(), [0] * 10, ZERO)
    assert run.stall_s == 0 and run.stall_count == 0
    assert len(run.result.rungs) >= 5  # 1 s of the start, then from segment 6 (12 s) on
    assert run.played_s == pytest.approx(8)


def test_the_bounded_feed_caps_the_buffer_at_high_bitrates():
    """A 4 MiB feed to mpv holds ~6 s of 5 Mbit/s TS: with mpv's 2 s read-ahead the buffer
    stayed near 8-10 s however large max_buffer_s was (what the real player showed before the
    engine sized its feed by the buffer target); sized by the target it reaches max_buffer_s."""
    scn = parse_scenario('name = "s"\n[content]\nduration_s = 40\n[network]\nmbps = 50\n', "s.toml")
    video = _video(n=30, kbps=(1000, 5000))
    small = PlayerModel(request_overhead_s=0.0, startup_requests=0, mpv_start_s=0.0, feed_sized_by_buffer=False)
    run = run_model(scn, Variant("fixed", "throughput"), effective_trace(scn, 200), video, [0] * 30, small)
    late = [s.buffer_s for s in run.samples if s.t > 15]
    assert max(run.bitrates_kbps) == 5000 and late
    assert 6.0 < max(late) < 11.0  # 6.4 s of TS in the feed + 2 s read by mpv + the segment just written
    free = run_model(scn, Variant("fixed", "throughput"), effective_trace(scn, 200), video, [0] * 30, ZERO)
    assert max(s.buffer_s for s in free.samples) > 25


def test_an_outage_does_not_count_as_a_slow_download():
    """As player.fetch reports it: a segment cut by an all-OCA outage is resumed by a new
    request whose time alone is the sample (and the abandonment check's elapsed time), so the
    segment in flight is finished at its rung instead of being abandoned for the outage."""
    scn = _scn("[[faults]]\noca = \"all\"\nat_s = 3\nuntil_s = 13\ndown = true\n", duration=30)
    trace = effective_trace(scn, 200)
    run = run_model(scn, Variant("default"), trace, _video(20), [0] * 20, ZERO)
    res = run.result
    k = next(i for i, t in enumerate(res.time_s) if t > 13)
    assert res.rungs[k] == res.rungs[k - 1] == 2, list(zip(res.time_s, res.rungs))
    # resumed by Range: only the bytes left (8 Mbit/s after the outage) plus nothing of the outage
    assert res.delay_s[k] < 0.5 and res.throughput_mbps[k] > 8.0
