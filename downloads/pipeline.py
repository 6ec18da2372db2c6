"""The pieces of a title's download pipeline (``downloads.manager``): the pack being written
with its free-space watch (``PackSpace``), the turns titles take for fetch slots (``Turns``),
the batched commits (``GroupCommit``: one pack flush, then one journal transaction) and
``to_the_end`` (finish a step even if cancelled meanwhile)."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from typing import Awaitable, Callable

from downloads.disk import DiskFull
from downloads.journal import Journal
from downloads.storage import Pack


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


async def to_the_end(work: Awaitable[None]) -> None:
    """Await ``work`` to its end even if the caller is cancelled meanwhile (a pause arriving
    twice), then pass the cancellation on."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()


@dataclass(frozen=True)
class Stored:
    """A file sealed and written into the pack at ``offset``; not yet flushed nor recorded."""

    path: str
    stored_bytes: int
    plain_bytes: int
    offset: int


class PackSpace:
    """The title's pack being written: blobs go at its end, and the free space is looked at
    again once the room seen last time is used (at most every ``check_bytes``: a statvfs per
    file would cost more than it tells), keeping ``reserve`` bytes free."""

    def __init__(self, pack: Pack, end: int, free: Callable[[], int], reserve: int, check_bytes: int) -> None:
        self.pack = pack
        self._end = end
        self._free, self._reserve, self._check_bytes = free, reserve, check_bytes
        self._unchecked = 0  # bytes written since the free space was last looked at...
        self._allowance = 0  # ...and how much could be written then before looking again

    def append(self, blob: bytes | memoryview) -> int:
        """Write ``blob`` at the end; its offset. ``DiskFull`` when it would eat the reserve."""
        if self._unchecked + len(blob) > self._allowance:
            need = len(blob) + self._reserve
            free = self._free()
            if free < need:
                raise DiskFull(f"{_mb(free)} free, {_mb(need)} needed")
            self._allowance, self._unchecked = min(self._check_bytes, free - self._reserve), 0
        offset = self._end
        self.pack.write_at(offset, blob)
        self._end += len(blob)
        self._unchecked += len(blob)
        return offset


class Turns:
    """``slots`` titles fetch at once, taking turns in the order they were admitted: a title that
    got ready sooner does not overtake one queued before it, and one that ends (or is paused)
    before its turn lets the next one go."""

    def __init__(self, slots: int) -> None:
        self._free = max(1, slots)
        self._queue: collections.deque[Turn] = collections.deque()  # admitted, not yet fetching nor gone

    def admit(self) -> "Turn":
        turn = Turn(self)
        self._queue.append(turn)
        return turn

    def _wake(self) -> None:
        """Let the first title in line go, if a slot is free."""
        if self._queue and self._free > 0:
            self._queue[0].wake()


class Turn:
    """One title's turn: ``async with`` waits for it and holds a slot; ``pass_on`` (safe to
    call twice) takes the title out of the line when it ends without fetching."""

    def __init__(self, turns: Turns) -> None:
        self._turns = turns
        self._waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def __aenter__(self) -> None:
        turns = self._turns
        try:
            while not (turns._queue and turns._queue[0] is self and turns._free > 0):
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
            turns._free -= 1
        finally:
            self.pass_on()

    async def __aexit__(self, *exc: object) -> None:
        self._turns._free += 1
        self._turns._wake()

    def pass_on(self) -> None:
        if self in self._turns._queue:
            self._turns._queue.remove(self)
            self._turns._wake()


@dataclass
class Tally:
    files: int
    files_done: int
    bytes_done: int
    est_remaining: int


class GroupCommit:
    """Records stored files in the journal: one pack flush (fdatasync: the blobs written so
    far become durable) and then one transaction for everything stored since the last
    commit. A file is recorded only after a flush that followed its write."""

    def __init__(self, journal: Journal, pack: Pack, did: str, on_commit: Callable[[list[Stored]], None]) -> None:
        self.journal = journal
        self.pack = pack
        self.did = did
        self.on_commit = on_commit
        self.pending: dict[str, Stored] = {}
        self.recorded: set[str] = set()
        self.lock = asyncio.Lock()

    def add(self, item: Stored) -> None:
        if item.path not in self.recorded:
            self.pending[item.path] = item

    async def commit(self) -> None:
        """Returns once everything added before the call is recorded (by this call or by the
        commit that was running when it was made)."""
        async with self.lock:
            if not self.pending:
                return
            batch = list(self.pending.values())
            self.pending.clear()
            # Whole even if cancelled: a commit left running in its thread after the lock is
            # released could record blobs the clean-up has just cut off the pack.
            await to_the_end(self._record(batch))

    async def _record(self, batch: list[Stored]) -> None:
        await asyncio.to_thread(self._commit, batch)
        self.recorded.update(item.path for item in batch)
        self.on_commit(batch)

    def _commit(self, batch: list[Stored]) -> None:
        self.pack.flush()
        self.journal.mark_done_many(self.did, [(i.path, i.stored_bytes, i.plain_bytes, i.offset) for i in batch])
