"""Resume positions: the merge rule across devices (pure; times are passed in).

One resume point is kept per (profile, title, episode). Devices report positions
with the time of the *viewing event* (when the user was at that position), their
device id and a per-device sequence number that only grows. The service keeps the
report that is newest by viewing time, so a report that arrives late (a laptop
that was offline) never overwrites a newer position from another device, while a
deliberate rewatch from the start (a newer event at a smaller position) wins.

Order of two reports ``a`` (incoming) and ``b`` (kept):

1. same device, both with a sequence number: the larger ``seq`` is newer (one
   device's own order never depends on its clock; a retried report is a duplicate);
2. otherwise the later ``event_time`` is newer; exact ties are broken by
   ``(device_id, seq)`` so every replica picks the same winner.

Clock skew: a client measures its offset to the service clock at each sync
(``offset = server_time - midpoint(send, receive)``) and reports ``client_time``
(its own wall clock at the event) with that ``offset_s``. The service computes
``event_time = client_time + offset_s``; a report without an offset (never synced)
uses the offset of the request itself (``received_at - sent_at``). The result is
clamped to ``received_at``: an event cannot be newer than its arrival, so a client
whose clock runs ahead cannot pin its position forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WATCHED_FRACTION = 0.90  # at or past this, the episode counts as watched
START_FRACTION = 0.05  # below this no resume point is kept
MIN_RESUME_S = 5.0  # nor below this many seconds

Verdict = Literal["first", "newer", "older", "duplicate"]


@dataclass(frozen=True)
class ProgressUpdate:
    profile_id: str
    title_id: str
    episode_id: str | None
    position_s: float
    duration_s: float
    event_time: float  # service clock, corrected and clamped (see module doc)
    device_id: str
    seq: int | None  # per-device sequence; None for reports without one (legacy history API)
    received_at: float
    client_time: float
    offset_s: float
    state: str = "playing"  # playing | paused | stopped | ended | seek
    credits: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.profile_id, self.title_id, self.episode_id or "")

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.position_s / self.duration_s)) if self.duration_s > 0 else 0.0

    @property
    def watched(self) -> bool:
        return self.credits or self.state == "ended" or self.fraction >= WATCHED_FRACTION

    @property
    def has_resume_point(self) -> bool:
        return not self.watched and self.fraction >= START_FRACTION and self.position_s >= MIN_RESUME_S

    def to_json(self) -> dict[str, object]:
        return {"title_id": self.title_id, "episode_id": self.episode_id, "position_s": round(self.position_s, 3),
                "duration_s": round(self.duration_s, 3), "fraction": round(self.fraction, 4),
                "watched": self.watched, "resume_s": round(self.position_s, 3) if self.has_resume_point else 0.0,
                "event_time": round(self.event_time, 3), "device_id": self.device_id, "seq": self.seq,
                "state": self.state, "received_at": round(self.received_at, 3)}


def corrected_time(client_time: float, offset_s: float | None, sent_at: float | None,
                   received_at: float) -> tuple[float, float]:
    """(event_time on the service clock, the offset used)."""
    if offset_s is None:
        offset_s = received_at - sent_at if sent_at is not None else 0.0
    return min(client_time + offset_s, received_at), offset_s


def _order(u: ProgressUpdate) -> tuple[float, str, int]:
    return (u.event_time, u.device_id, u.seq if u.seq is not None else -1)


def decide(current: ProgressUpdate | None, incoming: ProgressUpdate) -> Verdict:
    """Whether ``incoming`` replaces ``current`` (``first``/``newer``) or not (``older``/``duplicate``)."""
    if current is None:
        return "first"
    if incoming.device_id == current.device_id and incoming.seq is not None and current.seq is not None:
        if incoming.seq == current.seq:
            return "duplicate"
        return "newer" if incoming.seq > current.seq else "older"
    a, b = _order(incoming), _order(current)
    if a == b:
        return "duplicate"
    return "newer" if a > b else "older"


def history_position(update: ProgressUpdate) -> float:
    """The position written to the watch history (which feeds Continue Watching and the
    playback API's resume point): a watched episode is recorded at its end, a position
    under the minimum at 0, so the rows apply the same watched/too-early rules."""
    if update.watched:
        return update.duration_s
    if update.position_s < MIN_RESUME_S:
        return 0.0
    return min(update.position_s, update.duration_s)
