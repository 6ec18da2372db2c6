"""The main window: navigation bar, pages, offline banner, profile menu.

Routing only: pages emit what the user wants (open a title, play), the shell
switches pages and asks the service/bridge; no page knows another.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from marquee.errors import MarqueeError
from ui.catalog import Episode, Profile, Tile, TitleDetail, initial
from ui.context import AppContext
from ui.icons import icon
from ui.views.downloads_page import DownloadsPage
from ui.views.home import HomePage
from ui.views.profiles import ProfilePicker
from ui.views.search import SearchPage
from ui.views.title_page import TitlePage

if TYPE_CHECKING:  # the player view (mpv, the engine) is imported when first needed
    from ui.views.player_view import PlayerView

log = logging.getLogger("marquee.ui.shell")

HEALTH_INTERVAL_MS = 5000


class NavBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NavBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(44, 14, 36, 14)
        lay.setSpacing(10)
        lay.addWidget(QLabel("MARQUEE", objectName="Wordmark"))
        lay.addSpacing(24)
        self.group = QButtonGroup(self)
        self.home = QPushButton("Home", objectName="NavLink", checkable=True)
        self.my_list = QPushButton("My List", objectName="NavLink", checkable=True)
        self.search = QPushButton(icon("search", 18), " Search", objectName="NavLink", checkable=True)
        self.downloads = QPushButton(icon("download", 18), " Downloads", objectName="NavLink", checkable=True)
        for b in (self.home, self.search, self.downloads):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.group.addButton(b)
            lay.addWidget(b)
        self.my_list.hide()
        lay.addStretch(1)
        self.profile = QToolButton(objectName="NavIcon")
        self.profile.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.profile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.profile.setCursor(Qt.CursorShape.PointingHandCursor)
        lay.addWidget(self.profile)


class Shell(QMainWindow):
    profileChosen = Signal(object)

    def __init__(self, ctx: AppContext, player_factory=None) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Marquee")
        self.setMinimumSize(960, 600)
        root = QWidget(objectName="ShellRoot")
        self.setCentralWidget(root)
        vbox = QVBoxLayout(root)
        vbox.setContentsMargins(0, 0, 0, 0)
        vbox.setSpacing(0)

        self.offline = QLabel("You're offline: showing what Marquee saved. It will reconnect by itself.",
                              objectName="OfflineBanner")
        self.offline.hide()
        self.nav = NavBar()
        vbox.addWidget(self.offline)
        vbox.addWidget(self.nav)
        self.stack = QStackedWidget()
        vbox.addWidget(self.stack, 1)

        self.picker = ProfilePicker(ctx)
        self.home = HomePage(ctx)
        self.search = SearchPage(ctx)
        self.title_page = TitlePage(ctx)
        self.downloads = DownloadsPage(ctx)
        for page in (self.picker, self.home, self.search, self.title_page, self.downloads):
            self.stack.addWidget(page)
        self._player_factory = player_factory
        self.player: PlayerView | None = None  # created on the first play
        self._history: list[QWidget] = []

        self.picker.chosen.connect(self.choose_profile)
        self.home.openTitle.connect(self.open_title)
        self.home.playTile.connect(self.play_tile)
        self.search.openTitle.connect(self.open_title)
        self.title_page.back.connect(self.go_back)
        self.title_page.play.connect(self.play)
        self.title_page.showDownloads.connect(self.open_downloads)
        self.downloads.playDownload.connect(self.play_download)
        self.nav.downloads.clicked.connect(self.open_downloads)
        self.nav.downloads.setVisible(ctx.downloads is not None)
        self.nav.home.clicked.connect(lambda: self.show_page(self.home, remember=False))
        self.nav.search.clicked.connect(self.open_search)

        self.menu = QMenu(self)
        self.nav.profile.setMenu(self.menu)
        self._build_menu()
        QShortcut(QKeySequence("Ctrl+F"), self, self.open_search)
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        QShortcut(QKeySequence("Ctrl+Q"), self, self.close)

        self._health = QTimer(self)
        self._health.setInterval(HEALTH_INTERVAL_MS)
        self._health.timeout.connect(self._check_health)
        self._health.start()

        self._restore_geometry()
        self.show_page(self.picker, remember=False)
        self.picker.reload()
        if ctx.downloads is not None:
            from ui.views.passphrase_dialog import PassphrasePrompt  # noqa: PLC0415

            self.passphrase_prompt = PassphrasePrompt(ctx.downloads, self)  # asks when the device key needs it
            ctx.downloads.refresh()  # opens the journal and resumes unfinished downloads

    # ------------------------------------------------------------ navigation
    def current(self) -> QWidget | None:
        return self.stack.currentWidget()

    def show_page(self, page: QWidget, remember: bool = True) -> None:
        cur = self.stack.currentWidget()
        if remember and cur is not None and cur is not page:
            self._history.append(cur)
        if not remember:
            self._history.clear()
        self.stack.setCurrentWidget(page)
        is_chrome = page not in (self.picker,) and page is not self.player
        self.nav.setVisible(is_chrome)
        self.nav.home.setChecked(page is self.home)
        self.nav.search.setChecked(page is self.search)
        self.nav.downloads.setChecked(page is self.downloads)
        if page is self.home:
            self.home.focus_first()

    def go_back(self) -> None:
        player = self.player
        leaving_player = player is not None and self.stack.currentWidget() is player
        if player is not None and leaving_player:
            player.close_player()
        target = self._history.pop() if self._history else self.home
        if target is self.player:
            target = self.title_page
        self.show_page(target, remember=False if target is self.home else True)
        if target is not self.home and self._history and self._history[-1] is target:
            self._history.pop()
        if leaving_player and target is self.downloads:
            self.downloads.reload()  # a first play started the download's viewing window

    def choose_profile(self, profile: Profile) -> None:
        self.ctx.profile = profile
        self.ctx.state.last_profile = profile.id
        self.ctx.state.save()
        self.nav.profile.setText(f" {profile.name}")
        self.nav.profile.setIcon(_avatar_icon(profile))
        self._build_menu()
        self.show_page(self.home, remember=False)
        self.home.reload()
        self.profileChosen.emit(profile)

    def switch_profile(self) -> None:
        if self.player is not None:
            self.player.close_player()
        self.show_page(self.picker, remember=False)
        self.picker.reload()

    def open_title(self, tile: Tile) -> None:
        self.title_page.load(tile.title_id)
        self.show_page(self.title_page)
        self._ensure_player()  # the engine prepares (mpv, HTTP client) while the user reads

    def _ensure_player(self) -> bool:
        if self._player_factory is None:
            return False
        if self.player is None:
            player = self._player_factory(self.ctx, self)
            self.player = player
            self.stack.addWidget(player)
            player.back.connect(self.go_back)
            player.fullscreenRequested.connect(self._set_fullscreen)
            player.progressSaved.connect(self._progress_saved)
        return True

    def _progress_saved(self) -> None:
        """Watching moved the resume point: the title page and Continue Watching show it."""
        if self.ctx.profile is None:
            return
        self.title_page.refresh()
        self.home.reload()

    def open_search(self) -> None:
        self.show_page(self.search, remember=self.current() is not self.search)
        self.search.focus_box()

    def open_downloads(self) -> None:
        self.show_page(self.downloads, remember=self.current() is not self.downloads)
        self.downloads.reload()
        self._ensure_player()

    def play_download(self, info, detail) -> None:
        """Play a stored title: license checks and the decrypting transport (no service needed)."""
        service = self.ctx.downloads
        if service is None or not self._ensure_player():
            return
        assert self.player is not None
        name, episode = _download_name(info, detail)
        self.show_page(self.player)
        self.player.start_offline_pending(name)
        service.prepare_playback(info.id, not self.ctx.offline,
                                 lambda op: self.player.start_offline(op, name),  # type: ignore[union-attr]
                                 self.player.offline_failed)

    def play_tile(self, tile: Tile) -> None:
        """Play straight from a tile (hero button, Continue Watching)."""
        profile = self.ctx.profile
        if profile is None:
            return
        source = self.ctx.source
        self.ctx.tasks.run(lambda: source.title(tile.title_id, profile.id),
                           lambda d: self._play_detail_from_tile(d, tile), self._show_error, key="play-tile")

    def _play_detail_from_tile(self, d: TitleDetail, tile: Tile) -> None:
        self.title_page.set_detail(d)
        ep = d.find_episode(tile.episode_id) if tile.episode_id else None
        if ep is not None:
            self.play(d, ep, ep.position_s)
        else:
            ep2, start = self.title_page.resume_target()
            self.play(d, ep2, start)

    def play(self, detail: TitleDetail, episode: Episode | None, start_s: float) -> None:
        if not self._ensure_player():
            self.statusBar().showMessage("Playback is not available in this build.", 5000)
            return
        assert self.player is not None
        self.show_page(self.player)
        self.player.start(detail, episode, start_s)

    def _set_fullscreen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def _show_error(self, err: MarqueeError) -> None:
        self.statusBar().showMessage(err.user_message, 6000)

    # ------------------------------------------------------------ menu, settings
    def _build_menu(self) -> None:
        self.menu.clear()
        if self.ctx.profile is not None:
            self.menu.addSection(self.ctx.profile.name)
        switch = QAction("Switch profile", self)
        switch.triggered.connect(self.switch_profile)
        settings = QAction(icon("settings", 16), "Settings…", self)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        quit_ = QAction("Quit Marquee", self)
        quit_.setShortcut(QKeySequence("Ctrl+Q"))
        quit_.triggered.connect(self.close)
        self.menu.addAction(switch)
        self.menu.addAction(settings)
        self.menu.addSeparator()
        self.menu.addAction(quit_)

    def open_settings(self) -> None:
        from ui.views.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.ctx.settings, self.ctx.abr_catalog, self)
        if dlg.exec():
            self.ctx.settings = dlg.result_settings
            self.ctx.save_settings(dlg.result_settings)

    # ------------------------------------------------------------ offline
    def set_offline(self, offline: bool) -> None:
        was = self.ctx.offline
        self.ctx.offline = offline
        self.offline.setVisible(offline)
        if was and not offline:
            self.ctx.artwork.retry_failed()
            if self.ctx.profile is not None:
                self.home.reload()
            elif self.stack.currentWidget() is self.picker:
                self.picker.reload()

    def _check_health(self) -> None:
        health = getattr(self.ctx.source, "health", None)
        if health is None:
            return
        self.ctx.tasks.run(health, lambda ok: self.set_offline(not ok), lambda _e: self.set_offline(True),
                           key="health")

    # ------------------------------------------------------------ window state
    def _restore_geometry(self) -> None:
        g = self.ctx.state.geometry
        restored = False
        if g:
            try:
                restored = self.restoreGeometry(QByteArray(base64.b64decode(g)))
            except ValueError:
                restored = False
        if not restored:
            self.resize(1440, 900)

    def closeEvent(self, e: QCloseEvent) -> None:
        if self.player is not None:
            self.player.shutdown()
        if self.ctx.downloads is not None:
            self.ctx.downloads.shutdown()
        self.ctx.state.geometry = base64.b64encode(bytes(self.saveGeometry().data())).decode()
        self.ctx.state.save()
        self._health.stop()
        super().closeEvent(e)


def _download_name(info, detail) -> tuple[str, str]:
    from ui.views.downloads_page import display_name  # noqa: PLC0415

    name, episode = display_name(info, detail)
    return (f"{name}  ·  {episode}" if episode else name), episode


def _avatar_icon(profile: Profile):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

    pm = QPixmap(64, 64)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(profile.avatar_color) if QColor(profile.avatar_color).isValid() else QColor("#e8485c"))
    p.drawRoundedRect(QRectF(0, 0, 64, 64), 10, 10)
    f = QFont()
    f.setPixelSize(34)
    f.setBold(True)
    p.setFont(f)
    p.setPen(QColor("white"))
    p.drawText(QRectF(0, 0, 64, 64), Qt.AlignmentFlag.AlignCenter, initial(profile))
    p.end()
    return QIcon(pm)
