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

import contextlib
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from downloads.disk import as_disk_full, is_disk_full
from downloads.plan import Plan
from marquee.errors import StorageError
from marquee.sqlite import connect

log = logging.getLogger("marquee.downloads")

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
CREATE TABLE IF NOT EXISTS license_intents (content_id TEXT PRIMARY KEY, started_at REAL NOT NULL, license_id TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    first_play_seal: str | None = None  # HMAC of the first-play time under a device key (drm.timemark)


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
    """``read_only``: for the paths that must work on a full disk (listing, offline play,
    verify): nothing is created or migrated, and a journal whose ``-shm`` cannot be
    created is still read (see ``_open_read_only``). Its writes raise ``StorageError``."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self._lock = threading.RLock()
        self.read_only = read_only
        if read_only:
            self._db = _open_read_only(Path(path))
            return
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = connect(path, timeout_s=10, synchronous="FULL", rows=True)
            self._db.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            if is_disk_full(exc):
                raise as_disk_full(exc) from exc
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` .. ``COMMIT``; on failure rolled back only if still open (SQLite
        ends a transaction itself on SQLITE_FULL, and a second ROLLBACK's "no transaction is
        active" used to hide the real error); a full disk comes out as ``DiskFull``."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                if is_disk_full(exc):
                    raise as_disk_full(exc) from exc
                raise

    def _migrate(self) -> None:
        """Journals written before packs existed: every stored file is its own file (NULL).
        Before byte ranges: every file is fetched from its own path (NULL source and range)."""
        with self._lock:
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(files)")}
            for name, sql_type in (("pack_offset", "INTEGER"), ("source", "TEXT"), ("range_start", "INTEGER"),
                                   ("range_end", "INTEGER")):
                if name not in columns:
                    self._db.execute(f"ALTER TABLE files ADD COLUMN {name} {sql_type}")
            if "first_play_seal" not in {r["name"] for r in self._db.execute("PRAGMA table_info(downloads)")}:
                self._db.execute("ALTER TABLE downloads ADD COLUMN first_play_seal TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            try:
                return self._db.execute(sql, args).rowcount
            except sqlite3.Error as exc:
                if is_disk_full(exc):
                    raise as_disk_full(exc) from exc
                if self.read_only:
                    raise StorageError(f"the journal is open read-only: {exc}") from exc
                raise

    # downloads ------------------------------------------------------------------
    def create(self, download_id: str, *, title_id: str, episode_id: str | None, label: str, media_id: str,
               quality: str, plan: Plan, path: str, license: dict[str, Any], license_id: str, now: float,
               done: Sequence[tuple[str, int, int, int | None]] = ()) -> None:
        """The download's row and files (``done``: those already stored, as ``mark_done_many``),
        in one transaction that also ends the license's intent."""
        with self._transaction() as db:
            db.execute("DELETE FROM files WHERE download_id=?", (download_id,))
            db.execute("DELETE FROM downloads WHERE id=?", (download_id,))
            db.execute("DELETE FROM license_intents WHERE content_id=?", (download_id,))
            db.execute(
                "INSERT INTO downloads(id, title_id, episode_id, label, media_id, quality, rung_id, height, "
                "bandwidth, audio, subtitles, duration_s, state, path, license, license_id, created_at, "
                "updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (download_id, title_id, episode_id, label, media_id, quality, plan.rung_id, plan.height,
                 plan.bandwidth, json.dumps(plan.audio), json.dumps(plan.subtitles), plan.duration_s, path,
                 json.dumps(license), license_id, now, now))
            db.executemany(
                "INSERT INTO files(download_id, path, kind, seq, est_bytes, source, range_start, range_end) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                [(download_id, f.path, f.kind, i, f.est_bytes, f.source,
                  f.byte_range[0] if f.byte_range else None, f.byte_range[1] if f.byte_range else None)
                 for i, f in enumerate(plan.files)])
            db.executemany("UPDATE files SET done=1, stored_bytes=?, plain_bytes=?, pack_offset=? "
                           "WHERE download_id=? AND path=?",
                           [(stored, plain, offset, download_id, path) for path, stored, plain, offset in done])

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
                           r["created_at"], r["updated_at"], r["completed_at"],
                           r["first_play_seal"] if "first_play_seal" in r.keys() else None)

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

    def set_first_play(self, download_id: str, at: float, seal: str) -> None:
        """The first play, with its seal (``drm.timemark.seal_first_play``); never moved once set."""
        self._exec("UPDATE downloads SET first_play_at=?, first_play_seal=? WHERE id=? AND first_play_at IS NULL",
                   (at, seal, download_id))

    def set_position(self, download_id: str, position_s: float, now: float) -> None:
        self._exec("UPDATE downloads SET position_s=?, updated_at=? WHERE id=?", (position_s, now, download_id))

    def delete(self, download_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM files WHERE download_id=?", (download_id,))
            db.execute("DELETE FROM downloads WHERE id=?", (download_id,))

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
        with self._transaction() as db:
            db.executemany(
                "UPDATE files SET done=1, stored_bytes=?, plain_bytes=?, pack_offset=? "
                "WHERE download_id=? AND path=?",
                [(stored, plain, offset, download_id, path) for path, stored, plain, offset in done])

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

    # licenses asked for but not yet in ``downloads`` (the two-step protocol) ---------
    def record_intent(self, content_id: str, now: float) -> None:
        """Durably, before the license request: a crash after it leaves a trace to reconcile."""
        self._exec("INSERT OR REPLACE INTO license_intents VALUES(?, ?, NULL)", (content_id, now))

    def intent_license(self, content_id: str, license_id: str) -> None:
        self._exec("UPDATE license_intents SET license_id=? WHERE content_id=?", (license_id, content_id))

    def intents(self) -> dict[str, str | None]:
        """content id -> license id (None: the request may or may not have reached the service)."""
        if not self._has_table("license_intents"):
            return {}
        return {r["content_id"]: r["license_id"] for r in self._rows("SELECT * FROM license_intents")}

    def drop_intent(self, content_id: str) -> None:
        self._exec("DELETE FROM license_intents WHERE content_id=?", (content_id,))

    def license_ids(self) -> set[str]:
        """Every license this journal answers for (downloads and releases still to send)."""
        return ({r["license_id"] for r in self._rows("SELECT license_id FROM downloads")}
                | set(self.pending_releases()))

    # small sealed records (the trusted-time mark's sequence) --------------------------
    def meta(self, key: str) -> str | None:
        if not self._has_table("meta"):
            return None
        rows = self._rows("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._exec("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))

    def _has_table(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)))


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` only to read it, even on a full disk. A WAL database needs its ``-shm``
    index, which SQLite creates (and sizes) on open: on a full disk that fails ("disk I/O
    error") even with ``mode=ro``. Then: exclusive locking mode, where SQLite keeps the index
    in memory and still reads what the WAL holds (it waits for another process's lock up
    to the timeout); and if even that fails and the WAL is empty, ``immutable=1``."""
    if not path.exists():
        raise StorageError(f"no journal at {path}", user_message="There are no downloads on this computer yet.")
    uri = path.resolve().as_uri()
    attempts: list[tuple[str, str | None]] = [(uri + "?mode=ro", None), (uri, "PRAGMA locking_mode=EXCLUSIVE")]
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        attempts.append((uri + "?immutable=1", None))
    last: sqlite3.Error | None = None
    for target, pragma in attempts:
        db = sqlite3.connect(target, uri=True, check_same_thread=False, isolation_level=None, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            if pragma:
                db.execute(pragma)
            db.execute("SELECT COUNT(*) FROM downloads").fetchone()
            return db
        except sqlite3.Error as exc:
            db.close()
            last = exc
            log.info("journal %s: read-only open (%s) failed: %s", path, target.rpartition("?")[2] or "rw", exc)
    raise StorageError(f"cannot read the journal {path}: {last}",
                       user_message="Marquee cannot read its list of downloads (the disk may be full or damaged).")
