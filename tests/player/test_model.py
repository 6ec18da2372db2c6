"""The playback model driven by plain inputs: no loop, no HTTP, no mpv, no clock."""

from __future__ import annotations

from typing import Any

import pytest

from abr.api import Decision, DecisionContext, DownloadSample, Ladder
from marquee.errors import NetworkError
from player.events import (
    AbrDecision,
    Ended,
    PlaybackError,
    PlaybackState,
    PlayerEvent,
    Seek,
    SeekDone,
    SegmentFetched,
    StallEnd,
    StallStart,
    Startup,
    Switch,
)
from player.model import Command, Emit, Finish, PlaybackModel, Publish, RestartFeed, Rung, SegmentPlaced

S = PlaybackState
RUNGS = (Rung(400_000, 426, 240), Rung(1_500_000, 1280, 720), Rung(5_000_000, 1920, 1080))
LADDER = Ladder(bitrates_bps=tuple(r.bandwidth_bps for r in RUNGS), segment_seconds=2.0)


def events(commands: list[Command]) -> list[PlayerEvent]:
    return [c.event for c in commands if isinstance(c, Emit)]


def snapshots(commands: list[Command]) -> list[Any]:
    return [c.snapshot for c in commands if isinstance(c, Publish)]


def seg(index: int, rung: int, *, duration: float = 2.0, reason: str = "abr") -> SegmentPlaced:
    return SegmentPlaced(index, rung, index * duration, duration, 250_000, 0.1, 0.02, "oca-1", reason)


def ready_model(start_s: float = 0.0, duration_s: float = 20.0, **kwargs: Any) -> PlaybackModel:
    m = PlaybackModel("Film", start_s, **kwargs)
    m.loading(0.0)
    m.presentation_ready(RUNGS, duration_s, "en", 2.0, 0.05)
    return m


