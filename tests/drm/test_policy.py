"""License policy and trusted time, with an injected (fake) clock."""

from __future__ import annotations

import pytest

from drm.policy import TOLERANCE_S, LicenseTimes, TrustedTime, check_clock, evaluate, start_playback
from marquee.clock import FakeClock

DAY, HOUR = 86400.0, 3600.0


def times(clock: FakeClock, **kw) -> LicenseTimes:
    base = dict(issued_at=clock.wall(), expires_at=clock.wall() + 30 * DAY, playback_duration_s=48 * HOUR,
                can_renew=True)
    base.update(kw)
    return LicenseTimes(**base)


def test_license_expiry() -> None:
    clock = FakeClock()
    t = times(clock)
    assert evaluate(t, clock.wall()).allowed
    clock.advance(30 * DAY - 1)
    v = evaluate(t, clock.wall())
    assert v.allowed and v.license_remaining_s == pytest.approx(1)
    clock.advance(2)
    v = evaluate(t, clock.wall())
    assert not v.allowed and v.code == "license_expired" and "expired" in v.message
    assert "renew" in v.message  # can_renew: going online helps
    assert "again" in evaluate(times(FakeClock(), can_renew=False), clock.wall()).message


def test_playback_window_from_first_play() -> None:
    clock = FakeClock()
    t = times(clock)
    clock.advance(10 * DAY)
    assert evaluate(t, clock.wall()).playback_remaining_s is None
    t = start_playback(t, clock.wall())
    assert start_playback(t, clock.wall() + 5) == t  # only the first play counts
    clock.advance(47 * HOUR)
    v = evaluate(t, clock.wall())
    assert v.allowed and v.playback_remaining_s == pytest.approx(HOUR) and v.ends_at == t.first_play_at + 48 * HOUR
    clock.advance(HOUR + 1)
    v = evaluate(t, clock.wall())
    assert not v.allowed and v.code == "playback_window_over" and "48-hour" in v.message
    assert v.license_remaining_s > 0


def test_revoked_never_plays() -> None:
    clock = FakeClock()
    v = evaluate(times(clock, revoked=True), clock.wall())
    assert not v.allowed and v.code == "license_revoked"


def test_renew_is_due_close_to_expiry_only_when_renewable() -> None:
    clock = FakeClock()
    t = times(clock)
    assert not evaluate(t, clock.wall()).renew_due
    clock.advance(28 * DAY)
    assert evaluate(t, clock.wall()).renew_due
    assert not evaluate(times(FakeClock(), can_renew=False), clock.wall()).renew_due


def test_clock_rollback_is_detected_beyond_the_tolerance() -> None:
    clock = FakeClock()
    first = check_clock(None, clock.wall())
    clock.advance(3 * DAY)
    later = check_clock(first.mark, clock.wall())
    assert later.ok and later.mark.high_water == clock.wall()
    # a small rollback is tolerated but gains nothing: the mark is used as "now"
    clock.set_wall(clock.wall() - TOLERANCE_S / 2)
    small = check_clock(later.mark, clock.wall())
    assert small.ok and small.now == later.mark.high_water
    # turning the clock back further blocks offline playback...
    clock.set_wall(clock.wall() - 2 * DAY)
    back = check_clock(small.mark, clock.wall())
    assert not back.ok and back.code == "clock_rollback" and "clock" in back.message
    # ...even after the clock is set forward again (the block sticks)...
    clock.set_wall(later.mark.high_water + 10)
    assert not check_clock(back.mark, clock.wall()).ok
    # ...until the service tells the time
    online = check_clock(back.mark, clock.wall(), server_time=clock.wall())
    assert online.ok and online.mark.rollback_at is None
    assert check_clock(online.mark, clock.wall() + 1).ok


def test_rolling_the_clock_back_does_not_extend_a_license() -> None:
    clock = FakeClock()
    t = times(clock)
    mark = check_clock(None, clock.wall()).mark
    clock.advance(30 * DAY + 60)
    mark = check_clock(mark, clock.wall()).mark
    clock.set_wall(clock.wall() - 120)  # within the tolerance, before expiry on the wall clock
    check = check_clock(mark, clock.wall())
    assert check.ok and not evaluate(t, check.now).allowed


def test_a_clock_before_the_issue_time_is_refused() -> None:
    clock = FakeClock()
    t = times(clock)
    v = evaluate(t, clock.wall() - DAY)
    assert not v.allowed and v.code == "clock_rollback"


def test_marks_keep_server_time() -> None:
    check = check_clock(TrustedTime(100.0), 50.0, server_time=200.0)
    assert check.ok and check.now == 200.0 and check.mark == TrustedTime(200.0, 200.0, None)
