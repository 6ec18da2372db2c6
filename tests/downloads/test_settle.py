"""A title's clean-up (record what is written, then cut the rest off the pack) runs whole,
even when the title is cancelled twice (a pause seen twice, then the manager shutting down)."""

from __future__ import annotations

import asyncio

import pytest

from downloads.manager import _to_the_end


def test_clean_up_runs_to_the_end_through_a_second_cancel() -> None:
    steps: list[str] = []

    async def settle() -> None:
        await asyncio.sleep(0.05)
        steps.append("commit")
        await asyncio.sleep(0.05)
        steps.append("cut")

    async def title() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await _to_the_end(settle())

    async def main() -> None:
        task = asyncio.create_task(title())
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.02)
        task.cancel()  # lands in the middle of the clean-up
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert steps == ["commit", "cut"]


def test_clean_up_errors_reach_the_caller() -> None:
    async def broken() -> None:
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        asyncio.run(_to_the_end(broken()))


def test_turns_go_in_admission_order_and_a_title_that_ends_early_or_is_cancelled_passes_on() -> None:
    from downloads.manager import _Turns

    async def main() -> list[str]:
        turns = _Turns(1)
        order: list[str] = []
        a, b, c, d = (turns.admit() for _ in range(4))

        async def title(name: str, turn, ready_after: float, ends_early: bool = False) -> None:  # type: ignore[no-untyped-def]
            try:
                await asyncio.sleep(ready_after)
                if ends_early:
                    return
                async with turn:
                    order.append(name)
                    await asyncio.sleep(0.02)
            finally:
                turn.pass_on()

        waiting = asyncio.create_task(title("c", c, 0.0))  # ready first, but admitted third
        tasks = [asyncio.create_task(title("a", a, 0.01)), asyncio.create_task(title("b", b, 0.0, ends_early=True)),
                 waiting, asyncio.create_task(title("d", d, 0.0))]
        await asyncio.sleep(0.015)
        waiting.cancel()  # paused while waiting for its turn
        await asyncio.gather(*tasks, return_exceptions=True)
        return order

    assert asyncio.run(main()) == ["a", "d"]


def test_two_slots_let_two_titles_fetch_at_once() -> None:
    from downloads.manager import _Turns

    async def main() -> int:
        turns = _Turns(2)
        inside, most = [0], [0]

        async def title(turn) -> None:  # type: ignore[no-untyped-def]
            async with turn:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                await asyncio.sleep(0.01)
                inside[0] -= 1

        await asyncio.gather(*(title(turns.admit()) for _ in range(5)))
        return most[0]

    assert asyncio.run(main()) == 2
