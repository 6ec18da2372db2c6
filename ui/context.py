"""What every view needs, passed explicitly (no global registry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from marquee.settings import AbrCatalog, Settings
from ui.artwork import ArtworkLoader
from ui.bridge import EngineFactory
from ui.catalog import CatalogSource, Profile
from ui.state import UiState
from ui.tasks import Tasks

if TYPE_CHECKING:
    from ui.downloads_service import DownloadsService


@dataclass
class AppContext:
    source: CatalogSource
    tasks: Tasks
    artwork: ArtworkLoader
    settings: Settings
    state: UiState
    engine_factory: EngineFactory | None = None  # None: playback unavailable (tests without an engine)
    abr_catalog: AbrCatalog = field(default_factory=AbrCatalog)
    save_settings: Callable[[Settings], None] = lambda s: None
    profile: Profile | None = None
    downloads: "DownloadsService | None" = None  # None: no offline downloads (tests, no service)
    offline: bool = False
