"""The journal opens journals written before packs existed: their files are own files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from downloads.journal import Journal

BEFORE_PACKS = """
CREATE TABLE downloads (id TEXT PRIMARY KEY, title_id TEXT NOT NULL, episode_id TEXT, label TEXT NOT NULL,
    media_id TEXT NOT NULL, quality TEXT NOT NULL, rung_id TEXT NOT NULL, height INTEGER NOT NULL,
    bandwidth INTEGER NOT NULL, audio TEXT NOT NULL, subtitles TEXT NOT NULL, duration_s REAL NOT NULL,
    state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', path TEXT NOT NULL, license TEXT NOT NULL,
    license_id TEXT NOT NULL, first_play_at REAL, position_s REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, completed_at REAL);
CREATE TABLE files (download_id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
    est_bytes INTEGER NOT NULL, stored_bytes INTEGER, plain_bytes INTEGER, done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (download_id, path));
INSERT INTO files VALUES ('t001', 'v/seg-1.m4s', 'media', 1, 1000, 1052, 1000, 1);
INSERT INTO files VALUES ('t001', 'v/seg-2.m4s', 'media', 2, 1000, NULL, NULL, 0);
"""


def test_a_journal_from_before_packs_opens_with_own_files(tmp_path: Path) -> None:
    db = tmp_path / "downloads.sqlite3"
    with sqlite3.connect(db) as old:
        old.executescript(BEFORE_PACKS)
    journal = Journal(db)
    done = journal.files("t001", done=True)
    assert [(f.path, f.pack_offset) for f in done] == [("v/seg-1.m4s", None)]
    assert journal.pack_end("t001") == 0
    journal.mark_done("t001", "v/seg-2.m4s", 1052, 1000, pack_offset=0)  # resumed into a pack
    assert journal.pack_end("t001") == 1052
    journal.close()
    assert Journal(db).files("t001", done=True)[1].pack_offset == 0  # migrating twice is harmless
