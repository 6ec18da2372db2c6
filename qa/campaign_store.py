"""A campaign's results on disk: one JSON line per finished cell, flushed and fsynced as each
finishes, so a crash (even ``kill -9``) loses at most the cells that were running. On resume,
the cells whose id is already stored are skipped; a torn last line (killed mid-write) is
dropped and rewritten by the cell that produced it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from marquee.errors import ConfigError


class ResultStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict[str, Any]] = {}
        self._load()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write the campaign results {path}: {exc}") from exc

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the campaign results {self.path}: {exc}") from exc
        good = 0
        for line in data.splitlines(keepends=True):
            try:
                row = json.loads(line)
            except ValueError:
                break  # torn by a crash: keep what precedes it
            if not line.endswith(b"\n") or not isinstance(row, dict) or "id" not in row:
                break
            self.rows[row["id"]] = row
            good += len(line)
        if good < len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(good)

    def done(self, cell_id: str) -> bool:
        return cell_id in self.rows

    def add(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.rows[row["id"]] = row

    def close(self) -> None:
        self._fh.close()
