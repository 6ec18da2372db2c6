"""Per-OCA statistics persisted across sessions (SQLite), so a cold start is not blind.

Keyed by origin (``scheme://host:port``): the same edge server keeps its history
whatever id or signed path a playback API gives it next time. Only a hint: a store that
cannot be opened or written (a full disk) is skipped with a log line, never a reason not
to play.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from player.oca.ranking import OcaStats

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oca_stats (
    origin TEXT PRIMARY KEY,
    throughput_bps REAL,
    latency_s REAL,
    successes INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    updated_at REAL NOT NULL
)
"""

MAX_AGE_S = 30 * 86400  # forget edges not seen for a month
log = logging.getLogger("marquee.oca")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class OcaStatsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.usable = True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            log.warning("OCA statistics not kept this time (%s: %s)", path, exc)
            self.usable = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def load(self, now: float | None = None) -> dict[str, OcaStats]:
        cutoff = (time.time() if now is None else now) - MAX_AGE_S
        if not self.usable:
            return {}
        try:
            with self._connect() as db:
                rows = db.execute(
                    "SELECT origin, throughput_bps, latency_s, successes, failures FROM oca_stats "
                    "WHERE updated_at >= ?", (cutoff,),
                ).fetchall()
        except sqlite3.Error as exc:
            log.warning("OCA statistics not read (%s)", exc)
            return {}
        return {
            origin: OcaStats(throughput_bps=tp, latency_s=lat, successes=ok, failures=bad)
            for origin, tp, lat, ok, bad in rows
        }

    def save(self, stats: Mapping[str, OcaStats], now: float | None = None) -> None:
        stamp = time.time() if now is None else now
        if not self.usable:
            return
        try:
            self._save(stats, stamp)
        except sqlite3.Error as exc:
            log.warning("OCA statistics not saved (%s)", exc)

    def _save(self, stats: Mapping[str, OcaStats], stamp: float) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT INTO oca_stats(origin, throughput_bps, latency_s, successes, failures, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET "
                "throughput_bps=excluded.throughput_bps, latency_s=excluded.latency_s, "
                "successes=excluded.successes, failures=excluded.failures, updated_at=excluded.updated_at",
                [
                    (origin, s.throughput_bps, s.latency_s, s.successes, s.failures, stamp)
                    for origin, s in stats.items()
                    if s.successes or s.failures
                ],
            )
