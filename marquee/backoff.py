"""How long to wait after a failed upload, and whether to retry it at all (pure).

Shared by the telemetry uploader and the position sync (one policy, below both);
randomness is passed in so schedules replay in tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ack", "reject", "retry"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n)),
    never less than ``floor``."""

    base_s: float = 0.5
    cap_s: float = 60.0
    floor_s: float = 0.05

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        return max(self.floor_s, rng.uniform(0.0, ceiling))


def classify(status: int | None) -> Outcome:
    """What an upload's answer means for its batch. ``None`` = no answer (network error, timeout).

    2xx: stored (or stored before: the collector is idempotent). A 4xx other than 408/429
    means this batch can never be accepted (malformed, too large): drop it and count it,
    so it cannot block the queue. Everything else is retried with backoff.
    """
    if status is None:
        return "retry"
    if 200 <= status < 300:
        return "ack"
    if 400 <= status < 500 and status not in (408, 425, 429):
        return "reject"
    return "retry"
