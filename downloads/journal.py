"""The downloads journal (SQLite, WAL, synchronous=FULL): the one source of truth about
what is downloaded. A file counts as finished only when its row says ``done=1``, which is
written after its encrypted blob is durable (the title's pack flushed, or its own file
fsynced and renamed into place); so after ``kill -9`` or a power cut, resuming refetches
exactly the files that are not marked done. ``pack_offset`` says where a finished file is:
at that offset of the title's pack, or (``NULL``) in its own file. ``source``,
``range_start`` and ``range_end`` say where a file is fetched from when it is a byte range
of another one (DASH SegmentBase); ``NULL``: the file's own ``path``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from downloads.plan import Plan
from marquee.sqlite import connect

STATES = ("queued", "downloading", "paused", "completed", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS downloads (
    id TEXT PRIMARY KEY, title_id TEXT NOT NULL, episode_id TEXT, label TEXT NOT NULL, media_id TEXT NOT NULL,
    quality TEXT NOT NULL, rung_id TEXT NOT NULL, height INTEGER NOT NULL, bandwidth INTEGER NOT NULL,
    audio TEXT NOT NULL, subtitles TEXT NOT NULL, duration_s REAL NOT NULL, state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '', path TEXT NOT NULL, license TEXT NOT NULL, license_id TEXT NOT NULL,
    first_play_at REAL, position_s REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    completed_at REAL);
CREATE TABLE IF NOT EXISTS files (
    download_id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
    est_bytes INTEGER NOT NULL, stored_bytes INTEGER, plain_bytes INTEGER, done INTEGER NOT NULL DEFAULT 0,
    pack_offset INTEGER, source TEXT, range_start INTEGER, range_end INTEGER, PRIMARY KEY (download_id, path));
CREATE TABLE IF NOT EXISTS pending_releases (license_id TEXT PRIMARY KEY, queued_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class DownloadRow:
    id: str
    title_id: str
    episode_id: str | None
    label: str
    media_id: str
    quality: str
    rung_id: str
    height: int
    bandwidth: int
    audio: tuple[str, ...]
    subtitles: tuple[str, ...]
    duration_s: float
    state: str
    message: str
    path: str
    license: dict[str, Any]
    license_id: str
    first_play_at: float | None
    position_s: float
    created_at: float
    updated_at: float
    completed_at: float | None


@dataclass(frozen=True)
class FileRow:
    path: str
    kind: str
    seq: int
    est_bytes: int
    stored_bytes: int | None
    plain_bytes: int | None
    done: bool
    pack_offset: int | None = None  # where the sealed blob starts in the title's pack; None: its own file
    source: str | None = None  # fetched from this path when not ``path`` itself
    range_start: int | None = None  # inclusive byte range of the source (both set or both None)
    range_end: int | None = None

    @property
    def url(self) -> str:
        """What to fetch (relative to the title's base URL)."""
        return self.source or self.path

    @property
    def byte_range(self) -> tuple[int, int] | None:
        if self.range_start is None or self.range_end is None:
            return None
        return self.range_start, self.range_end

    @property
    def range_bytes(self) -> int | None:
        """The size the fetch must have when it is a range."""
        return None if self.byte_range is None else self.byte_range[1] - self.byte_range[0] + 1


@dataclass(frozen=True)
class Totals:
    files: int
    files_done: int
    bytes_done: int  # stored (encrypted) bytes of finished files
    est_remaining: int  # estimated bytes of the files still to fetch


class Journal:
    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(path, timeout_s=10, synchronous="FULL", rows=True)
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Journals written before packs existed: every stored file is its own file (NULL).
        Before byte ranges: every file is fetched from its own path (NULL source and range)."""
        with self._lock:
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(files)")}
            for name, sql_type in (("pack_offset", "INTEGER"), ("source", "TEXT"), ("range_start", "INTEGER"),
                                   ("range_end", "INTEGER")):
                if name not in columns:
                    self._db.execute(f"ALTER TABLE files ADD COLUMN {name} {sql_type}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # downloads ------------------------------------------------------------------
    def create(self, download_id: str, *, title_id: str, episode_id: str | None, label: str, media_id: str,
               quality: str, plan: Plan, path: str, license: dict[str, Any], license_id: str, now: float) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM files WHERE download_id=?", (download_id,))
                self._db.execute("DELETE FROM downloads WHERE id=?", (download_id,))
                self._db.execute(
                    "INSERT INTO downloads(id, title_id, episode_id, label, media_id, quality, rung_id, height, "
                    "bandwidth, audio, subtitles, duration_s, state, path, license, license_id, created_at, "
                    "updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                    (download_id, title_id, episode_id, label, media_id, quality, plan.rung_id, plan.height,
                     plan.bandwidth, json.dumps(plan.audio), json.dumps(plan.subtitles), plan.duration_s, path,
                     json.dumps(license), license_id, now, now))
                self._db.executemany(
                    "INSERT INTO files(download_id, path, kind, seq, est_bytes, source, range_start, range_end) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                    [(download_id, f.path, f.kind, i, f.est_bytes, f.source,
                      f.byte_range[0] if f.byte_range else None, f.byte_range[1] if f.byte_range else None)
                     for i, f in enumerate(plan.files)])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def get(self, download_id: str) -> DownloadRow | None:
        rows = self._rows("SELECT * FROM downloads WHERE id=?", (download_id,))
        return self._row(rows[0]) if rows else None

    def all(self) -> list[DownloadRow]:
        return [self._row(r) for r in self._rows("SELECT * FROM downloads ORDER BY created_at, id")]

    def in_state(self, *states: str) -> list[DownloadRow]:
        marks = ",".join("?" * len(states))
        return [self._row(r) for r in self._rows(f"SELECT * FROM downloads WHERE state IN ({marks}) "
                                                 "ORDER BY created_at, id", states)]

    @staticmethod
    def _row(r: sqlite3.Row) -> DownloadRow:
        return DownloadRow(r["id"], r["title_id"], r["episode_id"], r["label"], r["media_id"], r["quality"],
                           r["rung_id"], r["height"], r["bandwidth"], tuple(json.loads(r["audio"])),
                           tuple(json.loads(r["subtitles"])), r["duration_s"], r["state"], r["message"], r["path"],
                           json.loads(r["license"]), r["license_id"], r["first_play_at"], r["position_s"],
                           r["created_at"], r["updated_at"], r["completed_at"])

    def set_state(self, download_id: str, state: str, now: float, message: str = "",
                  only_from: Sequence[str] | None = None) -> bool:
        assert state in STATES
        sql = "UPDATE downloads SET state=?, message=?, updated_at=?" + (", completed_at=?" if state == "completed" else "")
        args: list[Any] = [state, message, now] + ([now] if state == "completed" else [])
        sql += " WHERE id=?"
        args.append(download_id)
        if only_from:
            sql += f" AND state IN ({','.join('?' * len(only_from))})"
            args.extend(only_from)
        return self._exec(sql, args) > 0

    def set_license(self, download_id: str, license: dict[str, Any], now: float) -> None:
        self._exec("UPDATE downloads SET license=?, updated_at=? WHERE id=?", (json.dumps(license), now, download_id))

    def set_first_play(self, download_id: str, at: float) -> None:
        self._exec("UPDATE downloads SET first_play_at=? WHERE id=? AND first_play_at IS NULL", (at, download_id))

    def set_position(self, download_id: str, position_s: float, now: float) -> None:
        self._exec("UPDATE downloads SET position_s=?, updated_at=? WHERE id=?", (position_s, now, download_id))

    def delete(self, download_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM files WHERE download_id=?", (download_id,))
            self._db.execute("DELETE FROM downloads WHERE id=?", (download_id,))
            self._db.execute("COMMIT")

    # files ----------------------------------------------------------------------
    def files(self, download_id: str, *, done: bool | None = None) -> list[FileRow]:
        sql = "SELECT * FROM files WHERE download_id=?" + ("" if done is None else " AND done=?")
        args: tuple[Any, ...] = (download_id,) if done is None else (download_id, int(done))
        return [FileRow(r["path"], r["kind"], r["seq"], r["est_bytes"], r["stored_bytes"], r["plain_bytes"],
                        bool(r["done"]), r["pack_offset"], r["source"], r["range_start"], r["range_end"])
                for r in self._rows(sql + " ORDER BY seq", args)]

    def mark_done(self, download_id: str, path: str, stored_bytes: int, plain_bytes: int,
                  pack_offset: int | None = None) -> None:
        """Record a finished file (call only once its encrypted blob is durable)."""
        self.mark_done_many(download_id, [(path, stored_bytes, plain_bytes, pack_offset)])

    def mark_done_many(self, download_id: str, done: Sequence[tuple[str, int, int, int | None]]) -> None:
        """Record finished files ``(path, stored_bytes, plain_bytes, pack_offset)`` in one
        transaction (one fsync of the WAL): call only after their blobs are durable (the pack
        flushed; own files fsynced, renamed, and their directory fsynced)."""
        if not done:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE files SET done=1, stored_bytes=?, plain_bytes=?, pack_offset=? "
                    "WHERE download_id=? AND path=?",
                    [(stored, plain, offset, download_id, path) for path, stored, plain, offset in done])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def pack_end(self, download_id: str) -> int:
        """Where the last recorded blob of the title's pack ends: bytes beyond are unrecorded."""
        r = self._rows("SELECT COALESCE(MAX(pack_offset + stored_bytes), 0) AS e FROM files "
                       "WHERE download_id=? AND done=1 AND pack_offset IS NOT NULL", (download_id,))[0]
        return int(r["e"])

    def manifest_path(self, download_id: str) -> str:
        """The stored entry point of a download (its first file of kind ``manifest``)."""
        rows = self._rows("SELECT path FROM files WHERE download_id=? AND kind='manifest' ORDER BY seq LIMIT 1",
                          (download_id,))
        return str(rows[0]["path"]) if rows else "manifest.mpd"

    def totals(self, download_id: str) -> Totals:
        r = self._rows("SELECT COUNT(*) AS n, COALESCE(SUM(done), 0) AS d, "
                       "COALESCE(SUM(CASE WHEN done=1 THEN stored_bytes ELSE 0 END), 0) AS b, "
                       "COALESCE(SUM(CASE WHEN done=0 THEN est_bytes ELSE 0 END), 0) AS e "
                       "FROM files WHERE download_id=?", (download_id,))[0]
        return Totals(int(r["n"]), int(r["d"]), int(r["b"]), int(r["e"]))

    def stored_bytes_total(self) -> int:
        return int(self._rows("SELECT COALESCE(SUM(stored_bytes), 0) AS b FROM files WHERE done=1")[0]["b"])

    # releases made offline --------------------------------------------------------
    def queue_release(self, license_id: str, now: float) -> None:
        self._exec("INSERT OR IGNORE INTO pending_releases VALUES(?, ?)", (license_id, now))

    def pending_releases(self) -> list[str]:
        return [r["license_id"] for r in self._rows("SELECT license_id FROM pending_releases ORDER BY queued_at")]

    def release_sent(self, license_id: str) -> None:
        self._exec("DELETE FROM pending_releases WHERE license_id=?", (license_id,))
