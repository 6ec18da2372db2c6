"""Injected time.

Decision logic never reads the wall clock: it is handed a ``Clock``. Production
code uses ``SystemClock``; tests use ``FakeClock`` and jump it, so retry
schedules, license expiry, batching and the playback engine's waits run in
microseconds. Waiting is part of the clock too (``sleep``, ``call_later``): code
that waits through its clock runs in virtual time under a ``FakeClock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from typing import Any, Callable, Iterator, Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations)."""

    def wall(self) -> float:
        """Seconds since the Unix epoch (for timestamps and expiry)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (on the running asyncio loop)."""

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> TimerHandle:
        """Call ``callback`` on the running asyncio loop after ``seconds`` of this clock's time."""


class ThreadClock(Clock, Protocol):
    """A clock that threads other than the event loop's can wait on (the fake mpv's)."""

    def wait_in_thread(self, seconds: float, stop: threading.Event) -> bool:
        """Block this thread for ``seconds`` of clock time; True if ``stop`` was set first."""

    def working(self) -> contextlib.AbstractContextManager[None]:
        """While inside, this thread has work to do: a fake clock does not jump meanwhile."""

    def waiting(self) -> contextlib.AbstractContextManager[None]:
        """Inside ``working``: this thread now waits on something else (data, the clock)."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wait_in_thread(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))

    def working(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def waiting(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)


class _FakeTimer:
    def __init__(self, due: float, callback: Callable[[], Any]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told (``advance``), or by itself while the asyncio
    loop has nothing else to do (``run``: trio's autojump, for engine tests)."""

    def __init__(self, start_wall: float = 1_800_000_000.0, start_monotonic: float = 1000.0) -> None:
        self._wall = start_wall
        self._mono = start_monotonic
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._order = itertools.count()
        self._lock = threading.RLock()  # timers may be added from other threads
        self._working = 0  # threads busy outside the loop (``working``)

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due on the way, in order."""
        if seconds < 0:
            raise ValueError("monotonic time cannot go backwards")
        end = self._mono + seconds
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > end:
                    break
                due, _, timer = heapq.heappop(self._timers)
                self._wall += max(0.0, due - self._mono)
                self._mono = max(self._mono, due)
            if not timer.cancelled:
                timer.callback()
        self._wall += end - self._mono
        self._mono = end

    def set_wall(self, wall: float) -> None:
        """Turn the user's wall clock (as for a clock-rollback test); monotonic time is unaffected."""
        self._wall = wall

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> TimerHandle:
        with self._lock:
            timer = _FakeTimer(self._mono + max(0.0, seconds), callback)
            heapq.heappush(self._timers, (timer.due, next(self._order), timer))
        return timer

    def wait_in_thread(self, seconds: float, stop: threading.Event) -> bool:
        woke = threading.Event()

        def wake() -> None:
            woke.set()

        timer = self.call_later(seconds, wake)
        with self.waiting():
            while not woke.wait(0.01):
                if stop.is_set():
                    timer.cancel()
                    return True
        return stop.is_set()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        with self._lock:
            self._working += 1
        try:
            yield
        finally:
            with self._lock:
                self._working -= 1

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            self._working -= 1
        try:
            yield
        finally:
            with self._lock:
                self._working += 1

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    def next_due(self) -> float | None:
        """When the earliest pending timer fires (None: nothing is waiting on time)."""
        with self._lock:
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    async def run(self, awaitable: Any, *, limit_s: float = 3600.0) -> Any:
        """Await ``awaitable`` in virtual time: whenever every task on the loop waits,
        jump to the next timer. Real I/O (sockets) would look idle to it: use this only
        with in-memory transports and fakes. Raises ``TimeoutError`` after ``limit_s``
        of virtual time."""
        task = asyncio.ensure_future(awaitable)
        deadline = self._mono + limit_s
        real_deadline = time.monotonic() + 30.0  # a task waiting on nothing at all
        while not task.done():
            await _until_idle()
            if task.done():
                break
            if self._working:  # another thread is at work: let it finish before time moves
                await asyncio.sleep(0.0002)
                continue
            await asyncio.sleep(0.0002)  # a thread just woken (by a write) may start work
            if _loop_busy() or self._working:
                continue
            due = self.next_due()
            if due is None:
                if time.monotonic() > real_deadline:
                    task.cancel()
                    raise TimeoutError("every task waits, and not on the clock (a deadlock?)")
                await asyncio.sleep(0.001)  # another thread may have work for the loop
                continue
            if due > deadline:
                task.cancel()
                raise TimeoutError(f"still waiting after {limit_s} s of virtual time")
            self.advance(due - self._mono)
        return task.result()


def _loop_busy() -> bool:
    loop = asyncio.get_running_loop()
    return bool(getattr(loop, "_ready", ()))


async def _until_idle(max_rounds: int = 10_000) -> None:
    """Yield until no callback is ready to run (everything waits on time or on I/O)."""
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        if not _loop_busy():
            # One more round: a callback may have scheduled another one.
            await asyncio.sleep(0)
            if not _loop_busy():
                return
