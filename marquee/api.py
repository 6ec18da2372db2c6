"""HTTP client of the reference service (httpx), for the app, the engine and tools.

``ServiceClient`` is synchronous; ``AsyncServiceClient`` has the same methods as
coroutines. Both build requests and parse answers with the same pure helpers
(``_calls``), sign in with a persisted device id, refresh the access token on a
401 (or shortly before it expires) and retry once, and translate every failure
into ``NetworkError`` (cannot reach the service) or ``ServiceRequestError`` (a
``ServiceError`` carrying the HTTP status and the service's error code), with a
message a person understands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

import httpx

from contract import ContractError, decode, to_builtins
from contract.auth import LoginRequest, RefreshRequest, SessionTokens
from contract.catalog import NewProfile, Profile, ProfileList, Row, RowList, SearchResults, Tile
from contract.playback import Oca, Playback, PlaybackRequest
from marquee import paths
from marquee.clock import Clock, SystemClock
from marquee.errors import NetworkError, ServiceError
from marquee.tls import ssl_context

DEMO_EMAIL = "demo@marquee.test"
DEMO_PASSWORD = "marquee"
REFRESH_MARGIN_S = 30.0

T = TypeVar("T")


class ServiceRequestError(ServiceError):
    def __init__(self, message: str, *, status: int, code: str, user_message: str | None = None) -> None:
        super().__init__(message, user_message=user_message, code=code)
        self.status = status


_PLAIN = {
    "invalid_credentials": "The e-mail address or password is wrong.",
    "invalid_refresh_token": "Your session has ended. Please sign in again.",
    "token_expired": "Your session has ended. Please sign in again.",
    "maturity_restricted": "This title is not available on this profile.",
    "content_missing": "The demo videos have not been built yet. Run `marquee content build`.",
    "unknown_title": "This title is no longer available.",
}


# -- typed results ------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    account_id: str
    device_id: str
    access_token: str
    refresh_token: str
    expires_at: float  # wall seconds


# The service's bodies are the wire contract's types (``contract``); the old names stay.
PlaybackInfo = Playback
OcaEndpoint = Oca


# -- pure request/answer helpers ----------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    params: Mapping[str, str] | None = None
    auth: bool = True


class _calls:
    """Answers validated against the wire contract (a mismatch is a ``bad_response``)."""

    @staticmethod
    def rows(d: Any) -> list[Row]:
        return list(_decoded(d, RowList).rows)

    @staticmethod
    def profiles(d: Any) -> list[Profile]:
        return list(_decoded(d, ProfileList).profiles)

    @staticmethod
    def profile(p: Any) -> Profile:
        return _decoded(p, Profile)

    @staticmethod
    def search(d: Any) -> list[Tile]:
        return list(_decoded(d, SearchResults).results)

    @staticmethod
    def playback(d: Any) -> Playback:
        return _decoded(d, Playback)


def _decoded(doc: Any, kind: type[T]) -> T:
    try:
        return decode(doc, kind)
    except ContractError as exc:
        raise ServiceRequestError(f"bad answer from the service: {exc}", status=200, code="bad_response",
                                  user_message="The Marquee service sent a bad answer.") from None


def _error_from(response: httpx.Response) -> ServiceRequestError:
    try:
        err = response.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{response.status_code}", response.text[:200] or response.reason_phrase
    plain = _PLAIN.get(code)
    if plain is None:
        plain = ("The Marquee service had a problem. Please try again in a moment." if response.status_code >= 500
                 else f"The Marquee service refused the request: {message}")
    return ServiceRequestError(f"{response.request.method} {response.request.url.path}: "
                               f"{response.status_code} {code}: {message}",
                               status=response.status_code, code=code, user_message=plain)


def _network_error(base_url: str, exc: Exception) -> NetworkError:
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return NetworkError(f"{kind}: {base_url}: {exc}", code=kind,
                        user_message=f"Cannot reach the Marquee service at {base_url}. Check that it is running "
                                     "and that you are online.")


def _session(d: Any, now: float) -> Session:
    t = _decoded(d, SessionTokens)
    return Session(t.account_id, t.device_id, t.access_token, t.refresh_token, now + t.expires_in)


def _playback_body(profile_id: str, title_id: str, episode_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = to_builtins(PlaybackRequest(profile_id=profile_id, title_id=title_id, episode_id=episode_id))
    return {k: v for k, v in body.items() if v is not None}


def load_device_id() -> str:
    """This installation's device id, created once under the data directory."""
    path = paths.data_dir() / "device_id"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except OSError:
        pass
    value = "dev-" + uuid.uuid4().hex
    path.write_text(value + "\n", encoding="utf-8")
    return value


