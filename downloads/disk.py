"""A full disk, as the downloads see it: one error type, how to recognise it under its
other names (``ENOSPC``, SQLite's "database or disk is full" / "disk I/O error"), and
when a title stopped by it is tried again (pure: time is passed in).

A title that cannot even record that it stopped (the journal cannot grow) is held in the
manager's memory, never restarted in a loop: it is tried again on ``RetrySchedule``
(5 s, 10 s, 20 s ... 5 min) or as soon as the free space is back above what it needs.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass

from marquee.errors import StorageError

DISK_FULL_MESSAGE = "The disk is full: the download is paused. Free some space; it resumes by itself."
# SQLite's primary result codes for "no room" and "could not write" (an -shm or -wal that cannot grow)
_SQLITE_FULL, _SQLITE_IOERR = 13, 10


class DiskFull(StorageError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="disk_full", user_message=DISK_FULL_MESSAGE)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the journal's file) cannot grow."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR):
            return True
        text = str(exc).lower()
        return "disk is full" in text or "disk i/o error" in text
    return False


def as_disk_full(exc: BaseException) -> DiskFull:
    return exc if isinstance(exc, DiskFull) else DiskFull(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class RetrySchedule:
    first_s: float = 5.0
    factor: float = 2.0
    cap_s: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds before try number ``attempt + 1`` (attempt 0: the first retry)."""
        return min(self.cap_s, self.first_s * self.factor ** max(0, attempt))


@dataclass(frozen=True)
class Hold:
    """A title stopped by a full disk: tried again at ``retry_at``, or sooner once ``need_bytes``
    are free if the disk really was short of them when it stopped (``space_short``; an ENOSPC
    with room to spare, a quota say, waits for the schedule: the free space tells nothing)."""

    attempt: int
    retry_at: float
    need_bytes: int
    space_short: bool = True

    def due(self, now: float, free_bytes: int | None) -> bool:
        space_back = self.space_short and free_bytes is not None and free_bytes >= self.need_bytes
        return now >= self.retry_at or space_back


def next_hold(previous: Hold | None, now: float, need_bytes: int, free_bytes: int | None,
              schedule: RetrySchedule = RetrySchedule()) -> Hold:
    attempt = 0 if previous is None else previous.attempt + 1
    return Hold(attempt, now + schedule.delay(attempt), need_bytes,
                space_short=free_bytes is not None and free_bytes < need_bytes)
