"""The durable telemetry queue (SQLite WAL): events are on disk before they count as recorded.

- ``append`` commits events in one transaction (WAL, synchronous=NORMAL: a ``kill -9``
  of the process loses nothing committed); the queue is capped by count and age, the
  oldest events dropped first and counted in ``dropped_total`` (reported with every batch).
- ``next_batch`` returns the oldest open batch, or forms one from the oldest waiting
  events. Membership and id are written to disk before the first upload, so a batch
  retried after a crash is byte-for-byte the same batch with the same id and the
  collector can store it once.
- ``ack`` removes a stored batch; ``reject`` removes one the collector can never
  accept (4xx) and counts it in ``rejected_total``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from marquee import paths
from marquee.errors import StorageError
from marquee.sqlite import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, body TEXT NOT NULL,
                                   batch_id TEXT);
CREATE INDEX IF NOT EXISTS events_batch ON events(batch_id);
CREATE TABLE IF NOT EXISTS batches (batch_id TEXT PRIMARY KEY, first_id INTEGER NOT NULL, created REAL NOT NULL);
"""


def default_path() -> Path:
    return paths.data_dir() / "telemetry-queue.sqlite3"


@dataclass(frozen=True)
class Batch:
    batch_id: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class QueueStats:
    waiting: int
    open_batches: int
    dropped_total: int
    rejected_total: int
    oldest_created: float | None


class DurableQueue:
    def __init__(self, path: Path | str | None = None, *, max_events: int = 200_000,
                 max_age_s: float = 7 * 86400.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.max_events = max_events
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        try:
            self._db = connect(self.path, timeout_s=10, synchronous="NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the telemetry queue {self.path}: {exc}") from exc
        self._last_age_check = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _bump(self, key: str, n: int) -> None:
        if n:
            self._db.execute("INSERT INTO meta VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=value+excluded.value",
                             (key, n))

    def append(self, events: Sequence[dict[str, Any]], now: float) -> int:
        """Commit ``events`` (dicts, stored as JSON); returns how many older events were dropped."""
        if not events:
            return 0
        rows = [(now, json.dumps(e, separators=(",", ":"))) for e in events]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT INTO events(created, body) VALUES(?, ?)", rows)
                dropped = self._enforce_caps(now)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise StorageError(f"cannot record telemetry: {exc}") from exc
        return dropped

    def _drop_through(self, last_id: int) -> int:
        """Drop every event with id <= last_id, and the whole of any batch it touches."""
        batches = [r[0] for r in self._db.execute(
            "SELECT DISTINCT batch_id FROM events WHERE id<=? AND batch_id IS NOT NULL", (last_id,))]
        n = self._db.execute("DELETE FROM events WHERE id<=?", (last_id,)).rowcount
        for b in batches:
            n += self._db.execute("DELETE FROM events WHERE batch_id=?", (b,)).rowcount
            self._db.execute("DELETE FROM batches WHERE batch_id=?", (b,))
        return n

    def _enforce_caps(self, now: float) -> int:
        dropped = 0
        # two queries: SQLite answers MIN(id) or MAX(id) from the rowid b-tree, not both at once
        lo = self._db.execute("SELECT MIN(id) FROM events").fetchone()[0]
        hi = self._db.execute("SELECT MAX(id) FROM events").fetchone()[0]
        if lo is not None and hi - lo + 1 > self.max_events:
            count = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            excess = count - self.max_events
            if excess > 0:
                cut = self._db.execute("SELECT id FROM events ORDER BY id LIMIT 1 OFFSET ?", (excess - 1,)).fetchone()[0]
                dropped += self._drop_through(cut)
        if now - self._last_age_check >= 1.0:
            self._last_age_check = now
            oldest = self._db.execute("SELECT created FROM events ORDER BY id LIMIT 1").fetchone()
            old = None
            if oldest is not None and oldest[0] < now - self.max_age_s:
                old = self._db.execute("SELECT MAX(id) FROM events WHERE created<?",
                                       (now - self.max_age_s,)).fetchone()[0]
            if old is not None:
                dropped += self._drop_through(old)
        self._bump("dropped_total", dropped)
        return dropped

    def next_batch(self, max_events: int, now: float) -> Batch | None:
        with self._lock:
            row = self._db.execute("SELECT batch_id FROM batches ORDER BY first_id LIMIT 1").fetchone()
            if row is None:
                ids = [r[0] for r in self._db.execute(
                    "SELECT id FROM events WHERE batch_id IS NULL ORDER BY id LIMIT ?", (max_events,))]
                if not ids:
                    return None
                batch_id = uuid.uuid4().hex
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("UPDATE events SET batch_id=? WHERE id BETWEEN ? AND ? AND batch_id IS NULL",
                                 (batch_id, ids[0], ids[-1]))
                self._db.execute("INSERT INTO batches VALUES(?, ?, ?)", (batch_id, ids[0], now))
                self._db.execute("COMMIT")
            else:
                batch_id = row[0]
            bodies = [r[0] for r in self._db.execute("SELECT body FROM events WHERE batch_id=? ORDER BY id",
                                                     (batch_id,))]
        return Batch(batch_id, [json.loads(b) for b in bodies])

    def _finish(self, batch_id: str, counter: str | None) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            n = self._db.execute("DELETE FROM events WHERE batch_id=?", (batch_id,)).rowcount
            self._db.execute("DELETE FROM batches WHERE batch_id=?", (batch_id,))
            if counter:
                self._bump(counter, n)
            self._db.execute("COMMIT")
        return n

    def ack(self, batch_id: str) -> int:
        return self._finish(batch_id, None)

    def reject(self, batch_id: str) -> int:
        return self._finish(batch_id, "rejected_total")

    def stats(self) -> QueueStats:
        with self._lock:
            waiting, oldest = self._db.execute("SELECT COUNT(*), MIN(created) FROM events").fetchone()
            batches = self._db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
            return QueueStats(int(waiting), int(batches), self._meta("dropped_total"), self._meta("rejected_total"),
                              oldest)

    def counters(self) -> tuple[int, int]:
        with self._lock:
            return self._meta("dropped_total"), self._meta("rejected_total")


def delete_queue(path: Path | None = None) -> None:
    """Remove the queue's files (opt-out): the database and its WAL and shared-memory files."""
    path = path or default_path()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(str(path) + suffix)
        except FileNotFoundError:
            pass