class _Base:
    def __init__(self, base_url: str, *, device_id: str | None, device_name: str, clock: Clock | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id or load_device_id()
        self.device_name = device_name
        self.clock = clock or SystemClock()
        self.session: Session | None = None
        self._credentials: tuple[str, str] | None = None

    def _login_call(self, email: str, password: str) -> Call:
        body = LoginRequest(email=email, password=password, device_id=self.device_id, device_name=self.device_name)
        return Call("POST", "/v1/auth/login", to_builtins(body), auth=False)

    def _refresh_call(self) -> Call:
        assert self.session is not None
        return Call("POST", "/v1/auth/refresh", to_builtins(RefreshRequest(refresh_token=self.session.refresh_token)),
                    auth=False)

    def _headers(self, call: Call) -> dict[str, str]:
        if not call.auth:
            return {}
        if self.session is None:
            raise ServiceRequestError("not signed in", status=401, code="not_signed_in",
                                      user_message="Please sign in first.")
        return {"Authorization": f"Bearer {self.session.access_token}"}

    def _needs_refresh(self) -> bool:
        return self.session is not None and self.session.expires_at - self.clock.wall() < REFRESH_MARGIN_S

    def _decode(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise _error_from(response)
        try:
            return response.json()
        except ValueError:
            raise ServiceRequestError(f"{response.request.url}: not JSON", status=response.status_code,
                                      code="bad_response", user_message="The Marquee service sent a bad answer.") from None


class ServiceClient(_Base):
    def __init__(self, base_url: str, *, device_id: str | None = None, device_name: str = "Marquee desktop",
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None, clock: Clock | None = None) -> None:
        super().__init__(base_url, device_id=device_id, device_name=device_name, clock=clock)
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                                  transport=transport, verify=ssl_context())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: Call) -> httpx.Response:
        try:
            return self._http.request(call.method, call.path, json=call.json, params=call.params,
                                      headers=self._headers(call))
        except httpx.TransportError as exc:
            raise _network_error(self.base_url, exc) from exc

    def _request(self, call: Call, parse: Callable[[Any], T] = lambda d: d) -> T:
        if call.auth and self._needs_refresh():
            self._renew()
        response = self._send(call)
        if response.status_code == 401 and call.auth and self.session is not None:
            self._renew()
            response = self._send(call)
        return parse(self._decode(response))

    def _renew(self) -> None:
        try:
            self.session = _session(self._decode(self._send(self._refresh_call())), self.clock.wall())
        except ServiceRequestError as exc:
            if exc.status != 401 or self._credentials is None:
                raise
            self.login(*self._credentials)

    def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> Session:
        self.session = _session(self._decode(self._send(self._login_call(email, password))), self.clock.wall())
        self._credentials = (email, password)
        return self.session

    def refresh(self) -> Session:
        self._renew()
        assert self.session is not None
        return self.session

    def health(self) -> dict[str, Any]:
        return self._request(Call("GET", "/health", auth=False))

    def catalog(self) -> list[dict[str, Any]]:
        return self._request(Call("GET", "/v1/catalog", auth=False), lambda d: list(d["titles"]))

    def profiles(self) -> list[Profile]:
        return self._request(Call("GET", "/v1/profiles"), _calls.profiles)

    def create_profile(self, name: str, maturity: str | None = None) -> Profile:
        body = {k: v for k, v in to_builtins(NewProfile(name=name, maturity=maturity or None)).items() if v is not None}
        return self._request(Call("POST", "/v1/profiles", body), _calls.profile)

    def rows(self, profile_id: str) -> list[Row]:
        return self._request(Call("GET", f"/v1/profiles/{profile_id}/rows"), _calls.rows)

    def title(self, title_id: str, profile_id: str | None = None) -> dict[str, Any]:
        params = {"profile_id": profile_id} if profile_id else None
        return self._request(Call("GET", f"/v1/titles/{title_id}", params=params, auth=profile_id is not None))

    def search(self, query: str, profile_id: str | None = None) -> list[Tile]:
        params = {"q": query, **({"profile_id": profile_id} if profile_id else {})}
        return self._request(Call("GET", "/v1/search", params=params, auth=profile_id is not None), _calls.search)

    def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo:
        return self._request(Call("POST", "/v1/playback", _playback_body(profile_id, title_id, episode_id)),
                             _calls.playback)

    def add_history(self, profile_id: str, title_id: str, position_s: float, duration_s: float,
                    episode_id: str | None = None) -> dict[str, Any]:
        body = {"title_id": title_id, "position_s": position_s, "duration_s": duration_s,
                **({"episode_id": episode_id} if episode_id else {})}
        return self._request(Call("POST", f"/v1/profiles/{profile_id}/history", body))

    def report_progress(self, profile_id: str, reports: list[dict[str, Any]], sent_at: float) -> dict[str, Any]:
        """Resume-position sync (``POST /v1/profiles/{pid}/progress``): results and the service's time."""
        return self._request(Call("POST", f"/v1/profiles/{profile_id}/progress",
                                  {"reports": reports, "sent_at": sent_at}))

    def progress(self, profile_id: str, title_id: str | None = None) -> dict[str, Any]:
        params = {"title_id": title_id} if title_id else None
        return self._request(Call("GET", f"/v1/profiles/{profile_id}/progress", params=params))

    def get_bytes(self, url: str, byte_range: tuple[int, int] | None = None) -> bytes:
        """Artwork and other absolute URLs handed out by the service; ``byte_range``
        (first, last), inclusive, asks for part of it."""
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else None
        try:
            response = self._http.get(url, headers=headers)
        except httpx.TransportError as exc:
            raise _network_error(self.base_url, exc) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        if byte_range and response.status_code == 200:  # the server ignored the Range: cut it here
            return response.content[byte_range[0]:byte_range[1] + 1]
        return response.content


