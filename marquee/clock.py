"""Injected time.

Decision logic never reads the wall clock: it is handed a ``Clock``. Production
code uses ``SystemClock``; tests use ``FakeClock`` and jump it, so retry
schedules, license expiry and batching run in microseconds.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations)."""

    def wall(self) -> float:
        """Seconds since the Unix epoch (for timestamps and expiry)."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class FakeClock:
    def __init__(self, start_wall: float = 1_800_000_000.0, start_monotonic: float = 1000.0) -> None:
        self._wall = start_wall
        self._mono = start_monotonic

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("monotonic time cannot go backwards")
        self._mono += seconds
        self._wall += seconds

    def set_wall(self, wall: float) -> None:
        """Turn the user's wall clock (as for a clock-rollback test); monotonic time is unaffected."""
        self._wall = wall
