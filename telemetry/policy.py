"""When to upload (pure: time is passed in). How long to wait after a failure is ``marquee.backoff``'s."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchPolicy:
    max_events: int = 512  # flush as soon as this many events wait
    max_wait_s: float = 5.0  # or when the oldest waiting event is this old
    max_queue_events: int = 200_000  # cap by size: oldest dropped first
    max_queue_age_s: float = 7 * 86400.0  # cap by age

    def due(self, waiting: int, oldest_age_s: float | None, closing: bool = False) -> bool:
        if waiting <= 0:
            return False
        return closing or waiting >= self.max_events or (oldest_age_s is not None and oldest_age_s >= self.max_wait_s)