class AsyncServiceClient(_Base):
    """The same API as ``ServiceClient`` with coroutines (one ``httpx.AsyncClient``)."""

    def __init__(self, base_url: str, *, device_id: str | None = None, device_name: str = "Marquee desktop",
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__(base_url, device_id=device_id, device_name=device_name, clock=clock)
        self._http = httpx.AsyncClient(base_url=self.base_url,
                                       timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), transport=transport,
                                       verify=ssl_context())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncServiceClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> httpx.Response:
        try:
            return await self._http.request(call.method, call.path, json=call.json, params=call.params,
                                            headers=self._headers(call))
        except httpx.TransportError as exc:
            raise _network_error(self.base_url, exc) from exc

    async def _request(self, call: Call, parse: Callable[[Any], T] = lambda d: d) -> T:
        if call.auth and self._needs_refresh():
            await self._renew()
        response = await self._send(call)
        if response.status_code == 401 and call.auth and self.session is not None:
            await self._renew()
            response = await self._send(call)
        return parse(self._decode(response))

    async def _renew(self) -> None:
        try:
            self.session = _session(self._decode(await self._send(self._refresh_call())), self.clock.wall())
        except ServiceRequestError as exc:
            if exc.status != 401 or self._credentials is None:
                raise
            await self.login(*self._credentials)

    async def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> Session:
        self.session = _session(self._decode(await self._send(self._login_call(email, password))), self.clock.wall())
        self._credentials = (email, password)
        return self.session

    async def refresh(self) -> Session:
        await self._renew()
        assert self.session is not None
        return self.session

    async def health(self) -> dict[str, Any]:
        return await self._request(Call("GET", "/health", auth=False))

    async def profiles(self) -> list[Profile]:
        return await self._request(Call("GET", "/v1/profiles"), _calls.profiles)

    async def rows(self, profile_id: str) -> list[Row]:
        return await self._request(Call("GET", f"/v1/profiles/{profile_id}/rows"), _calls.rows)

    async def title(self, title_id: str, profile_id: str | None = None) -> dict[str, Any]:
        params = {"profile_id": profile_id} if profile_id else None
        return await self._request(Call("GET", f"/v1/titles/{title_id}", params=params, auth=profile_id is not None))

    async def search(self, query: str, profile_id: str | None = None) -> list[Tile]:
        params = {"q": query, **({"profile_id": profile_id} if profile_id else {})}
        return await self._request(Call("GET", "/v1/search", params=params, auth=profile_id is not None),
                                   _calls.search)

    async def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo:
        return await self._request(Call("POST", "/v1/playback", _playback_body(profile_id, title_id, episode_id)),
                                   _calls.playback)
