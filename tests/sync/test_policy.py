"""When positions are recorded and sent (pure)."""

from __future__ import annotations

from sync.policy import ReportPolicy


def test_records_every_few_seconds_first_send_at_three_then_every_ten() -> None:
    p = ReportPolicy(record_every_s=3.0, send_every_s=10.0, first_send_s=3.0)
    marks = []
    for i in range(0, 27):  # one snapshot a second for 26 s of playing
        m = p.snapshot(float(i), "playing", float(i), 100.0)
        if m:
            marks.append((i, m.send))
    assert [t for t, _ in marks] == [0, 3, 6, 9, 12, 13, 16, 19, 22, 23, 26]
    assert [t for t, s in marks if s] == [3, 13, 23]  # 3 s after the start, then every 10 s exactly


def test_send_times_do_not_wait_for_the_next_local_record() -> None:
    """Issue 22 #6: the send was tied to the 3 s record cadence and came at 12 s, not 10 s."""
    p = ReportPolicy(record_every_s=3.0, send_every_s=10.0, first_send_s=3.0)
    sends = []
    t = 0.0
    while t < 40.0:  # snapshots every 0.25 s
        m = p.snapshot(t, "playing", t, 100.0)
        if m and m.send:
            sends.append(t)
        t += 0.25
    assert sends[0] <= 3.25
    assert all(9.99 <= b - a <= 10.26 for a, b in zip(sends, sends[1:])), sends


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