class Fixed:
    """An ABR controller that always answers ``rung`` and records what it was shown."""

    def __init__(self, rung: int) -> None:
        self.rung = rung
        self.seen: list[DecisionContext] = []

    def choose(self, ctx: DecisionContext) -> Decision:
        self.seen.append(ctx)
        return Decision(self.rung, "test")

    def on_sample(self, sample: DownloadSample) -> None:
        pass

    def check_abandon(self, sample: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None


def test_startup_goes_loading_buffering_playing_and_measures_time_to_first_frame() -> None:
    m = PlaybackModel("Film", 0.0)
    assert [e.state for e in events(m.loading(0.0))] == ["loading"]  # type: ignore[union-attr]
    start, cmds = m.presentation_ready(RUNGS, 20.0, "en", 2.0, 0.05)
    assert start == 0.0 and m.machine.state == S.BUFFERING
    assert snapshots(cmds)[-1].rung_count == 3 and snapshots(cmds)[-1].duration_s == 20.0
    out = events(m.output("first-frame", None, 0.4321))
    assert out[0] == Startup(0.4321, startup_ms=432.1)
    assert m.machine.state == S.PLAYING and m.stats.summary().startup_ms == 432.1


def test_a_start_in_the_last_segment_starts_from_the_top() -> None:
    m = PlaybackModel("Film", 19.0)
    m.loading(0.0)
    start, _ = m.presentation_ready(RUNGS, 20.0, "en", 2.0, 0.0)
    assert start == 0.0 and m.snap.position_s == 0.0 and m.stats.start_s == 0.0


def test_the_settings_cap_and_the_users_rung_bound_the_abr() -> None:
    m = ready_model(max_bitrate_kbps=2000)
    decision, cmds = m.decide(Fixed(2), LADDER, 0, 0.1)
    assert decision.rung == 1 and "capped at rung 1" in decision.reason
    assert events(cmds) == [AbrDecision(0.1, index=0, rung=1, reason=decision.reason, buffer_s=0.0)]
    m.set_quality(7, 0.2)  # clamped to the ladder
    assert m.fixed_rung == 2 and m.snap.quality_cap == 2
    assert m.decide(Fixed(0), LADDER, 1, 0.3)[0] == Decision(2, "fixed by the user")


def test_the_abr_sees_the_buffer_and_the_fetched_rung() -> None:
    m = ready_model()
    abr = Fixed(1)
    m.output("first-frame", None, 0.3)
    m.segment_ready(seg(0, 1), 0.4)
    m.segment_placed(seg(0, 1), 0.4)
    m.output("position", 0.5, 0.9)
    m.decide(abr, LADDER, 1, 1.0)
    ctx = abr.seen[-1]
    assert ctx.buffer_s == pytest.approx(1.5) and ctx.current_rung == 1 and not ctx.startup


def test_fetched_and_shown_rungs_are_kept_apart() -> None:
    m = ready_model()
    m.output("first-frame", None, 0.3)
    for i, rung in enumerate((0, 0, 2, 2)):
        m.segment_ready(seg(i, rung), 0.5 + i)
        m.segment_placed(seg(i, rung), 0.5 + i)
    # Fetching is at the top while the screen still shows segment 1 at the bottom rung.
    m.output("position", 3.0, 5.0)
    assert (m.snap.rung, m.snap.bitrate_kbps, m.snap.fetch_resolution) == (2, 5000.0, (1920, 1080))
    assert (m.snap.shown_rung, m.snap.shown_bitrate_kbps, m.snap.resolution) == (0, 400.0, (426, 240))
    m.output("position", 4.0, 6.0)  # the switch reaches the screen at the segment boundary
    assert (m.snap.shown_rung, m.snap.resolution) == (2, (1920, 1080))
    m.output("video-size", (1920, 1080), 6.0)  # mpv's own report agrees
    assert m.snap.resolution == (1920, 1080)


def test_a_switch_is_an_event_with_where_it_shows() -> None:
    m = ready_model()
    m.segment_ready(seg(0, 0), 0.5)
    out = events(m.segment_ready(seg(1, 2, reason="throughput up"), 1.0))
    assert out == [Switch(1.0, from_rung=0, to_rung=2, from_kbps=400.0, to_kbps=5000.0, reason="throughput up",
                          at_s=2.0)]
    assert m.stats.switches == 1 and m.snap.last_switch_reason == "throughput up"


def test_a_placed_segment_grows_the_buffer_and_is_reported() -> None:
    m = ready_model()
    out = events(m.segment_placed(seg(0, 1), 0.5))
    assert isinstance(out[0], SegmentFetched) and out[0].throughput_kbps == 20000.0
    assert m.buffered_until_s == 2.0 and m.snap.buffered_until_s == 2.0 and m.buffer_s() == 2.0


def test_a_stall_after_startup_is_measured_and_one_before_is_not() -> None:
    m = ready_model()
    assert events(m.output("buffering", True, 0.2)) == []  # startup buffering is not a stall
    m.output("first-frame", None, 0.3)
    out = events(m.output("buffering", True, 5.0, throughput_kbps=812.34))
    assert out[0] == StallStart(5.0, buffer_s=0.0, throughput_kbps=812.3)
    assert m.machine.state == S.BUFFERING and m.snap.message == "Buffering…"
    out = events(m.output("buffering", False, 5.75))
    assert out[0] == StallEnd(5.75, stall_ms=750.0)
    assert m.machine.state == S.PLAYING and m.snap.message == ""
    assert m.stats.stall_count == 1 and m.stats.stall_ms == 750.0


def test_a_seek_inside_mpvs_cache_needs_no_restart_and_one_outside_does() -> None:
    m = ready_model()
    m.output("first-frame", None, 0.3)
    target, cmds = m.seek(50.0, 1.0)  # past the end: clamped
    assert target == 19.5 and events(cmds)[0] == Seek(1.0, from_s=0.0, to_s=19.5)
    assert m.machine.state == S.SEEKING
    assert m.output("position", 3.0, 1.1) == []  # the stream being replaced: ignored
    assert m.seek_outside_cache(19.5) == [RestartFeed(19.5)]
    out = events(m.output("first-frame", None, 1.4))
    assert out[0] == SeekDone(1.4, ms=400.0) and m.machine.state == S.PLAYING


def test_a_seek_before_the_ladder_is_known_does_nothing() -> None:
    m = PlaybackModel("Film", 0.0)
    m.loading(0.0)
    assert m.seek(10.0, 0.1) == (None, [])


def test_mpv_running_dry_is_the_end_only_when_the_feed_is_complete() -> None:
    m = ready_model()
    m.output("first-frame", None, 0.3)
    assert m.output("eof", True, 4.0) == []  # more is coming
    m.feed_finished()
    m.output("position", 19.9, 20.0)
    cmds = m.output("eof", True, 20.1)
    assert Ended(20.1, position_s=19.9) in events(cmds) and Finish(S.ENDED) in cmds
    assert m.done and m.machine.state == S.ENDED
    m.feed_restarted(0.0, 0.0)  # a late restart does not undo the end
    assert m.output("eof", True, 21.0) == []


def test_a_failure_ends_the_playback_with_the_users_message() -> None:
    m = ready_model()
    cmds = m.fail(NetworkError("every OCA refused", user_message="None of the servers answer."), 2.0)
    err = events(cmds)[0]
    assert isinstance(err, PlaybackError) and not err.recoverable and err.detail == "every OCA refused"
    assert Finish(S.ERROR) in cmds and m.snap.state == S.ERROR and m.snap.message == "None of the servers answer."
    assert not m.stats.summary().ok and m.stats.summary().errors == ["None of the servers answer."]


def test_a_decoder_error_from_mpv_fails_the_playback() -> None:
    m = ready_model()
    cmds = m.output("ended", "error", 3.0)
    assert Finish(S.ERROR) in cmds and m.snap.message == "The video could not be decoded."


def test_pause_follows_mpv_and_a_pause_before_the_first_frame_is_kept() -> None:
    m = ready_model()
    m.pause()
    m.output("first-frame", None, 0.3)
    assert m.machine.state == S.PAUSED
    m.resume()
    m.output("paused", False, 1.0)
    assert m.machine.state == S.PLAYING and not m.snap.paused


def test_positions_are_published_at_most_every_100_ms() -> None:
    m = ready_model()
    m.output("first-frame", None, 0.3)
    published = [len(snapshots(m.output("position", 0.01 * i, 1.0 + 0.01 * i))) for i in range(30)]
    assert sum(published) == 3  # at 1.00, 1.10, 1.20 s
    assert m.snap.position_s == pytest.approx(0.29)  # the model itself is always current


def test_played_time_counts_playing_only() -> None:
    m = ready_model()
    m.output("first-frame", None, 0.3)
    for i in range(0, 11):  # mpv reports the first frame's position first; it anchors the count
        m.output("position", i * 0.5, 0.3 + i * 0.5)
    m.pause()
    m.output("paused", True, 6.0)
    m.output("position", 5.2, 6.1)  # a frame stepped while paused
    assert m.stats.summary().played_s == pytest.approx(5.0)


def test_a_stream_that_starts_later_than_zero_counts_from_its_first_frame() -> None:
    m = ready_model()  # HLS MPEG-TS from ffmpeg: the first frame is at 1.4 s
    m.output("first-frame", None, 0.3)
    for i in range(0, 5):
        m.output("position", 1.4 + i * 0.5, 0.3 + i * 0.5)
    assert m.stats.summary().played_s == pytest.approx(2.0)


def test_the_all_ocas_down_message_shows_until_a_segment_arrives() -> None:
    m = ready_model()
    m.observe(PlaybackError(1.0, category="network", code="all_ocas_down", message="No server is answering; retrying",
                            recoverable=True))
    assert m.snap.message.startswith("No server")
    m.segment_placed(seg(0, 0), 2.0)
    assert m.snap.message == ""
    assert m.stats.summary().errors == []  # a retry said in passing is not an error of the playback


def test_stop_ends_once() -> None:
    m = ready_model()
    assert Finish(S.IDLE) in m.stop(1.0)
    assert Finish(S.IDLE) not in m.stop(1.1)
