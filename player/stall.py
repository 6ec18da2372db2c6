"""Stall detection for one download attempt, on the injected clock."""

from __future__ import annotations

import asyncio

from marquee.clock import Clock


class StallWatch:
    """Stall detection on the injected clock (httpx's read timeout measures real time only;
    this one also runs in virtual time): cancels the attempt when no byte came for
    ``stall`` seconds (before the response head: the connect budget as well)."""

    def __init__(self, clock: Clock, stall: float, activity: list[float]) -> None:
        self.clock = clock
        self.stall = stall
        self.activity = activity  # [attempt start, last byte received]
        self.headers_at: float | None = None
        self.paced_at = 0.0
        self.fired = False
        self._task = asyncio.current_task()
        self._timer = clock.call_later(self._budget(), self._check)

    def head_received(self, at: float) -> None:
        """From the response head on, the (shorter) read budget applies."""
        self.headers_at = at
        self._timer.cancel()
        self._timer = self.clock.call_later(self.stall, self._check)

    def _budget(self) -> float:
        return self.stall if self.headers_at is not None else max(1.0, self.stall) + self.stall

    def _check(self) -> None:
        idle = self.clock.monotonic() - max(self.activity[1], self.headers_at or 0.0, self.paced_at)
        budget = self._budget()
        if idle < budget:
            self._timer = self.clock.call_later(budget - idle, self._check)
            return
        self.fired = True
        if self._task is not None:
            self._task.cancel()

    def absorb(self) -> None:
        """The cancellation was ours: the task carries on (with a failed attempt)."""
        if self._task is not None:
            self._task.uncancel()

    def stop(self) -> None:
        self._timer.cancel()
