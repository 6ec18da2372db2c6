"""The client's local position store (SQLite WAL, its own file): positions, outbox, sequence.

- ``positions``: the latest local position per (profile, title, episode), with ``dirty``
  while it has not been handed to the outbox (a crash between two sends leaves the
  last few seconds here; ``recover`` queues them at the next start).
- ``outbox``: reports for the service, oldest first; removed once the service answered.
- ``meta``: the per-device sequence counter and the last measured clock offset.

Every write is one transaction, committed before the call returns (WAL,
synchronous=NORMAL: survives ``kill -9`` of the process). Streaming needs no disk: a store
that cannot be opened or written (a full disk) goes on in memory (``in_memory``), so
positions are still recorded for this session and sent to the service.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marquee import paths
from marquee.errors import StorageError
from marquee.sqlite import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (profile_id TEXT NOT NULL, title_id TEXT NOT NULL, episode_key TEXT NOT NULL,
    report TEXT NOT NULL, recorded_at REAL NOT NULL, dirty INTEGER NOT NULL,
    PRIMARY KEY (profile_id, title_id, episode_key));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, profile_id TEXT NOT NULL, report TEXT NOT NULL);
"""
MAX_OUTBOX = 20_000
log = logging.getLogger("marquee.sync")


def default_path() -> Path:
    return paths.data_dir() / "sync.sqlite3"


@dataclass(frozen=True)
class ContentKey:
    profile_id: str
    title_id: str
    episode_id: str | None = None

    def tuple(self) -> tuple[str, str, str]:
        return (self.profile_id, self.title_id, self.episode_id or "")


class LocalStore:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        self.in_memory = False
        try:
            self._db = connect(self.path, timeout_s=5, synchronous="NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            log.warning("cannot open the position store %s (%s): positions kept in memory", self.path, exc)
            self._db = self._memory()

    def _memory(self) -> sqlite3.Connection:
        self.in_memory = True
        db = connect(":memory:", timeout_s=5)
        db.executescript(SCHEMA)
        return db

    def _to_memory(self, exc: sqlite3.Error) -> None:
        """Writing failed (a full disk): carry on in memory with the sequence, the clock offset
        and what was still to send (called with the lock held)."""
        old = self._db
        self._db = self._memory()
        log.warning("cannot write the position store (%s): positions kept in memory from now on", exc)
        try:
            for table in ("meta", "positions", "outbox"):
                rows = old.execute(f"SELECT * FROM {table}").fetchall()
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES({marks})", rows)
            old.close()
        except sqlite3.Error as copy_exc:
            log.warning("position store: could not copy it into memory: %s", copy_exc)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))

    def offset_s(self) -> float | None:
        with self._lock:
            value = self._meta("offset_s")
        return float(value) if value is not None else None

    def set_offset(self, offset_s: float) -> None:
        with self._lock:
            self._set_meta("offset_s", repr(float(offset_s)))

    def record(self, key: ContentKey, report: dict[str, Any], send: bool) -> dict[str, Any]:
        """Stamp ``report`` with the next sequence number and store it (and queue it when
        ``send``); returns the stamped report. On a full disk, in memory from then on."""
        try:
            return self._record(key, report, send)
        except StorageError as exc:
            if self.in_memory or not isinstance(exc.__cause__, sqlite3.OperationalError):
                raise
            with self._lock:
                self._to_memory(exc.__cause__)
            return self._record(key, report, send)

    def _record(self, key: ContentKey, report: dict[str, Any], send: bool) -> dict[str, Any]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                seq = int(self._meta("seq") or 0) + 1
                self._set_meta("seq", str(seq))
                stamped = {**report, "seq": seq}
                text = json.dumps(stamped, separators=(",", ":"))
                self._db.execute("INSERT OR REPLACE INTO positions VALUES(?, ?, ?, ?, ?, ?)",
                                 (*key.tuple(), text, float(report["client_time"]), 0 if send else 1))
                if send:
                    self._db.execute("INSERT INTO outbox(profile_id, report) VALUES(?, ?)", (key.profile_id, text))
                    self._db.execute("DELETE FROM outbox WHERE id <= (SELECT MAX(id) FROM outbox) - ?", (MAX_OUTBOX,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StorageError(f"cannot record a position: {exc}") from exc
        return stamped

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def recover(self) -> int:
        """Queue the positions recorded but never sent (the process died between sends)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute("SELECT profile_id, report FROM positions WHERE dirty=1").fetchall()
            self._db.executemany("INSERT INTO outbox(profile_id, report) VALUES(?, ?)", rows)
            self._db.execute("UPDATE positions SET dirty=0 WHERE dirty=1")
            self._db.execute("COMMIT")
        return len(rows)

    def pending(self, limit: int = 200) -> list[tuple[int, str, dict[str, Any]]]:
        """(outbox id, profile id, report), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id, profile_id, report FROM outbox ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def done(self, ids: list[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE id=?", [(i,) for i in ids])

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def position(self, key: ContentKey) -> dict[str, Any] | None:
        """The latest local record for ``key``."""
        with self._lock:
            row = self._db.execute("SELECT report FROM positions WHERE profile_id=? AND title_id=? AND episode_key=?",
                                   key.tuple()).fetchone()
        return json.loads(row[0]) if row else None
