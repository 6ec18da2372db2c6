"""The reference service as the UI's ``CatalogSource``: an adapter over ``marquee.api``.

Signs in lazily with the demo account, hands on the client's results (the wire
contract's types, which the UI shows as they are), and keeps the last good reply of each read call on disk
so the app can still show profiles, rows and title pages when the service is
unreachable (``stale`` tells the shell it is showing saved data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable

from contract import to_builtins
from marquee.api import DEMO_EMAIL, DEMO_PASSWORD, ServiceClient
from marquee.errors import NetworkError
from ui.catalog import PlaybackInfo, Profile, Row, Tile, TitleDetail, parse_profile, parse_rows, parse_title

log = logging.getLogger("marquee.ui.service")


class ApiCatalog:
    def __init__(self, client: ServiceClient, *, offline_cache: Path | None = None,
                 email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
        self.client = client
        self._cache = offline_cache
        self._credentials = (email, password)
        self._lock = threading.Lock()
        self.stale = False

    @classmethod
    def connect(cls, base_url: str, offline_cache: Path | None = None) -> "ApiCatalog":
        return cls(ServiceClient(base_url), offline_cache=offline_cache)

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def close(self) -> None:
        self.client.close()

    def _signed_in(self) -> ServiceClient:
        with self._lock:
            if self.client.session is None:
                self.client.login(*self._credentials)
        return self.client

    def _cached(self, key: str, fetch: Callable[[], Any]) -> Any:
        """``fetch()`` (JSON-able), remembered on disk; on NetworkError the remembered copy."""
        path = self._cache / (hashlib.sha1(key.encode()).hexdigest()[:20] + ".json") if self._cache else None
        try:
            doc = fetch()
        except NetworkError:
            if path is None or not path.exists():
                raise
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise NetworkError(f"offline and cache damaged for {key}",
                                   user_message="Cannot reach the Marquee service.") from None
            self.stale = True
            return doc
        self.stale = False
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(doc), encoding="utf-8")
                tmp.replace(path)
            except OSError as exc:
                log.warning("offline cache write failed: %s", exc)
        return doc

    # ------------------------------------------------------------ CatalogSource
    def health(self) -> bool:
        try:
            self.client.health()
            return True
        except Exception:
            return False

    def profiles(self) -> list[Profile]:
        doc = self._cached("profiles", lambda: {"profiles": to_builtins(self._signed_in().profiles())})
        return [parse_profile(p) for p in doc["profiles"]]

    def rows(self, profile_id: str) -> list[Row]:
        doc = self._cached(f"rows/{profile_id}", lambda: {"rows": to_builtins(self._signed_in().rows(profile_id))})
        return parse_rows(doc)

    def title(self, title_id: str, profile_id: str) -> TitleDetail:
        return parse_title(self._cached(f"title/{title_id}/{profile_id}",
                                        lambda: self._signed_in().title(title_id, profile_id)))

    def search(self, query: str, profile_id: str) -> list[Tile]:
        return self._signed_in().search(query, profile_id)

    def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo:
        return self._signed_in().playback(profile_id, title_id, episode_id)

    def report_position(self, profile_id: str, title_id: str, position_s: float, duration_s: float,
                        episode_id: str | None = None) -> None:
        self._signed_in().add_history(profile_id, title_id, position_s, duration_s, episode_id)

    def fetch_bytes(self, url: str) -> bytes:
        return self.client.get_bytes(url)
