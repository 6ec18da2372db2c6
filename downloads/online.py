"""The service calls of offline downloads (licenses and playback URLs), over ``marquee.api``.

Every call raises ``NetworkError`` when the service cannot be reached (the caller then
works offline: releases are queued, renewals wait) or ``ServiceRequestError`` with the
service's code (``device_limit_reached``, ``download_limit_reached``, ``not_downloadable``...).
"""

from __future__ import annotations

from typing import Any

from marquee.api import Call, PlaybackInfo, ServiceClient, ServiceRequestError
from marquee.errors import ConfigError

PLAIN = {
    "device_limit_reached": "Too many devices hold downloads on this account. Delete downloads on another "
                            "device first.",
    "download_limit_reached": "This title has been downloaded too many times on this account.",
    "not_downloadable": "This title can be streamed but not downloaded.",
    "device_unknown": "This device is not registered for downloads yet.",
    "account_lapsed": "Your subscription has lapsed: downloads are not available.",
    "license_revoked": "The license of this download was withdrawn.",
    "episode_required": "This is a series: download an episode (its id is in `marquee catalog`).",
    "license_released": "This download was deleted; download the title again.",
    "renew_not_allowed": "This download's license cannot be renewed; download the title again.",
}


class OnlineLink:
    def __init__(self, client: ServiceClient, profile: str | None = None) -> None:
        self.client = client
        self._profile = profile
        self._profile_id: str | None = None

    def _call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        try:
            return self.client._request(Call(method, path, body, auth=auth))
        except ServiceRequestError as exc:
            plain = PLAIN.get(exc.code)
            if plain is None:
                raise
            raise ServiceRequestError(exc.message, status=exc.status, code=exc.code, user_message=plain) from exc

    def public_key(self) -> str:
        return str(self._call("GET", "/v1/licenses/public-key", auth=False)["public_key"])

    def register_device(self, public_b64: str) -> None:
        self._call("PUT", "/v1/licenses/device", {"public_key": public_b64})

    def acquire(self, title_id: str, episode_id: str | None) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/licenses", {"title_id": title_id,
                                                        **({"episode_id": episode_id} if episode_id else {})}))

    def renew(self, license_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/licenses/{license_id}/renew"))

    def release(self, license_id: str) -> None:
        self._call("POST", f"/v1/licenses/{license_id}/release")

    def list_licenses(self) -> list[dict[str, Any]]:
        """The account's licenses (every device): ``license_id``, ``device_id``, ``content_id``,
        ``state``, ``issued_at``, ``expires_at``."""
        return list(self._call("GET", "/v1/licenses")["licenses"])

    def status(self, license_ids: list[str]) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/licenses/status", {"license_ids": license_ids}))

    def profile_id(self) -> str:
        if self._profile_id is None:
            profiles = self.client.profiles()
            if not profiles:
                raise ConfigError("the account has no profiles")
            chosen = profiles[0]
            if self._profile:
                match = [p for p in profiles if self._profile in (p.id, p.name)]
                if not match:
                    raise ConfigError(f"no profile {self._profile!r}")
                chosen = match[0]
            self._profile_id = chosen.id
        return self._profile_id

    def playback(self, title_id: str, episode_id: str | None) -> PlaybackInfo:
        return self.client.playback(self.profile_id(), title_id, episode_id)
