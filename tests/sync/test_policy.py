"""When positions are recorded and sent (pure)."""

from __future__ import annotations

from sync.policy import ReportPolicy


def test_records_every_few_seconds_and_sends_every_ten() -> None:
    p = ReportPolicy(record_every_s=3.0, send_every_s=10.0)
    marks = []
    for i in range(0, 26):  # one snapshot a second for 25 s of playing
        m = p.snapshot(float(i), "playing", float(i), 100.0)
        if m:
            marks.append((i, m.send))
    assert [t for t, _ in marks] == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    assert [t for t, s in marks if s] == [12, 24]  # never more often than every 10 s


def test_pause_seek_stop_are_immediate_and_only_pause_stop_send() -> None:
    p = ReportPolicy()
    assert p.snapshot(0.0, "buffering", 0.0, 100.0) is None  # nothing before playback
    assert p.stop(0.5) is None
    p.snapshot(1.0, "playing", 5.0, 100.0)
    m = p.snapshot(1.2, "paused", 5.2, 100.0)
    assert m is not None and m.state == "paused" and m.send and m.position_s == 5.2
    assert p.snapshot(1.4, "paused", 5.2, 100.0) is None  # once per pause
    m = p.seek(1.5, 0.0)  # start over
    assert m is not None and m.state == "seek" and not m.send and m.position_s == 0.0
    m = p.stop(2.0)
    assert m is not None and m.state == "stopped" and m.send


def test_end_of_episode_is_sent_at_its_duration() -> None:
    p = ReportPolicy()
    p.snapshot(0.0, "playing", 95.0, 100.0)
    m = p.snapshot(1.0, "ended", 99.8, 100.0)
    assert m is not None and m.state == "ended" and m.send and m.position_s == 100.0
    assert p.stop(2.0) is None  # already reported
