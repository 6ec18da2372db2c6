"""The reference service over HTTP, as the UI's ``CatalogSource``.

A thin adapter: httpx calls, bearer-token login/refresh, translation of httpx
errors into ``NetworkError``/``ServiceError``, and a small disk cache of the
last good GET replies so the app can still show rows when the service is
unreachable (``stale`` tells the UI it is offline).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx

from marquee import paths
from marquee.errors import NetworkError, ServiceError
from ui.catalog import (
    PlaybackInfo,
    Profile,
    Row,
    Tile,
    TitleDetail,
    parse_playback,
    parse_profile,
    parse_rows,
    parse_tile,
    parse_title,
)

log = logging.getLogger("marquee.ui.service")

DEMO_EMAIL = "demo@marquee.test"
DEMO_PASSWORD = "marquee"


def device_id() -> str:
    """A stable id for this installation (under the data dir)."""
    path = paths.data_dir() / "device-id"
    try:
        value = path.read_text().strip()
        if value:
            return value
    except OSError:
        pass
    value = f"desktop-{uuid.uuid4().hex[:12]}"
    try:
        path.write_text(value)
    except OSError as exc:
        log.warning("cannot persist device id: %s", exc)
    return value


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        email: str = DEMO_EMAIL,
        password: str = DEMO_PASSWORD,
        device: str | None = None,
        timeout_s: float = 8.0,
        offline_cache: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._email, self._password = email, password
        self._device = device or device_id()
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._cache = offline_cache
        self.stale = False  # True when the last GET was served from the offline cache

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------- plumbing
    def _login(self) -> None:
        body = {"email": self._email, "password": self._password, "device_id": self._device,
                "device_name": "Marquee desktop"}
        doc = self._send("POST", "/v1/auth/login", json_body=body, auth=False)
        self._access, self._refresh = doc.get("access_token"), doc.get("refresh_token")

    def _refresh_token(self) -> bool:
        if not self._refresh:
            return False
        try:
            doc = self._send("POST", "/v1/auth/refresh", json_body={"refresh_token": self._refresh}, auth=False)
        except ServiceError:
            return False
        self._access, self._refresh = doc.get("access_token"), doc.get("refresh_token")
        return True

    def _send(self, method: str, path: str, *, params: dict[str, str] | None = None,
              json_body: Any = None, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self._access}"} if auth and self._access else {}
        try:
            resp = self._http.request(method, path, params=params, json=json_body, headers=headers)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{method} {path}: timeout", user_message="The service is not answering.",
                               code="timeout") from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"{method} {path}: {exc}", user_message="Cannot reach the Marquee service.",
                               code="unreachable") from exc
        if resp.status_code == 401 and auth:
            raise _Unauthorized()
        if resp.status_code >= 400:
            try:
                err = resp.json().get("error", {})
            except ValueError:
                err = {}
            raise ServiceError(f"{method} {path}: {resp.status_code} {err.get('message', resp.text[:200])}",
                               user_message=err.get("message") or f"The service refused the request ({resp.status_code}).",
                               code=str(err.get("code") or resp.status_code))
        try:
            return resp.json()
        except ValueError as exc:
            raise ServiceError(f"{method} {path}: not JSON", user_message="The service sent a reply the app does not understand.") from exc

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        with self._lock:
            if self._access is None:
                self._login()
            access = self._access
        try:
            return self._send(method, path, **kw)
        except _Unauthorized:
            with self._lock:
                if self._access == access and not self._refresh_token():
                    self._login()
            try:
                return self._send(method, path, **kw)
            except _Unauthorized:
                raise ServiceError(f"{method} {path}: unauthorized", user_message="Signing in to the service failed.",
                                   code="unauthorized") from None

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        key = hashlib.sha1(f"{path}?{sorted((params or {}).items())}".encode()).hexdigest()[:20]
        try:
            doc = self._call("GET", path, params=params)
        except NetworkError:
            cached = self._read_cache(key)
            if cached is None:
                raise
            self.stale = True
            return cached
        self.stale = False
        self._write_cache(key, doc)
        return doc

    def _read_cache(self, key: str) -> Any:
        if self._cache is None:
            return None
        try:
            return json.loads((self._cache / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None

    def _write_cache(self, key: str, doc: Any) -> None:
        if self._cache is None:
            return
        try:
            self._cache.mkdir(parents=True, exist_ok=True)
            tmp = self._cache / f"{key}.tmp"
            tmp.write_text(json.dumps(doc))
            tmp.replace(self._cache / f"{key}.json")
        except OSError as exc:
            log.warning("offline cache write failed: %s", exc)

    # ------------------------------------------------------------- CatalogSource
    def health(self) -> bool:
        try:
            return self._http.get("/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def profiles(self) -> list[Profile]:
        return [parse_profile(p) for p in self._get("/v1/profiles").get("profiles", [])]

    def rows(self, profile_id: str) -> list[Row]:
        return parse_rows(self._get(f"/v1/profiles/{profile_id}/rows"))

    def title(self, title_id: str, profile_id: str) -> TitleDetail:
        return parse_title(self._get(f"/v1/titles/{title_id}", {"profile_id": profile_id}))

    def search(self, query: str, profile_id: str) -> list[Tile]:
        doc = self._call("GET", "/v1/search", params={"q": query, "profile_id": profile_id})
        return [parse_tile(t) for t in doc.get("results", [])]

    def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo:
        body: dict[str, str] = {"profile_id": profile_id, "title_id": title_id}
        if episode_id:
            body["episode_id"] = episode_id
        return parse_playback(self._call("POST", "/v1/playback", json_body=body))

    def fetch_bytes(self, url: str) -> bytes:
        try:
            resp = self._http.get(url)
        except httpx.HTTPError as exc:
            raise NetworkError(f"GET {url}: {exc}", user_message="Cannot load artwork.") from exc
        if resp.status_code != 200:
            raise ServiceError(f"GET {url}: {resp.status_code}", user_message="Artwork is missing.")
        return resp.content


class _Unauthorized(Exception):
    pass
