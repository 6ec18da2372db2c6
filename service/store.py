"""The service's SQLite storage (WAL). The only module here that imports sqlite3.

Schema changes are appended to ``MIGRATIONS`` (never edited): later features
(licenses, sync, telemetry) add their tables the same way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from contract import to_builtins
from contract.catalog import Profile as ContractProfile
from marquee.sqlite import connect
from service.progress import ProgressUpdate, Verdict, decide, history_position
from service.rows import WatchEvent

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                           created_at REAL NOT NULL);
    CREATE TABLE profiles (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
                           name TEXT NOT NULL, avatar_color TEXT NOT NULL, maturity TEXT NOT NULL,
                           taste TEXT NOT NULL DEFAULT '[]', position INTEGER NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE devices (account_id TEXT NOT NULL REFERENCES accounts(id), device_id TEXT NOT NULL,
                          name TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL,
                          PRIMARY KEY (account_id, device_id));
    CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, device_id TEXT NOT NULL,
                                 expires_at REAL NOT NULL);
    CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, profile_id TEXT NOT NULL REFERENCES profiles(id),
                          title_id TEXT NOT NULL, episode_id TEXT, position_s REAL NOT NULL,
                          duration_s REAL NOT NULL, watched_at REAL NOT NULL);
    CREATE INDEX history_profile ON history(profile_id, watched_at);
    """,
    # resume-position sync (service/progress.py): the merged position per (profile, title, episode)
    """
    CREATE TABLE progress (profile_id TEXT NOT NULL REFERENCES profiles(id), title_id TEXT NOT NULL,
                           episode_key TEXT NOT NULL, episode_id TEXT, position_s REAL NOT NULL,
                           duration_s REAL NOT NULL, event_time REAL NOT NULL, device_id TEXT NOT NULL, seq INTEGER,
                           received_at REAL NOT NULL, client_time REAL NOT NULL, offset_s REAL NOT NULL,
                           state TEXT NOT NULL, credits INTEGER NOT NULL,
                           PRIMARY KEY (profile_id, title_id, episode_key));
    """,
    # QoE telemetry collector (service/telemetry_store.py): batches are stored once by batch id
    """
    CREATE TABLE telemetry_batches (batch_id TEXT PRIMARY KEY, installation_id TEXT NOT NULL,
                                    received_at REAL NOT NULL, schema INTEGER NOT NULL, events INTEGER NOT NULL,
                                    dropped_total INTEGER NOT NULL, rejected_total INTEGER NOT NULL);
    CREATE TABLE telemetry_events (batch_id TEXT NOT NULL, idx INTEGER NOT NULL, session_id TEXT NOT NULL,
                                   seq INTEGER NOT NULL, kind TEXT NOT NULL, ts REAL NOT NULL, day TEXT NOT NULL,
                                   title_id TEXT, data TEXT NOT NULL, PRIMARY KEY (batch_id, idx));
    CREATE INDEX telemetry_events_day ON telemetry_events(day, session_id);
    """,
    # offline licenses (service/licensing.py, service/api/licenses.py)
    """
    CREATE TABLE license_devices (account_id TEXT NOT NULL, device_id TEXT NOT NULL, public_key TEXT NOT NULL,
                                  registered_at REAL NOT NULL, PRIMARY KEY (account_id, device_id));
    CREATE TABLE content_keys (content_id TEXT PRIMARY KEY, key_hex TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE licenses (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, device_id TEXT NOT NULL,
                           title_id TEXT NOT NULL, episode_id TEXT, content_id TEXT NOT NULL, media_id TEXT NOT NULL,
                           issued_at REAL NOT NULL, expires_at REAL NOT NULL, state TEXT NOT NULL,
                           renewals INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL);
    CREATE INDEX licenses_account ON licenses(account_id, state);
    CREATE TABLE license_accounts (account_id TEXT PRIMARY KEY, lapsed_at REAL);
    """,
    # a license is bound to the device key it was wrapped for (a device is its key, not its id)
    """
    ALTER TABLE licenses ADD COLUMN device_key TEXT NOT NULL DEFAULT '';
    """,
]


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password_hash: str


@dataclass(frozen=True)
class Profile:
    id: str
    account_id: str
    name: str
    avatar_color: str
    maturity: str
    taste: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = to_builtins(ContractProfile(self.id, self.name, self.avatar_color, self.maturity))
        return body


