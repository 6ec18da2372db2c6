"""License policy on the client (pure: every function takes ``now``; no clock, no I/O).

* A license plays until ``expires_at`` (issue + ``license_duration``) and, once played,
  for ``playback_duration`` from the first play, whichever ends first.
* Trusted time: a high-water mark of the latest wall time seen (and the service's time
  when online) is kept sealed on disk. A wall clock more than ``tolerance_s`` behind the
  mark means the clock was turned back: offline playback is blocked until the service
  confirms the time. Within the tolerance the mark, not the clock, is used as "now",
  so turning the clock back a little gains nothing either.
* Renewal is due when online, renewable, and less than ``renew_margin_s`` (or a tenth
  of the license duration, whichever is smaller) is left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TOLERANCE_S = 300.0
RENEW_MARGIN_S = 3 * 86400.0


@dataclass(frozen=True)
class TrustedTime:
    high_water: float  # latest trusted wall time seen
    server_time: float | None = None  # last time the service told us
    rollback_at: float | None = None  # set when a rollback was seen; cleared by the service


@dataclass(frozen=True)
class ClockCheck:
    ok: bool
    now: float  # the time to evaluate licenses with
    mark: TrustedTime  # the mark to store
    code: str = ""
    message: str = ""


def check_clock(mark: TrustedTime | None, wall: float, *, server_time: float | None = None,
                tolerance_s: float = TOLERANCE_S) -> ClockCheck:
    """Fold one observation of the wall clock (and the service's clock, when online) into the mark."""
    if server_time is not None:
        # The service is the authority: it resets the mark (and clears a rollback block).
        return ClockCheck(True, server_time, TrustedTime(server_time, server_time, None))
    if mark is None:
        return ClockCheck(True, wall, TrustedTime(wall))
    if mark.rollback_at is not None or wall < mark.high_water - tolerance_s:
        blocked = replace(mark, rollback_at=mark.rollback_at if mark.rollback_at is not None else wall)
        return ClockCheck(False, max(wall, mark.high_water), blocked, "clock_rollback",
                          "Your computer's clock was turned back. Connect to the internet once so Marquee can "
                          "check the time, then play this download again.")
    now = max(wall, mark.high_water)
    return ClockCheck(True, now, replace(mark, high_water=now))


@dataclass(frozen=True)
class LicenseTimes:
    issued_at: float
    expires_at: float
    playback_duration_s: float
    can_renew: bool
    first_play_at: float | None = None
    revoked: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    code: str
    message: str
    license_remaining_s: float
    playback_remaining_s: float | None  # None until the first play
    renew_due: bool
    ends_at: float  # when playback must stop (the earlier of the two limits)


def remaining(t: LicenseTimes, now: float) -> tuple[float, float | None]:
    lic = max(0.0, t.expires_at - now)
    play = None if t.first_play_at is None else max(0.0, t.first_play_at + t.playback_duration_s - now)
    return lic, play


def evaluate(t: LicenseTimes, now: float, *, renew_margin_s: float = RENEW_MARGIN_S) -> Verdict:
    """May this download play at ``now`` (a trusted time from ``check_clock``)?"""
    lic, play = remaining(t, now)
    window_end = t.expires_at if t.first_play_at is None else min(t.expires_at, t.first_play_at + t.playback_duration_s)
    margin = min(renew_margin_s, 0.1 * max(0.0, t.expires_at - t.issued_at))
    renew_due = t.can_renew and not t.revoked and lic < margin
    if t.revoked:
        return Verdict(False, "license_revoked", "This download's license was withdrawn by the service "
                       "(for example the subscription ended).", lic, play, False, window_end)
    if now < t.issued_at - TOLERANCE_S:
        return Verdict(False, "clock_rollback", "Your computer's clock is earlier than the license's issue time. "
                       "Fix the clock or connect to the internet.", lic, play, renew_due, window_end)
    if lic <= 0:
        hint = " Connect to the internet to renew it." if t.can_renew else " Download it again to keep watching."
        return Verdict(False, "license_expired", "This download's license has expired." + hint, 0.0, play, renew_due,
                       window_end)
    if play is not None and play <= 0:
        hours = t.playback_duration_s / 3600
        return Verdict(False, "playback_window_over", f"The {hours:g}-hour viewing period of this download is over. "
                       "Download it again to keep watching.", lic, 0.0, renew_due, window_end)
    return Verdict(True, "", "", lic, play, renew_due, window_end)


def start_playback(t: LicenseTimes, now: float) -> LicenseTimes:
    """The first play starts the playback window."""
    return t if t.first_play_at is not None else replace(t, first_play_at=now)


def describe_remaining(seconds: float | None) -> str:
    if seconds is None:
        return "not started"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} min"
