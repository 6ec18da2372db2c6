"""When a playing position is recorded locally and when it is sent (pure; time is passed in).

- Locally (SQLite): every ``record_every_s`` while playing, and at once on pause, seek,
  stop, end of the episode, episode change and quit.
- To the service: the first report ``first_send_s`` (3 s) after playback starts, then
  every ``send_every_s`` (10 s) while playing, and at once on pause, stop, end and quit
  (a seek is recorded locally and goes with the next send). Each bound holds to within
  one engine snapshot (a few hundred ms), whatever ``record_every_s`` is: a send is due on
  its own clock, not on the next local record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """One position to record: ``send`` says whether it also goes to the service now."""

    position_s: float
    duration_s: float
    state: str  # playing | paused | seek | stopped | ended
    send: bool


class ReportPolicy:
    def __init__(self, record_every_s: float = 3.0, send_every_s: float = 10.0, first_send_s: float = 3.0) -> None:
        self.record_every_s = record_every_s
        self.send_every_s = send_every_s
        self.first_send_s = first_send_s
        self.reset()

    def reset(self) -> None:
        self._last_record: float | None = None
        self._next_send: float | None = None
        self._state = ""
        self.position_s = 0.0
        self.duration_s = 0.0
        self.played = False  # anything played in this session (nothing is reported before)

    def _mark(self, now: float, state: str, send: bool) -> Mark:
        self._last_record = now
        if send:
            self._next_send = now + self.send_every_s
        return Mark(self.position_s, self.duration_s, state, send)

    def snapshot(self, now: float, state: str, position_s: float, duration_s: float) -> Mark | None:
        """A snapshot of the engine (state is a ``PlaybackState`` value)."""
        previous, self._state = self._state, state
        if duration_s > 0:
            self.duration_s = duration_s
        if self.duration_s <= 0:
            return None
        if state in ("playing", "paused"):
            self.position_s = position_s
        if state == "playing":
            self.played = True
            if self._next_send is None:
                self._next_send = now + self.first_send_s  # playback starts: the first send is due soon
            send = now >= self._next_send
            if send or self._last_record is None or now - self._last_record >= self.record_every_s:
                return self._mark(now, "playing", send)
            return None
        if state == "paused" and previous != "paused" and self.played:
            return self._mark(now, "paused", True)
        if state == "ended" and previous != "ended" and self.played:
            self.position_s = self.duration_s
            return self._mark(now, "ended", True)
        return None

    def seek(self, now: float, to_s: float) -> Mark | None:
        if self.duration_s <= 0:
            return None
        self.position_s = max(0.0, to_s)
        self.played = True  # a deliberate seek (e.g. back to the start) is worth keeping
        return self._mark(now, "seek", False)

    def stop(self, now: float) -> Mark | None:
        """Stop, episode change or quit: the last known position, sent at once."""
        if not self.played or self.duration_s <= 0 or self._state == "ended":
            return None
        return self._mark(now, "stopped", True)
