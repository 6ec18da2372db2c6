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
