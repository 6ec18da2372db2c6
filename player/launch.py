"""Turn "play this" (a catalogue id or a manifest URL) into a ``PlayRequest``.

Shared by ``marquee play`` and the desktop app, so both ask the service the same
way: the playback API's ranked OCAs become the fetcher's candidates, and a token
refresh asks the service again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marquee.api import PlaybackInfo, ServiceClient
from marquee.errors import ConfigError
from player.control import ContentRef, PlayRequest


def is_manifest_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def offered_protocol(info: PlaybackInfo, prefer: str = "dash") -> str:
    """``prefer`` when the service offers it, else what it does offer (DASH first)."""
    for protocol in (prefer, "dash", "hls"):
        if protocol in info.manifests:
            return protocol
    raise ConfigError(f"the service offered no manifest for {info.title_id}")


def request_from_playback(info: PlaybackInfo, protocol: str = "dash", **options: Any) -> PlayRequest:
    if protocol not in info.manifests:
        raise ConfigError(f"protocol {protocol!r} not offered; choose one of {', '.join(info.manifests)}")
    top_url = info.dash_url if protocol == "dash" else info.hls_url
    ocas = tuple(sorted(info.ocas, key=lambda o: o.rank))  # the contract's OCAs are the fetcher's candidates
    return PlayRequest(manifest_url=top_url, ocas=ocas, manifest_path=info.manifests[protocol], **options)


def find_title(client: ServiceClient, target: str) -> tuple[str, str | None]:
    """(title id, episode id or None) for a title or episode id of the catalogue."""
    for entry in client.catalog():
        if entry["id"] == target:
            return target, None
        if target in entry.get("episodes", ()):
            return entry["id"], target
    raise ConfigError(f"{target!r} is not in the catalogue (see `marquee catalog`)")


def request_for_title(
    client: ServiceClient,
    profile_id: str,
    target: str,
    *,
    protocol: str = "dash",
    start_s: float | None = None,
    **options: Any,
) -> PlayRequest:
    """Ask the service for playback of ``target``; start at ``start_s`` or the synced resume point."""
    title_id, episode_id = find_title(client, target)
    info = client.playback(profile_id, title_id, episode_id)
    start = info.start_position_s if start_s is None else start_s
    label = info.title_id if info.episode_id is None else f"{info.title_id} {info.episode_id}"

    def refresh() -> PlayRequest:
        fresh = client.playback(profile_id, title_id, info.episode_id)
        return request_from_playback(fresh, protocol)

    request = request_from_playback(info, protocol, start_s=start, title=label, **options)
    return replace(request, refresh=refresh, content=ContentRef(profile_id, info.title_id, info.episode_id))
