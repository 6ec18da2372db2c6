"""How every SQLite database of Marquee is opened (the app's journal, positions and telemetry
queue, and the reference service's store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from marquee.private_files import private_file


def connect(path: Path | str, *, timeout_s: float, synchronous: str | None = None,
            rows: bool = False) -> sqlite3.Connection:
    """Autocommit (transactions are explicit ``BEGIN``s), usable from several threads (each
    store serializes its own calls with a lock), WAL for file databases, and ``synchronous``
    when given (FULL where a commit must survive a power cut, NORMAL where ``kill -9`` is
    enough). ``timeout_s``: how long a call waits for another process's lock. ``rows``:
    rows as ``sqlite3.Row``. A file database is created 0600 (its -wal and -shm files take
    its mode), or tightened to 0600 when found looser."""
    if str(path) != ":memory:":
        private_file(Path(path))
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=timeout_s)
    if rows:
        db.row_factory = sqlite3.Row
    if str(path) != ":memory:":
        db.execute("PRAGMA journal_mode=WAL")
    if synchronous is not None:
        db.execute(f"PRAGMA synchronous={synchronous}")
    return db
