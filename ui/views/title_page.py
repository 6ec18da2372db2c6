"""Title page: backdrop, metadata, actions; seasons and episodes for series."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from marquee.errors import MarqueeError
from ui.catalog import Episode, Tile, TitleDetail, format_clock, format_runtime
from ui.context import AppContext
from ui.icons import icon
from ui.models import EpisodeModel, EpisodeRole
from ui.views.artwork_view import ArtworkView
from ui.views.more_like_this import MoreLikeThis

if TYPE_CHECKING:
    from ui.views.download_options import DownloadChoices, DownloadOptionsDialog


class EpisodeDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(600, 86)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        ep: Episode | None = index.data(EpisodeRole)
        if ep is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(0, 4, 0, -4)
        active = bool(option.state & (QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_MouseOver))
        if active:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#22222a"))
            p.drawRoundedRect(r, 8, 8)
        f = QFont(p.font())
        f.setPixelSize(26)
        p.setFont(f)
        p.setPen(QColor("#8c8c98"))
        p.drawText(QRect(r.left() + 12, r.top(), 50, r.height()), Qt.AlignmentFlag.AlignCenter, str(ep.number))
        f.setPixelSize(16)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor("#f2f2f5"))
        text_left = r.left() + 76
        p.drawText(QRect(text_left, r.top() + 10, r.width() - 200, 22), Qt.AlignmentFlag.AlignLeft, ep.title)
        f.setBold(False)
        f.setPixelSize(13)
        p.setFont(f)
        p.setPen(QColor("#a3a3ae"))
        syn = p.fontMetrics().elidedText(ep.synopsis, Qt.TextElideMode.ElideRight, r.width() - 200)
        p.drawText(QRect(text_left, r.top() + 36, r.width() - 200, 20), Qt.AlignmentFlag.AlignLeft, syn)
        p.drawText(QRect(r.right() - 110, r.top() + 10, 96, 22), Qt.AlignmentFlag.AlignRight, format_runtime(ep.runtime_s))
        if ep.progress is not None:
            bar = QRect(text_left, r.bottom() - 14, min(260, r.width() - 200), 4)
            p.fillRect(bar, QColor(255, 255, 255, 50))
            p.fillRect(QRect(bar.left(), bar.top(), max(2, round(bar.width() * ep.progress)), 4), QColor("#e8485c"))
        p.restore()


class Backdrop(ArtworkView):

    def backdrop_rect(self) -> QRect:
        """Right-anchored, 3/4 of the page wide; its lower part (the artwork's own lettering)
        fades into the page before the episode list begins."""
        w = round(self.width() * 0.75)
        return QRect(self.width() - w, 0, w, round(w * 9 / 16))

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0e0e11"))
        r = self.backdrop_rect()
        dpr = self.devicePixelRatioF()
        pm = self._ctx.artwork.pixmap(self.url, QSize(round(r.width() * dpr), round(r.height() * dpr))) \
            if self.url else None
        if pm is not None:
            p.drawPixmap(r, pm)
        side = QLinearGradient(r.left(), 0, self.width(), 0)
        side.setColorAt(0, QColor(14, 14, 17, 255))
        side.setColorAt(0.45, QColor(14, 14, 17, 140))
        side.setColorAt(1, QColor(14, 14, 17, 20))
        p.fillRect(r, side)
        bottom = QLinearGradient(0, r.height() * 0.28, 0, r.height() * 0.62)
        bottom.setColorAt(0, QColor(14, 14, 17, 0))
        bottom.setColorAt(1, QColor(14, 14, 17, 255))
        p.fillRect(QRect(0, 0, self.width(), r.height()), bottom)
        p.end()


class TitlePage(QWidget):
    play = Signal(object, object, float)  # TitleDetail, Episode | None, start seconds
    back = Signal()
    showDownloads = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._ctx = ctx
        self.detail: TitleDetail | None = None
        self.episodes = EpisodeModel(self)

        self.backdrop = Backdrop(ctx)
        self.page_scroll = scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.backdrop)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        lay = QVBoxLayout(self.backdrop)
        lay.setContentsMargins(56, 100, 56, 40)
        lay.setSpacing(10)
        self.back_button = QPushButton(icon("back", 20), "  Back", objectName="Ghost")
        self.back_button.clicked.connect(self.go_back)
        lay.addWidget(self.back_button, alignment=Qt.AlignmentFlag.AlignLeft)
        lay.addSpacing(60)
        self.title = QLabel(objectName="H1")
        self.title.setWordWrap(True)
        self.title.setMaximumWidth(760)
        lay.addWidget(self.title)
        meta_row = QHBoxLayout()
        meta_row.setSpacing(12)
        self.year = QLabel(objectName="Meta")
        self.badge = QLabel(objectName="Badge")
        self.runtime = QLabel(objectName="Meta")
        self.genres = QLabel(objectName="Meta")
        for w in (self.year, self.badge, self.runtime, self.genres):
            meta_row.addWidget(w)
        meta_row.addStretch(1)
        lay.addLayout(meta_row)
        self.synopsis = QLabel(objectName="Synopsis")
        self.synopsis.setWordWrap(True)
        self.synopsis.setMaximumWidth(680)
        lay.addSpacing(6)
        lay.addWidget(self.synopsis)
        self.cast = QLabel(objectName="Muted")
        self.cast.setWordWrap(True)
        self.cast.setMaximumWidth(680)
        lay.addWidget(self.cast)
        lay.addSpacing(16)

        actions = QHBoxLayout()
        actions.setSpacing(12)
        self.play_button = QPushButton(icon("play", 22, "#0e0e11"), "  Play", objectName="Primary")
        self.restart_button = QPushButton("Start over", objectName="Ghost")
        self.download_button = QPushButton(icon("download", 18), "  Download", objectName="Ghost")
        self.download_menu = QMenu(self)
        self.download_button.clicked.connect(self._download_clicked)
        self.download_options_button = QPushButton(icon("settings", 18), "", objectName="Ghost")
        self.download_options_button.setToolTip("Download options: quality, audio, subtitles, format")
        self.download_options_button.clicked.connect(self.open_download_options)
        self.options_dialog: DownloadOptionsDialog | None = None
        if ctx.downloads is not None:
            ctx.downloads.changed.connect(self._update_download)
            ctx.downloads.progress.connect(self._download_progress)
            ctx.downloads.failed.connect(self._download_failed)
        self.list_button = QPushButton(objectName="Ghost")
        for b in (self.play_button, self.restart_button, self.download_button, self.download_options_button,
                  self.list_button):
            actions.addWidget(b)
        actions.addStretch(1)
        lay.addLayout(actions)
        self.play_button.clicked.connect(self._play_clicked)
        self.restart_button.clicked.connect(self._restart_clicked)
        self.list_button.clicked.connect(self._toggle_list)

        self.series_box = QWidget()
        sb = QVBoxLayout(self.series_box)
        sb.setContentsMargins(0, 24, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Episodes", objectName="H2"))
        head.addStretch(1)
        self.season = QComboBox()
        self.season.setMinimumWidth(140)
        self.season.currentIndexChanged.connect(self._season_changed)
        head.addWidget(self.season)
        sb.addLayout(head)
        self.episode_list = QListView(objectName="EpisodeList")
        self.episode_list.setModel(self.episodes)
        self.episode_list.setItemDelegate(EpisodeDelegate(self.episode_list))
        self.episode_list.setMouseTracking(True)
        self.episode_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.episode_list.activated.connect(self._episode_activated)
        self.episode_list.clicked.connect(self._episode_activated)
        self.episode_list.setMaximumWidth(900)
        sb.addWidget(self.episode_list)
        self.series_box.setMaximumWidth(900)
        lay.addWidget(self.series_box)
        self.more_like_this = MoreLikeThis(ctx)
        self.more_like_this.opened.connect(self._open_similar)
        self.trail: list[str] = []  # the titles this page came from through More like this
        lay.addWidget(self.more_like_this)
        self.status = QLabel(objectName="Meta")
        lay.addWidget(self.status)
        lay.addStretch(1)

    # ------------------------------------------------------------ data
    def load(self, title_id: str) -> None:
        """Show ``title_id``, opened from outside the page (home, search): Back leaves the page."""
        self.trail.clear()
        self._load(title_id)

    def _open_similar(self, tile: Tile) -> None:
        if self.detail is not None:
            self.trail.append(self.detail.id)
        self._load(tile.title_id)

    def go_back(self) -> None:
        """Back to the title this one was opened from through More like this, else off the page."""
        if self.trail:
            self._load(self.trail.pop())
        else:
            self.back.emit()

    def _load(self, title_id: str) -> None:
        profile = self._ctx.profile
        if profile is None:
            return
        self.detail = None
        self.title.setText("")
        self.status.setText("Loading…")
        self.series_box.hide()
        self.more_like_this.set_tiles(())
        self.page_scroll.verticalScrollBar().setValue(0)
        source = self._ctx.source
        self._ctx.tasks.run(lambda: source.title(title_id, profile.id), self.set_detail, self._failed, key="title")

    def refresh(self) -> None:
        """Ask again for the title shown (its resume point moved), keeping it on screen meanwhile."""
        profile, detail = self._ctx.profile, self.detail
        if profile is None or detail is None:
            return
        source, title_id = self._ctx.source, detail.id
        self._ctx.tasks.run(lambda: source.title(title_id, profile.id), self._refreshed, lambda _e: None,
                            key="title")

    def _refreshed(self, d: TitleDetail) -> None:
        if self.detail is not None and self.detail.id == d.id:  # still the title shown
            self.set_detail(d)

    def _failed(self, err: MarqueeError) -> None:
        self.status.setText(err.user_message)

    def set_detail(self, d: TitleDetail) -> None:
        self.detail = d
        self.status.setText("")
        self.backdrop.url = d.banner_art
        self.backdrop.update()
        self.title.setText(d.title)
        self.year.setText(str(d.year) if d.year else "")
        self.badge.setText(d.maturity)
        self.badge.setVisible(bool(d.maturity))
        if d.is_series:
            n = len(d.seasons)
            self.runtime.setText(f"{n} season{'s' if n != 1 else ''}")
        else:
            self.runtime.setText(format_runtime(d.runtime_s) if d.runtime_s else "")
        self.genres.setText(" · ".join(d.genres))
        self.synopsis.setText(d.synopsis)
        self.cast.setText(f"Starring: {', '.join(d.cast)}" if d.cast else "")
        self.series_box.setVisible(d.is_series)
        self.more_like_this.set_tiles(d.more_like_this)
        self.season.blockSignals(True)
        self.season.clear()
        for s in d.seasons:
            self.season.addItem(f"Season {s.number}")
        self.season.blockSignals(False)
        if d.is_series:
            self.season.setCurrentIndex(self._resume_season())
            self._season_changed(self.season.currentIndex())
        self._update_buttons()
        self.play_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _resume_season(self) -> int:
        d = self.detail
        if d is None:
            return 0
        for i, s in enumerate(d.seasons):
            if any(e.progress for e in s.episodes):
                return i
        return 0

    def resume_target(self) -> tuple[Episode | None, float]:
        """What Play does: the episode (for series) and the start position."""
        d = self.detail
        if d is None:
            return None, 0.0
        if not d.is_series:
            return None, d.position_s
        flat = [e for s in d.seasons for e in s.episodes]
        if d.resume_episode_id:
            ep = d.find_episode(d.resume_episode_id)
            if ep is not None:
                return ep, d.resume_position_s
        started = [e for e in flat if e.progress and e.progress < 0.95]
        if started:
            return started[-1], started[-1].position_s
        return (flat[0] if flat else None), 0.0

    def _update_buttons(self) -> None:
        d = self.detail
        if d is None:
            return
        ep, start = self.resume_target()
        if start > 5:
            label = f"  Resume from {format_clock(start)}"
            if ep is not None:
                label = f"  Resume S{self._season_of(ep)}:E{ep.number} · {format_clock(start)}"
        elif ep is not None:
            label = f"  Play S{self._season_of(ep)}:E{ep.number}"
        else:
            label = "  Play"
        self.play_button.setText(label)
        self.restart_button.setVisible(start > 5)
        self._update_download()
        in_list = self._ctx.profile is not None and self._ctx.state.in_my_list(self._ctx.profile.id, d.id)
        self.list_button.setIcon(icon("check" if in_list else "plus", 18))
        self.list_button.setText("  In My List" if in_list else "  My List")

    # ------------------------------------------------------------ download
    def download_target(self) -> tuple[str, str | None] | None:
        """(title id, episode id) that Download stores: the film, or the episode Play would play."""
        d = self.detail
        if d is None:
            return None
        if not d.is_series:
            return d.id, None
        ep, _ = self.resume_target()
        return (d.id, ep.id) if ep is not None else None

    def _download_info(self):  # type: ignore[no-untyped-def]
        target = self.download_target()
        service = self._ctx.downloads
        if target is None or service is None:
            return None
        return service.info_for(target[1] or target[0])

    def _update_download(self) -> None:
        from ui.views.downloads_page import state_text  # noqa: PLC0415

        b = self.download_button
        service = self._ctx.downloads
        target = self.download_target()
        if service is None or target is None:
            b.setEnabled(False)
            b.setText("  Download")
            b.setToolTip("Offline downloads are not available here.")
            self.download_options_button.setVisible(False)
            return
        info = self._download_info()
        unusable = bool(service.error) and not service.passphrase_wanted  # a passphrase: Download asks it
        b.setEnabled(not (info is None and (self._ctx.offline or unusable)))
        self.download_options_button.setVisible(info is None)
        self.download_options_button.setEnabled(b.isEnabled())
        ep = self.detail.find_episode(target[1]) if self.detail is not None and target[1] else None
        what = f" S{self._season_of(ep)}:E{ep.number}" if ep is not None else ""
        if info is None:
            b.setIcon(icon("download", 18))
            b.setText(f"  Download{what}")
            b.setToolTip(service.error or ("Downloads need the service." if self._ctx.offline
                                           else "Store it on this computer to watch without a connection."))
        else:
            b.setIcon(icon("check" if info.state == "completed" else "download", 18))
            b.setText(f"  {state_text(info)}{what if info.state == 'completed' else ''}")
            b.setToolTip("Manage this download")

    def _download_progress(self, p) -> None:  # type: ignore[no-untyped-def]
        from ui.views.downloads_page import state_text  # noqa: PLC0415

        info = self._download_info()
        if info is not None and info.id == p.download_id and info.state == p.state:
            self.download_button.setText(f"  {state_text(info, p)}")

    def _download_failed(self, message: str) -> None:
        if self.isVisible():
            self.status.setText(message)

    def _download_clicked(self) -> None:
        service = self._ctx.downloads
        target = self.download_target()
        if service is None or target is None:
            return
        info = self._download_info()
        if info is None:
            service.add(*target, quality=str(self._ctx.settings["downloads.quality"]))
            self.download_button.setText("  Preparing…")
            self.download_button.setEnabled(False)
            self.download_options_button.setEnabled(False)
            return
        m = self.download_menu
        m.clear()
        if info.state in ("queued", "downloading"):
            m.addAction("Pause download", lambda: service.pause(info.id))
        elif info.state in ("paused", "failed"):
            m.addAction("Resume download", lambda: service.resume(info.id))
        m.addAction("Remove download", lambda: service.remove(info.id))
        m.addSeparator()
        m.addAction("Go to Downloads", self.showDownloads.emit)
        m.popup(self.download_button.mapToGlobal(self.download_button.rect().bottomLeft()))

    def open_download_options(self) -> None:
        """Download with choices for this one title (the Download button uses the settings)."""
        from ui.views.download_options import DownloadOptionsDialog, default_choices  # noqa: PLC0415

        target = self.download_target()
        if self._ctx.downloads is None or target is None or self.detail is None:
            return
        what = self.download_button.text().strip().removeprefix("Download").strip()
        dialog = DownloadOptionsDialog(f"{self.detail.title} {what}".strip(), default_choices(self._ctx.settings),
                                       self)
        dialog.accepted.connect(lambda: self._download_with(target, dialog.choices))
        dialog.finished.connect(lambda _result: self._options_closed(dialog))
        self.options_dialog = dialog
        dialog.open()

    def _options_closed(self, dialog: DownloadOptionsDialog) -> None:
        if self.options_dialog is dialog:
            self.options_dialog = None
        dialog.deleteLater()

    def _download_with(self, target: tuple[str, str | None], c: DownloadChoices) -> None:
        service = self._ctx.downloads
        if service is None:
            return
        service.add(*target, quality=c.quality, audio=list(c.audio), subtitles=list(c.subtitles), format=c.format)
        self.download_button.setText("  Preparing…")
        self.download_button.setEnabled(False)
        self.download_options_button.setEnabled(False)

    def _season_of(self, ep: Episode) -> int:
        d = self.detail
        for s in d.seasons if d else ():
            if ep in s.episodes:
                return s.number
        return 1

    def _season_changed(self, i: int) -> None:
        if self.detail is None or not 0 <= i < len(self.detail.seasons):
            self.episodes.set_episodes([])
            return
        eps = self.detail.seasons[i].episodes
        self.episodes.set_episodes(eps)
        self.episode_list.setFixedHeight(max(1, len(eps)) * 86 + 6)

    # ------------------------------------------------------------ actions
    def _play_clicked(self) -> None:
        if self.detail is not None:
            ep, start = self.resume_target()
            self.play.emit(self.detail, ep, start)

    def _restart_clicked(self) -> None:
        if self.detail is not None:
            ep, _ = self.resume_target()
            self.play.emit(self.detail, ep, 0.0)

    def _episode_activated(self, index: QModelIndex) -> None:
        ep = self.episodes.episode(index.row())
        if self.detail is not None and ep is not None:
            self.play.emit(self.detail, ep, ep.position_s if ep.progress and ep.progress < 0.95 else 0.0)

    def _toggle_list(self) -> None:
        if self.detail is None or self._ctx.profile is None:
            return
        self._ctx.state.toggle_my_list(self._ctx.profile.id, self.detail.id)
        self._ctx.state.save()
        self._update_buttons()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Backspace):
            self.go_back()
            return
        super().keyPressEvent(e)
