"""``POST /v1/playback``: which manifests to play, from which OCAs (ranked), from where to start."""

from __future__ import annotations

import msgspec


class Oca(msgspec.Struct, frozen=True):
    """One edge server for a playback: ``base_url`` is signed for this media and device."""

    id: str
    base_url: str
    rank: int = 0
    weight: float = 1.0
    name: str = ""
    score: float = 0.0


class PlaybackRequest(msgspec.Struct, frozen=True, kw_only=True):
    profile_id: str
    title_id: str
    episode_id: str | None = None


class Playback(msgspec.Struct, frozen=True, kw_only=True):
    """The answer: ``manifests`` are relative to each OCA's ``base_url``; ``dash_url`` and
    ``hls_url`` are the top OCA's."""

    playback_id: str
    title_id: str
    media_id: str
    dash_url: str
    hls_url: str
    profile_id: str = ""
    episode_id: str | None = None
    manifests: dict[str, str] = {}
    ocas: tuple[Oca, ...] = ()
    expires_at: float = 0.0
    start_position_s: float = 0.0
