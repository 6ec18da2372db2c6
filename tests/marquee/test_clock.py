"""The injected clock: timers and sleeps in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from marquee.clock import FakeClock, SystemClock


def test_advance_fires_due_timers_in_order_and_skips_cancelled() -> None:
    clock = FakeClock(start_monotonic=0.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(2.0, lambda: fired.append(("b", clock.monotonic())))
    clock.call_later(1.0, lambda: fired.append(("a", clock.monotonic())))
    clock.call_later(1.5, lambda: fired.append(("x", clock.monotonic()))).cancel()
    clock.advance(1.2)
    assert fired == [("a", 1.0)]
    clock.advance(5.0)
    assert fired == [("a", 1.0), ("b", 2.0)]
    assert clock.monotonic() == 6.2


def test_run_jumps_time_while_everything_waits() -> None:
    clock = FakeClock(start_monotonic=0.0)

    async def scenario() -> list[float]:
        seen = []
        for delay in (0.5, 10.0, 3600.0 - 11):
            await clock.sleep(delay)
            seen.append(clock.monotonic())
        return seen

    async def main() -> list[float]:
        return await clock.run(scenario(), limit_s=7200)

    assert asyncio.run(main()) == [0.5, 10.5, 3600.0 - 0.5]


def test_run_gives_up_after_its_virtual_limit() -> None:
    clock = FakeClock(start_monotonic=0.0)

    async def main() -> None:
        await clock.run(clock.sleep(100.0), limit_s=10.0)

    with pytest.raises(TimeoutError, match="virtual time"):
        asyncio.run(main())


def test_concurrent_sleepers_wake_at_their_own_times() -> None:
    clock = FakeClock(start_monotonic=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float) -> None:
        await clock.sleep(delay)
        woke.append((name, clock.monotonic()))

    async def main() -> None:
        await clock.run(asyncio.gather(sleeper("slow", 2.0), sleeper("fast", 0.25)))

    asyncio.run(main())
    assert woke == [("fast", 0.25), ("slow", 2.0)]


def test_system_clock_sleep_and_call_later() -> None:
    clock = SystemClock()

    async def main() -> bool:
        done = asyncio.Event()
        clock.call_later(0.0, done.set)
        await clock.sleep(0.0)
        await asyncio.wait_for(done.wait(), 1.0)
        return done.is_set()

    assert asyncio.run(main())
