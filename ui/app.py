"""Build and run the desktop app (the Qt side of ``marquee app``).

``create_context`` wires the pieces (service client, background tasks, artwork
cache, settings, UI state); ``create_window`` builds the shell; ``run`` owns the
QApplication and the event loop. Tests call the first two with fakes.
"""

from __future__ import annotations

import gc
import logging
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from marquee import paths
from marquee import settings as settings_mod
from ui.artwork import ArtworkLoader
from ui.bridge import EngineFactory
from ui.catalog import CatalogSource
from ui.context import AppContext
from ui.shell import Shell
from ui.state import UiState
from ui.tasks import Tasks

if TYPE_CHECKING:
    from ui.downloads_service import Opener

log = logging.getLogger("marquee.ui")


def theme_qss() -> str:
    return resources.files("ui").joinpath("theme.qss").read_text(encoding="utf-8")


def ensure_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv or [sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("Marquee")
    app.setOrganizationName("Marquee")
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setFamilies(["Inter", "Segoe UI", "SF Pro Text", "Helvetica Neue", "Cantarell", "DejaVu Sans"])
    font.setPixelSize(14)
    app.setFont(font)
    app.setStyleSheet(theme_qss())
    return app


def create_context(
    source: CatalogSource,
    *,
    engine_factory: EngineFactory | None = None,
    artwork_dir: Path | None = None,
    settings_path: Path | None = None,
    state_path: Path | None = None,
    downloads_opener: "Opener | None" = None,
) -> AppContext:
    abr_catalog = settings_mod.default_abr_catalog()
    loaded, warnings = settings_mod.load(settings_path, abr_catalog)
    for w in warnings:
        log.warning("settings: %s", w)
    tasks = Tasks()
    artwork = ArtworkLoader(source.fetch_bytes, artwork_dir if artwork_dir is not None else paths.cache_dir() / "artwork")

    def save(s: settings_mod.Settings) -> None:
        settings_mod.save(s, settings_path)

    downloads = None
    if downloads_opener is not None:
        from ui.downloads_service import DownloadsService  # noqa: PLC0415

        downloads = DownloadsService(downloads_opener, tasks)
    return AppContext(source=source, tasks=tasks, artwork=artwork, settings=loaded,
                      state=UiState.load(state_path), engine_factory=engine_factory,
                      abr_catalog=abr_catalog, save_settings=save, downloads=downloads)


def create_window(ctx: AppContext, player_factory: Callable | None = None) -> Shell:
    if player_factory is None and ctx.engine_factory is not None:
        from ui.views.player_view import PlayerView

        def player_factory(c: AppContext, parent):
            return PlayerView(c, parent=parent)

    return Shell(ctx, player_factory=player_factory)


def freeze_startup_heap() -> None:
    """Move what startup built (modules, classes, the window) out of the garbage collector's
    sight. A full collection walks every tracked object and stops every thread meanwhile: with
    the app's ~70,000 it took 49-52 ms (a visible hitch, and a pause in the segment engine's
    loop); after this it walks only what was made since: 0.1 ms even with a second window
    built. What is frozen lives as long as the app anyway; garbage is collected first."""
    gc.collect()
    gc.freeze()


def run(source: CatalogSource, engine_factory: EngineFactory | None,
        downloads_opener: "Opener | None" = None, replaces: QWidget | None = None) -> int:
    """Open the app's window (closing ``replaces``, the first start's build window, once it
    is up) and run the event loop."""
    app = ensure_application()
    ctx = create_context(source, engine_factory=engine_factory, downloads_opener=downloads_opener)
    window = create_window(ctx)
    window.show()
    if replaces is not None:
        replaces.close()
        replaces.deleteLater()  # by Qt, while the app runs (not by Python's exit, after it)
    QTimer.singleShot(0, freeze_startup_heap)  # once the first page is built
    try:
        return app.exec()
    finally:
        ctx.artwork.shutdown()
        ctx.tasks.wait_idle(3000)