class Store:
    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        self._db = connect(path, timeout_s=5, rows=True)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={i}; COMMIT;")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # meta
    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._exec("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                   (key, value))

    # accounts and profiles
    def create_account(self, email: str, password_hash: str, now: float) -> str:
        account_id = "a" + uuid.uuid4().hex[:12]
        self._exec("INSERT INTO accounts VALUES(?, ?, ?, ?)", (account_id, email.lower(), password_hash, now))
        return account_id

    def account_by_email(self, email: str) -> Account | None:
        rows = self._rows("SELECT id, email, password_hash FROM accounts WHERE email=?", (email.lower(),))
        return Account(rows[0]["id"], rows[0]["email"], rows[0]["password_hash"]) if rows else None

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        self._exec("UPDATE accounts SET password_hash=? WHERE id=?", (password_hash, account_id))

    def create_profile(self, account_id: str, name: str, avatar_color: str, maturity: str,
                       taste: Sequence[str], now: float) -> Profile:
        with self._lock:
            pos = self._db.execute("SELECT COUNT(*) FROM profiles WHERE account_id=?", (account_id,)).fetchone()[0]
            pid = "p" + uuid.uuid4().hex[:12]
            self._db.execute("INSERT INTO profiles VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                             (pid, account_id, name, avatar_color, maturity, json.dumps(list(taste)), pos, now))
        return Profile(pid, account_id, name, avatar_color, maturity, tuple(taste))

    def profiles(self, account_id: str) -> list[Profile]:
        return [self._profile(r) for r in
                self._rows("SELECT * FROM profiles WHERE account_id=? ORDER BY position", (account_id,))]

    def profile(self, profile_id: str) -> Profile | None:
        rows = self._rows("SELECT * FROM profiles WHERE id=?", (profile_id,))
        return self._profile(rows[0]) if rows else None

    @staticmethod
    def _profile(r: sqlite3.Row) -> Profile:
        return Profile(r["id"], r["account_id"], r["name"], r["avatar_color"], r["maturity"],
                       tuple(json.loads(r["taste"])))

    # devices and refresh tokens
    def upsert_device(self, account_id: str, device_id: str, name: str, now: float) -> None:
        self._exec("INSERT INTO devices VALUES(?, ?, ?, ?, ?) ON CONFLICT(account_id, device_id) "
                   "DO UPDATE SET name=excluded.name, last_seen=excluded.last_seen",
                   (account_id, device_id, name, now, now))

    def add_refresh_token(self, token_hash: str, account_id: str, device_id: str, expires_at: float) -> None:
        self._exec("INSERT INTO refresh_tokens VALUES(?, ?, ?, ?)", (token_hash, account_id, device_id, expires_at))

    def take_refresh_token(self, token_hash: str, now: float) -> tuple[str, str] | None:
        """Consume a refresh token (they rotate): (account_id, device_id), or None if unknown/expired."""
        with self._lock:
            row = self._db.execute("SELECT * FROM refresh_tokens WHERE token_hash=?", (token_hash,)).fetchone()
            self._db.execute("DELETE FROM refresh_tokens WHERE token_hash=? OR expires_at<?", (token_hash, now))
        if row is None or row["expires_at"] <= now:
            return None
        return row["account_id"], row["device_id"]

    # watch history
    def add_history(self, ev: WatchEvent) -> None:
        self._exec("INSERT INTO history(profile_id, title_id, episode_id, position_s, duration_s, watched_at) "
                   "VALUES(?, ?, ?, ?, ?, ?)",
                   (ev.profile_id, ev.title_id, ev.episode_id, ev.position_s, ev.duration_s, ev.watched_at))

    def history(self, profile_id: str | None = None, since: float | None = None) -> list[WatchEvent]:
        sql = "SELECT * FROM history WHERE 1=1"
        args: list[Any] = []
        if profile_id is not None:
            sql += " AND profile_id=?"
            args.append(profile_id)
        if since is not None:
            sql += " AND watched_at>=?"
            args.append(since)
        return [WatchEvent(r["profile_id"], r["title_id"], r["episode_id"], r["position_s"], r["duration_s"],
                           r["watched_at"]) for r in self._rows(sql + " ORDER BY watched_at, id", args)]

    # resume positions (the merge rule is service/progress.py)
    def merge_progress(self, update: ProgressUpdate) -> tuple[Verdict, ProgressUpdate]:
        """Apply ``update`` atomically: (verdict, the position kept). An accepted update is
        also appended to the watch history, which feeds the rows and the resume point."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT * FROM progress WHERE profile_id=? AND title_id=? AND episode_key=?",
                                        update.key).fetchall()
                current = self._progress(rows[0]) if rows else None
                verdict = decide(current, update)
                if verdict in ("first", "newer"):
                    self._db.execute(
                        "INSERT OR REPLACE INTO progress VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*update.key, update.episode_id, update.position_s, update.duration_s, update.event_time,
                         update.device_id, update.seq, update.received_at, update.client_time, update.offset_s,
                         update.state, int(update.credits)))
                    self._db.execute("INSERT INTO history(profile_id, title_id, episode_id, position_s, duration_s, "
                                     "watched_at) VALUES(?, ?, ?, ?, ?, ?)",
                                     (update.profile_id, update.title_id, update.episode_id,
                                      history_position(update), update.duration_s, update.event_time))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return verdict, (update if verdict in ("first", "newer") or current is None else current)

    def progress(self, profile_id: str, title_id: str | None = None) -> list[ProgressUpdate]:
        sql, args = "SELECT * FROM progress WHERE profile_id=?", [profile_id]
        if title_id is not None:
            sql += " AND title_id=?"
            args.append(title_id)
        return [self._progress(r) for r in self._rows(sql + " ORDER BY event_time DESC", args)]

    @staticmethod
    def _progress(r: sqlite3.Row) -> ProgressUpdate:
        return ProgressUpdate(r["profile_id"], r["title_id"], r["episode_id"], r["position_s"], r["duration_s"],
                              r["event_time"], r["device_id"], r["seq"], r["received_at"], r["client_time"],
                              r["offset_s"], r["state"], bool(r["credits"]))

    # telemetry collector (service/telemetry_store.py)
    def add_telemetry_batch(self, batch_id: str, installation_id: str, received_at: float, schema: int,
                            dropped_total: int, rejected_total: int,
                            events: Sequence[tuple[int, str, int, str, float, str, str | None, str]]) -> bool:
        """Store a batch once: False (and nothing written) when ``batch_id`` is already stored.
        ``events``: (idx, session_id, seq, kind, ts, day, title_id, data_json)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._db.execute("SELECT 1 FROM telemetry_batches WHERE batch_id=?", (batch_id,)).fetchone():
                    self._db.execute("ROLLBACK")
                    return False
                self._db.execute("INSERT INTO telemetry_batches VALUES(?, ?, ?, ?, ?, ?, ?)",
                                 (batch_id, installation_id, received_at, schema, len(events), dropped_total,
                                  rejected_total))
                self._db.executemany("INSERT INTO telemetry_events VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                     [(batch_id, *e) for e in events])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def telemetry_events(self, since_day: str | None = None, until_day: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM telemetry_events WHERE 1=1", []
        if since_day:
            sql += " AND day>=?"
            args.append(since_day)
        if until_day:
            sql += " AND day<=?"
            args.append(until_day)
        return [dict(r) for r in self._rows(sql + " ORDER BY session_id, seq", args)]

    def telemetry_counts(self) -> dict[str, int]:
        """Batches and events stored, and what clients report they dropped/rejected (latest per installation)."""
        row = self._rows("SELECT COUNT(*) AS batches, COALESCE(SUM(events), 0) AS events FROM telemetry_batches")[0]
        per = self._rows("SELECT MAX(dropped_total) AS d, MAX(rejected_total) AS r FROM telemetry_batches "
                         "GROUP BY installation_id")
        return {"batches": row["batches"], "events": row["events"], "installations": len(per),
                "client_dropped": sum(r["d"] for r in per), "client_rejected": sum(r["r"] for r in per)}

    # offline licenses (the rules are service/licensing.py)
    def set_license_device(self, account_id: str, device_id: str, public_key: str, now: float) -> None:
        self._exec("INSERT INTO license_devices VALUES(?, ?, ?, ?) ON CONFLICT(account_id, device_id) "
                   "DO UPDATE SET public_key=excluded.public_key, registered_at=excluded.registered_at",
                   (account_id, device_id, public_key, now))

    def license_device(self, account_id: str, device_id: str) -> str | None:
        rows = self._rows("SELECT public_key FROM license_devices WHERE account_id=? AND device_id=?",
                          (account_id, device_id))
        return rows[0]["public_key"] if rows else None

    def content_key(self, content_id: str, make: Any, now: float) -> str:
        """The stored (wrapped, ``service/keystore.py``) content key of ``content_id``, created
        with ``make()`` on first use."""
        with self._lock:
            if not self._rows("SELECT 1 FROM content_keys WHERE content_id=?", (content_id,)):
                self._exec("INSERT INTO content_keys VALUES(?, ?, ?)", (content_id, make(), now))
            return str(self._rows("SELECT key_hex FROM content_keys WHERE content_id=?", (content_id,))[0]["key_hex"])

    def content_keys(self) -> list[tuple[str, str]]:
        return [(r["content_id"], r["key_hex"]) for r in self._rows("SELECT content_id, key_hex FROM content_keys")]

    def set_content_key(self, content_id: str, stored: str) -> None:
        self._exec("UPDATE content_keys SET key_hex=? WHERE content_id=?", (stored, content_id))

    def add_license(self, row: Any) -> None:
        self._exec("INSERT INTO licenses (id, account_id, device_id, title_id, episode_id, content_id, media_id, "
                   "issued_at, expires_at, state, renewals, updated_at, device_key) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (row.id, row.account_id, row.device_id, row.title_id, row.episode_id, row.content_id,
                    row.media_id, row.issued_at, row.expires_at, row.state, row.renewals, row.issued_at,
                    row.device_key))

    def license(self, license_id: str) -> Any:
        rows = self._rows("SELECT * FROM licenses WHERE id=?", (license_id,))
        return self._license(rows[0]) if rows else None

    def licenses_of_account(self, account_id: str) -> list[Any]:
        return [self._license(r) for r in
                self._rows("SELECT * FROM licenses WHERE account_id=? ORDER BY issued_at", (account_id,))]

    @staticmethod
    def _license(r: sqlite3.Row) -> Any:
        from service.licensing import LicenseRow

        return LicenseRow(r["id"], r["account_id"], r["device_id"], r["title_id"], r["episode_id"], r["content_id"],
                          r["media_id"], r["issued_at"], r["expires_at"], r["state"], r["renewals"], r["device_key"])

    def devices_with_active_licenses(self, account_id: str, now: float) -> set[str]:
        """Devices (``<device_id>#<key fingerprint>``: one id with two keys is two devices) holding licenses."""
        return {f"{r['device_id']}#{r['device_key']}" for r in self._rows(
            "SELECT DISTINCT device_id, device_key FROM licenses WHERE account_id=? AND state='active' AND expires_at>?",
            (account_id, now))}

    def license_count(self, account_id: str, content_id: str, since: float) -> int:
        return int(self._rows("SELECT COUNT(*) AS n FROM licenses WHERE account_id=? AND content_id=? "
                              "AND issued_at>=?", (account_id, content_id, since))[0]["n"])

    def renew_license(self, license_id: str, now: float, expires_at: float) -> Any:
        self._exec("UPDATE licenses SET issued_at=?, expires_at=?, renewals=renewals+1, updated_at=? WHERE id=?",
                   (now, expires_at, now, license_id))
        return self.license(license_id)

    def set_license_state(self, license_id: str, state: str, now: float) -> None:
        self._exec("UPDATE licenses SET state=?, updated_at=? WHERE id=?", (state, now, license_id))

    def revoke_account_licenses(self, account_id: str, now: float) -> list[str]:
        with self._lock:
            ids = [r["id"] for r in self._rows("SELECT id FROM licenses WHERE account_id=? AND state='active'",
                                               (account_id,))]
            self._exec("UPDATE licenses SET state='revoked', updated_at=? WHERE account_id=? AND state='active'",
                       (now, account_id))
        return ids

    def set_account_lapsed(self, account_id: str, lapsed_at: float | None) -> None:
        self._exec("INSERT INTO license_accounts VALUES(?, ?) ON CONFLICT(account_id) "
                   "DO UPDATE SET lapsed_at=excluded.lapsed_at", (account_id, lapsed_at))

    def account_lapsed(self, account_id: str) -> bool:
        rows = self._rows("SELECT lapsed_at FROM license_accounts WHERE account_id=?", (account_id,))
        return bool(rows) and rows[0]["lapsed_at"] is not None
