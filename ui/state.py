"""Small UI state that is not a setting: last profile, window geometry, My List.

Stored as JSON next to settings.toml (``ui-state.json``). Pure: no Qt.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marquee import paths

log = logging.getLogger("marquee.ui.state")


@dataclass
class UiState:
    last_profile: str = ""
    geometry: str = ""  # base64 of QWidget.saveGeometry()
    my_list: dict[str, list[str]] = field(default_factory=dict)  # profile id -> title ids
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> "UiState":
        path = path or paths.config_dir() / "ui-state.json"
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path=path)
        except (OSError, ValueError) as exc:
            log.warning("ignoring damaged %s: %s", path, exc)
            return cls(path=path)
        raw_list = doc.get("my_list")
        my_list: dict[str, Any] = raw_list if isinstance(raw_list, dict) else {}
        return cls(
            last_profile=str(doc.get("last_profile") or ""),
            geometry=str(doc.get("geometry") or ""),
            my_list={str(k): [str(t) for t in v] for k, v in my_list.items() if isinstance(v, list)},
            path=path,
        )

    def save(self) -> None:
        if self.path is None:
            return
        doc = {"last_profile": self.last_profile, "geometry": self.geometry, "my_list": self.my_list}
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            log.warning("cannot save UI state: %s", exc)

    def in_my_list(self, profile_id: str, title_id: str) -> bool:
        return title_id in self.my_list.get(profile_id, [])

    def toggle_my_list(self, profile_id: str, title_id: str) -> bool:
        items = self.my_list.setdefault(profile_id, [])
        if title_id in items:
            items.remove(title_id)
            return False
        items.insert(0, title_id)
        return True
