"""The engine's surface as the UI, the CLI and QA see it.

Intents go down as method calls; snapshots and events come up through the
``on_event`` / ``on_snapshot`` callbacks given at construction (called from the
engine's own thread: the UI bridge re-posts them onto the Qt thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from contract.playback import Oca
from player.events import PlaybackSnapshot, PlayerEvent, TrackInfo


# An OCA the fetcher may use: the playback API's own type (``contract.playback.Oca``).
OcaCandidate = Oca


@dataclass(frozen=True)
class ContentRef:
    """Which catalogue item plays, for position sync and telemetry (None for a bare URL)."""

    profile_id: str
    title_id: str
    episode_id: str | None = None


@dataclass(frozen=True)
class PlayRequest:
    """Everything needed to start one playback.

    For the reference service: ``manifest_url`` is the top OCA's manifest and ``ocas``
    the ranked list from the playback API, with ``manifest_path`` the manifest relative
    to each OCA's base URL. For any third-party stream only ``manifest_url`` is set.
    ``refresh`` is called on 401/403 to get fresh signed OCA URLs.
    """

    manifest_url: str
    title: str = ""
    ocas: tuple[OcaCandidate, ...] = ()
    # Without OCAs, what the stats and telemetry call the manifest's own server(s): "origin"
    # for a stream from anywhere; a downloaded title says it plays from this device.
    source_name: str = "origin"
    manifest_path: str = ""
    start_s: float = 0.0
    audio_language: str | None = None
    subtitle_language: str | None = None
    abr_algorithm: str = "default"
    abr_params: dict[str, str] = field(default_factory=dict)
    throttle: str | None = None  # preset name or trace file path, shapes our own downloads
    max_bitrate_kbps: float | None = None  # the settings' quality cap (data saver)
    refresh: Callable[[], "PlayRequest"] | None = None
    content: ContentRef | None = None
    # Per segment request (CMCD, telemetry): extra headers, and a query string to append.
    extra_headers: Callable[[Any], dict[str, str]] | None = None  # FetchTarget -> headers
    extra_query: Callable[[Any], str] | None = None  # FetchTarget -> "k=v&..." or ""


SnapshotCallback = Callable[[PlaybackSnapshot], None]
EventCallback = Callable[[PlayerEvent], None]


class PlaybackControl(Protocol):
    def play(self, request: PlayRequest) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def toggle_pause(self) -> None: ...
    def seek(self, position_s: float) -> None: ...
    def stop(self) -> None: ...
    def set_volume(self, volume: int) -> None: ...
    def set_muted(self, muted: bool) -> None: ...
    def set_audio_language(self, language: str) -> None: ...
    def set_subtitle_language(self, language: str | None) -> None: ...
    def set_quality_cap(self, rung: int | None) -> None: ...
    def tracks(self) -> list[TrackInfo]: ...
    def snapshot(self) -> PlaybackSnapshot: ...
