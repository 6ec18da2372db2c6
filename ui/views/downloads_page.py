"""Downloads: what is stored for offline viewing, how far each download is, how long
its license lasts, how much disk it takes; Play (works without the service), Pause /
Resume, Remove.

Renders ``DownloadsService`` snapshots; names and posters come from the catalogue
(the service client keeps its last answers, so they show offline too).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from downloads.api import DownloadInfo
from downloads.manager import DownloadProgress
from marquee.errors import MarqueeError
from ui.catalog import TitleDetail
from ui.context import AppContext
from ui.icons import icon
from ui.views.artwork_view import ArtworkView

log = logging.getLogger("marquee.ui.downloads")

POSTER = QSize(80, 120)


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def format_left(seconds: float | None) -> str:
    """Plain words for a remaining time: "29 days", "47 h", "35 min", "expired"."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return "expired"
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)} days"
    if seconds >= 2 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{max(1, int(seconds // 60))} min"


def state_text(info: DownloadInfo, live: DownloadProgress | None = None) -> str:
    """The state as the title page's Download button and the list show it."""
    percent = live.percent if live is not None and live.state == info.state else info.percent
    if info.state == "completed":
        return "Downloaded"
    if info.state == "downloading":
        return f"Downloading {percent:.0f} %"
    if info.state == "queued":
        return "Queued"
    if info.state == "paused":
        return f"Paused · {percent:.0f} %"
    return "Download failed"


def license_text(info: DownloadInfo) -> str:
    lic = info.license
    parts = [f"License: {format_left(lic.license_remaining_s)} left"]
    if lic.playback_remaining_s is not None:
        parts.append(f"{format_left(lic.playback_remaining_s)} left to finish watching")
    elif lic.playback_duration_s:
        parts.append(f"{format_left(lic.playback_duration_s)} to watch once started")
    return "  ·  ".join(parts)


def display_name(info: DownloadInfo, detail: TitleDetail | None) -> tuple[str, str]:
    """(title, episode line) from the catalogue, or the ids while it is not known."""
    if detail is None:
        return info.title_id, info.episode_id or ""
    if info.episode_id:
        for s in detail.seasons:
            for e in s.episodes:
                if e.id == info.episode_id:
                    return detail.title, f"S{s.number}:E{e.number}  ·  {e.title}"
    return detail.title, ""


class Poster(ArtworkView):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setFixedSize(POSTER)

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        dpr = self.devicePixelRatioF()
        pm = self._ctx.artwork.pixmap(self.url, QSize(round(self.width() * dpr), round(self.height() * dpr)), 6) \
            if self.url else None
        if pm is not None:
            p.drawPixmap(self.rect(), pm)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(Qt.GlobalColor.darkGray)
            p.setOpacity(0.25)
            p.drawRoundedRect(self.rect(), 6, 6)
        p.end()


class DownloadRowWidget(QWidget):
    play = Signal(str)
    pause = Signal(str)
    resume = Signal(str)
    remove = Signal(str)

    def __init__(self, ctx: AppContext, info: DownloadInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DownloadRow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.info = info
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(18)
        self.poster = Poster(ctx)
        lay.addWidget(self.poster, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(4)
        self.name = QLabel(objectName="DownloadName")
        self.episode = QLabel(objectName="Meta")
        self.meta = QLabel(objectName="Muted")
        self.license = QLabel(objectName="Muted")
        self.bar = QProgressBar(objectName="DownloadBar")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        self.bar.setMaximumWidth(420)
        self.status = QLabel(objectName="Hint")
        for w in (self.name, self.episode, self.meta, self.license, self.bar, self.status):
            text.addWidget(w)
        text.addStretch(1)
        lay.addLayout(text, 1)
        self.play_button = QPushButton(icon("play", 18, "#0e0e11"), "  Play", objectName="Primary")
        self.pause_button = QPushButton(objectName="Ghost")
        self.remove_button = QPushButton(icon("close", 16), "  Remove", objectName="Ghost")
        for b in (self.play_button, self.pause_button, self.remove_button):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignVCenter)
        self.play_button.clicked.connect(lambda: self.play.emit(self.info.id))
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.remove_button.clicked.connect(lambda: self.remove.emit(self.info.id))
        self.set_info(info, None, None)

    def _pause_or_resume(self) -> None:
        (self.pause if self.info.state in ("queued", "downloading") else self.resume).emit(self.info.id)

    def set_info(self, info: DownloadInfo, detail: TitleDetail | None, live: DownloadProgress | None) -> None:
        self.info = info
        if detail is not None:
            self.poster.url = detail.poster
            self.poster.update()
        name, episode = display_name(info, detail)
        self.name.setText(name)
        self.episode.setText(episode)
        self.episode.setVisible(bool(episode))
        size = info.bytes if info.state == "completed" else info.bytes_total
        langs = ", ".join(info.audio)
        subs = ", ".join(info.subtitles)
        meta = [f"{info.height}p" if info.height else info.quality, format_bytes(size),
                f"Audio {langs}" if langs else "", f"Subtitles {subs}" if subs else ""]
        self.meta.setText("  ·  ".join(m for m in meta if m))
        self.license.setText(license_text(info))
        done = info.state == "completed"
        percent = live.percent if live is not None and live.download_id == info.id else info.percent
        self.bar.setVisible(not done)
        self.bar.setValue(round(percent * 10))
        status = state_text(info, live)
        if live is not None and info.state == "downloading" and live.speed_bps > 0:
            status += f"  ·  {format_bytes(live.speed_bps)}/s"
            if live.eta_s is not None:
                status += f"  ·  {format_left(live.eta_s) if live.eta_s >= 60 else f'{live.eta_s:.0f} s'} left"
        if info.state == "failed" and info.message:
            status += f": {info.message}"
        self.status.setText(status)
        self.status.setVisible(not done)
        self.play_button.setVisible(done)
        self.pause_button.setVisible(not done)
        active = info.state in ("queued", "downloading")
        self.pause_button.setText("Pause" if active else ("Retry" if info.state == "failed" else "Resume"))


class DownloadsPage(QWidget):
    playDownload = Signal(object, object)  # DownloadInfo, TitleDetail | None
    openTitle = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._ctx = ctx
        self.details: dict[str, TitleDetail] = {}
        self.rows: dict[str, DownloadRowWidget] = {}
        self._live: dict[str, DownloadProgress] = {}
        self._asked: set[str] = set()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(56, 24, 56, 24)
        outer.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(QLabel("Downloads", objectName="H2"))
        head.addStretch(1)
        self.storage = QLabel(objectName="Meta")
        head.addWidget(self.storage, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addLayout(head)
        self.folder = QLabel(objectName="Hint")
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.folder)
        self.message = QLabel(objectName="Error")
        self.message.setWordWrap(True)
        self.message.hide()
        outer.addWidget(self.message)
        self._service_error = ""  # the last ``service.error`` shown: hidden again once it is gone
        self.unlock_button = QPushButton("Unlock downloads…", objectName="Accent")
        self.unlock_button.hide()
        outer.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addSpacing(14)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget(objectName="Page")
        self.list = QVBoxLayout(body)
        self.list.setContentsMargins(0, 0, 12, 0)
        self.list.setSpacing(12)
        self.empty = self._empty_state()
        self.list.addWidget(self.empty)
        self.list.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        service = ctx.downloads
        if service is not None:
            self.unlock_button.clicked.connect(service.unlock)
            service.changed.connect(self._show_items)
            service.progress.connect(self._on_progress)
            service.failed.connect(self.show_message)
        self._show_items()

    def _empty_state(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 60, 0, 0)
        lay.setSpacing(8)
        glyph = QLabel()
        glyph.setPixmap(icon("download", 48, "#6b6b75").pixmap(48, 48))
        lay.addWidget(glyph, 0, Qt.AlignmentFlag.AlignHCenter)
        title = QLabel("No downloads yet", objectName="RowTitle")
        lay.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        self.empty_hint = QLabel("Download a film or an episode from its page to watch it without a connection.",
                                 objectName="Muted")
        lay.addWidget(self.empty_hint, 0, Qt.AlignmentFlag.AlignHCenter)
        return box

    def reload(self) -> None:
        if self._ctx.downloads is not None:
            self._ctx.downloads.refresh()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _on_progress(self, p: DownloadProgress) -> None:
        self._live[p.download_id] = p
        row = self.rows.get(p.download_id)
        if row is not None:
            row.set_info(row.info, self.details.get(row.info.title_id), p)

    def _show_items(self) -> None:
        service = self._ctx.downloads
        if service is None:
            self.storage.setText("")
            self.empty_hint.setText("Downloads are not available in this build.")
            return
        if service.error:
            self.show_message(service.error)
        elif self.message.text() == self._service_error:
            self.show_message("")
        self._service_error = service.error
        self.unlock_button.setText("Unlock downloads…" if service.passphrase_wanted == "unlock"
                                   else "Choose a passphrase…")
        self.unlock_button.setVisible(bool(service.passphrase_wanted))
        items = sorted(service.items.values(), key=lambda i: (i.state != "downloading", i.label))
        for did in [d for d in self.rows if d not in service.items]:
            w = self.rows.pop(did)
            self.list.removeWidget(w)
            w.deleteLater()
        for i, info in enumerate(items):
            row = self.rows.get(info.id)
            if row is None:
                row = DownloadRowWidget(self._ctx, info)
                row.play.connect(lambda did: self._play(did))
                row.pause.connect(service.pause)
                row.resume.connect(service.resume)
                row.remove.connect(service.remove)
                self.rows[info.id] = row
            self.list.insertWidget(i, row)
            row.set_info(info, self.details.get(info.title_id), self._live.get(info.id))
            self._want_detail(info.title_id)
        self.empty.setVisible(not items and service.passphrase_wanted != "unlock")  # locked: not "no downloads"
        st = service.storage
        if st is not None:
            n = len(items)
            self.storage.setText(f"{n} download{'s' if n != 1 else ''}  ·  {format_bytes(st.total_bytes)} on disk"
                                 f"  ·  {format_bytes(st.free_bytes)} free")
            self.folder.setText(st.folder)

    def _want_detail(self, title_id: str) -> None:
        profile = self._ctx.profile
        if title_id in self.details or title_id in self._asked or profile is None:
            return
        self._asked.add(title_id)
        source = self._ctx.source

        def got(d: TitleDetail) -> None:
            self.details[title_id] = d
            self._show_items()

        def failed(err: MarqueeError) -> None:
            self._asked.discard(title_id)
            log.info("no catalogue entry for %s: %s", title_id, err.message)

        self._ctx.tasks.run(lambda: source.title(title_id, profile.id), got, failed, key=f"download-title-{title_id}")

    def _play(self, did: str) -> None:
        service = self._ctx.downloads
        info = service.items.get(did) if service is not None else None
        if info is not None:
            self.playDownload.emit(info, self.details.get(info.title_id))
