import pytest

from player.events import PlaybackState as S
from tests.event_factory import event
from player.state import IllegalTransition, PlaybackStateMachine, SessionStats


def test_the_normal_life_of_a_playback():
    sm = PlaybackStateMachine()
    for state in (S.LOADING, S.BUFFERING, S.PLAYING, S.PAUSED, S.PLAYING, S.SEEKING, S.BUFFERING, S.PLAYING, S.ENDED):
        assert sm.go(state)
    assert sm.state == S.ENDED


@pytest.mark.parametrize(
    "path",
    [(S.PLAYING,), (S.LOADING, S.PLAYING), (S.LOADING, S.ENDED), (S.LOADING, S.ERROR, S.PLAYING)],
)
def test_illegal_transitions_raise(path):
    sm = PlaybackStateMachine()
    with pytest.raises(IllegalTransition):
        for state in path:
            sm.go(state)


def test_going_to_the_same_state_is_not_a_change():
    sm = PlaybackStateMachine()
    assert not sm.go(S.IDLE)


def ev(kind, **data):
    return event(kind, **data)


def test_stats_fold_events_into_the_summary():
    stats = SessionStats(start_s=30.0, last_position_s=30.0)
    stats.on_event(ev("startup", startup_ms=412.34))
    stats.on_event(ev("segment", media="video", start_s=30.0, duration_s=2.0, bitrate_kbps=1000.0))
    stats.on_event(ev("segment", media="video", start_s=32.0, duration_s=2.0, bitrate_kbps=3000.0))
    stats.on_event(ev("segment", media="audio", start_s=32.0, duration_s=2.0, bitrate_kbps=128.0))
    stats.on_event(ev("segment", media="video", start_s=50.0, duration_s=2.0, bitrate_kbps=9000.0))
    stats.on_event(ev("switch", from_rung=1, to_rung=3))
    stats.on_event(ev("stall_start"))
    stats.on_event(ev("stall_end", stall_ms=250.0))
    stats.on_event(ev("failover", from_oca="a", to_oca="b"))
    stats.on_event(ev("error", message="No server is answering", code="all_ocas_down", recoverable=True))
    for pos in (30.0, 30.5, 31.0, 31.5, 32.0, 33.0, 33.9):  # the first frame anchors the count
        stats.on_position(pos, playing=True)
    stats.on_position(120.0, playing=True)  # a seek: not played time
    summary = stats.summary()
    assert summary.startup_ms == 412.3
    assert summary.start_s == 30.0
    assert summary.played_s == pytest.approx(3.9)
    assert (summary.stall_count, summary.stall_ms) == (1, 250.0)
    assert summary.switches == 1 and summary.failovers == 1
    assert summary.errors == []  # a recovered outage is not an error of the session
    assert summary.ok


def test_average_bitrate_counts_only_what_was_reached():
    stats = SessionStats()
    stats.on_event(ev("segment", media="video", start_s=0.0, duration_s=2.0, bitrate_kbps=1000.0))
    stats.on_event(ev("segment", media="video", start_s=2.0, duration_s=2.0, bitrate_kbps=3000.0))
    stats.on_event(ev("segment", media="video", start_s=4.0, duration_s=2.0, bitrate_kbps=9000.0))
    stats.on_position(3.0, playing=True)
    assert stats.avg_bitrate_kbps() == 2000.0


def test_a_fatal_error_fails_the_session():
    stats = SessionStats()
    stats.on_event(ev("startup", startup_ms=100.0))
    stats.on_event(ev("error", message="The manifest is broken", recoverable=False))
    summary = stats.summary()
    assert not summary.ok and summary.errors == ["The manifest is broken"]
