"""The player: video, controls that hide after inactivity, state and error cards,
audio/subtitle and quality menus, next-episode countdown, help and stats overlays.

All intents go through ``PlaybackBridge``; the view only renders snapshots.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from marquee.errors import MarqueeError
from player.events import Failover, PlaybackError, PlaybackSnapshot, PlaybackState, PlayerEvent, Switch
from ui.bridge import PlaybackBridge
from ui.catalog import Episode, PlaybackInfo, TitleDetail, format_clock
from ui.context import AppContext
from ui.icons import icon
from ui.playback import make_request
from ui.stats_history import StatsHistory
from ui.views.seekbar import SeekBar

if TYPE_CHECKING:  # pyqtgraph: imported on the first toggle
    from ui.views.stats_overlay import StatsOverlay
from ui.views.video import BlackSurface, VideoWidget

log = logging.getLogger("marquee.ui.player")

HIDE_AFTER_MS = 3000
COUNTDOWN_S = 8
REPORT_EVERY_S = 10.0
SHORTCUTS = (("Space", "Play / pause"), ("F", "Fullscreen"), ("Esc", "Exit fullscreen / back"),
             ("← →", "Back / forward 10 s"), ("↑ ↓", "Volume"), ("M", "Mute"), ("C", "Subtitles on/off"),
             ("N", "Next episode"), ("I", "Stats overlay"), ("H  or  ?", "This help"))


def _button(name: str, tip: str, size: int = 26) -> QToolButton:
    b = QToolButton(objectName="PlayerButton")
    b.setIcon(icon(name, size))
    b.setIconSize(b.iconSize().__class__(size, size))
    b.setToolTip(tip)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.setAutoRaise(True)
    return b


class Overlay(QWidget):
    """Transparent layer over the video; paints the top/bottom scrims when controls show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.scrims = True

    def paintEvent(self, e: QPaintEvent) -> None:
        if not self.scrims:
            return
        p = QPainter(self)
        top = QLinearGradient(0, 0, 0, 120)
        top.setColorAt(0, QColor(0, 0, 0, 190))
        top.setColorAt(1, QColor(0, 0, 0, 0))
        p.fillRect(0, 0, self.width(), 120, top)
        h = self.height()
        bottom = QLinearGradient(0, h - 170, 0, h)
        bottom.setColorAt(0, QColor(0, 0, 0, 0))
        bottom.setColorAt(1, QColor(0, 0, 0, 215))
        p.fillRect(0, h - 170, self.width(), 170, bottom)
        p.end()


class PlayerView(QWidget):
    back = Signal()
    fullscreenRequested = Signal(bool)
    progressSaved = Signal()  # after the player closed: the last position has reached the service

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PlayerRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self._ctx = ctx
        assert ctx.engine_factory is not None
        self.bridge = PlaybackBridge(ctx.engine_factory, self)
        self.history = StatsHistory()
        self.detail: TitleDetail | None = None
        self.episode: Episode | None = None
        self._t0 = time.monotonic()
        self._last_report = 0.0
        self._fullscreen = False
        self._countdown = 0

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        if self.bridge.render_source is not None:
            self.video: QWidget = VideoWidget(self.bridge.render_source)
            self.video.failed.connect(lambda msg: self._show_card(msg, retry=False))
        else:
            self.video = BlackSurface()
        self.video.setMouseTracking(True)
        grid.addWidget(self.video, 0, 0)
        self.overlay = Overlay()
        grid.addWidget(self.overlay, 0, 0)
        self._build_controls()
        self.overlay.installEventFilter(self)
        self.video.installEventFilter(self)

        self._hide_timer = QTimer(self, singleShot=True, interval=HIDE_AFTER_MS)
        self._hide_timer.timeout.connect(self._auto_hide)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._countdown_tick)

        self.bridge.snapshot.connect(self._on_snapshot)
        self.bridge.playerEvent.connect(self._on_event)
        self.bridge.tracksChanged.connect(self._refresh_menus)
        self.prepared = False
        # mpv and the HTTP client are created now, in the background: Play is then instant.
        ctx.tasks.run(self.bridge.prepare, self._prepared, lambda e: log.warning("engine prepare: %s", e.message))

    def _prepared(self, _result: object) -> None:
        self.prepared = True

    # ------------------------------------------------------------ layout
    def _build_controls(self) -> None:
        lay = QVBoxLayout(self.overlay)
        lay.setContentsMargins(28, 20, 28, 18)
        self.top = QWidget(objectName="PlayerTop")
        top = QHBoxLayout(self.top)
        top.setContentsMargins(0, 0, 0, 0)
        self.back_button = _button("back", "Back (Esc)", 28)
        self.back_button.clicked.connect(self._back)
        self.title_label = QLabel(objectName="PlayerTitle")
        top.addWidget(self.back_button)
        top.addSpacing(8)
        top.addWidget(self.title_label, 1)
        self.help_button = _button("help", "Keyboard shortcuts (H)", 24)
        self.help_button.clicked.connect(self.toggle_help)
        top.addWidget(self.help_button)
        lay.addWidget(self.top)

        middle = QHBoxLayout()
        middle.addStretch(1)
        center = QVBoxLayout()
        center.addStretch(1)
        self.card = QWidget(objectName="StateCard")
        self.card.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        cl = QVBoxLayout(self.card)
        cl.setContentsMargins(28, 22, 28, 22)
        self.card_text = QLabel(objectName="StateText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.card_text.setWordWrap(True)
        self.card_text.setMinimumWidth(320)
        self.retry_button = QPushButton("Retry", objectName="Accent")
        self.retry_button.clicked.connect(self.retry)
        cl.addWidget(self.card_text)
        cl.addWidget(self.retry_button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.card.hide()
        center.addWidget(self.card, alignment=Qt.AlignmentFlag.AlignCenter)
        self.next_card = self._build_next_card()
        center.addWidget(self.next_card, alignment=Qt.AlignmentFlag.AlignRight)
        center.addStretch(1)
        middle.addLayout(center, 3)
        self.help = self._build_help()
        middle.addWidget(self.help, 0, Qt.AlignmentFlag.AlignVCenter)
        self.stats: StatsOverlay | None = None  # created on first toggle (pyqtgraph import)
        self._stats_slot = QVBoxLayout()
        middle.addLayout(self._stats_slot)
        lay.addLayout(middle, 1)

        self.bottom = QWidget(objectName="PlayerBottom")
        bl = QVBoxLayout(self.bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        seek_row = QHBoxLayout()
        self.seekbar = SeekBar()
        self.seekbar.seekRequested.connect(self.bridge.seek)
        self.time_label = QLabel("0:00 / 0:00", objectName="PlayerTime")
        seek_row.addWidget(self.seekbar, 1)
        seek_row.addWidget(self.time_label)
        bl.addLayout(seek_row)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.play_button = _button("pause", "Pause (Space)", 30)
        self.play_button.clicked.connect(self.bridge.toggle_pause)
        self.rew_button = _button("rew10", "Back 10 s (←)")
        self.rew_button.clicked.connect(lambda: self.bridge.seek_relative(-10))
        self.fwd_button = _button("fwd10", "Forward 10 s (→)")
        self.fwd_button.clicked.connect(lambda: self.bridge.seek_relative(10))
        self.mute_button = _button("volume", "Mute (M)")
        self.mute_button.clicked.connect(lambda: self.bridge.set_muted(not self.bridge.last.muted))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(110)
        self.volume.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.volume.setValue(int(self._ctx.settings["playback.volume"]))
        self.volume.valueChanged.connect(self.bridge.set_volume)
        for w in (self.play_button, self.rew_button, self.fwd_button, self.mute_button, self.volume):
            row.addWidget(w)
        row.addStretch(1)
        self.next_button = _button("next", "Next episode (N)")
        self.next_button.clicked.connect(self.play_next)
        self.subs_button = _button("subtitles", "Audio & subtitles")
        self.subs_menu = QMenu(self)
        self.subs_button.setMenu(self.subs_menu)
        self.subs_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.quality_button = _button("quality", "Quality")
        self.quality_menu = QMenu(self)
        self.quality_button.setMenu(self.quality_menu)
        self.quality_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.subs_menu.aboutToShow.connect(self._refresh_menus)
        self.quality_menu.aboutToShow.connect(self._refresh_menus)
        self.stats_button = _button("stats", "Stats (I)")
        self.stats_button.clicked.connect(self.toggle_stats)
        self.full_button = _button("fullscreen", "Fullscreen (F)")
        self.full_button.clicked.connect(self.toggle_fullscreen)
        for w in (self.next_button, self.subs_button, self.quality_button, self.stats_button, self.full_button):
            row.addWidget(w)
        bl.addLayout(row)
        lay.addWidget(self.bottom)

    def _build_next_card(self) -> QWidget:
        card = QWidget(objectName="NextCard")
        card.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        lay = QVBoxLayout(card)
        lay.setContentsMargins(20, 16, 20, 16)
        self.next_label = QLabel(objectName="StateText")
        lay.addWidget(self.next_label)
        buttons = QHBoxLayout()
        self.next_now = QPushButton(icon("play", 18, "#0e0e11"), " Play now", objectName="Primary")
        self.next_now.clicked.connect(self.play_next)
        self.next_cancel = QPushButton("Cancel", objectName="Ghost")
        self.next_cancel.clicked.connect(self.cancel_countdown)
        buttons.addWidget(self.next_now)
        buttons.addWidget(self.next_cancel)
        lay.addLayout(buttons)
        card.hide()
        return card

    def _build_help(self) -> QWidget:
        box = QWidget(objectName="HelpOverlay")
        box.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        g = QGridLayout(box)
        g.setContentsMargins(22, 18, 22, 18)
        g.setHorizontalSpacing(16)
        g.addWidget(QLabel("Keyboard shortcuts", objectName="RowTitle"), 0, 0, 1, 2)
        for i, (key, what) in enumerate(SHORTCUTS, start=1):
            g.addWidget(QLabel(key, objectName="Key"), i, 0, Qt.AlignmentFlag.AlignLeft)
            g.addWidget(QLabel(what), i, 1)
        box.hide()
        return box

    # ------------------------------------------------------------ starting
    def start(self, detail: TitleDetail, episode: Episode | None, start_s: float) -> None:
        self.detail, self.episode = detail, episode
        self.cancel_countdown()
        self.history.clear()
        self._t0 = time.monotonic()
        name = detail.title if episode is None else f"{detail.title}  ·  E{episode.number} “{episode.title}”"
        self.title_label.setText(name)
        self.next_button.setVisible(episode is not None and detail.next_episode(episode.id) is not None)
        self._show_card("Starting…", retry=False)
        self.show_controls()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        profile = self._ctx.profile
        if profile is None:
            return
        source = self._ctx.source
        ep_id = episode.id if episode else None
        self._ctx.tasks.run(lambda: source.playback(profile.id, detail.id, ep_id),
                            lambda info: self._got_playback(info, name, start_s), self._failed, key="playback")

    def _got_playback(self, info: PlaybackInfo, name: str, start_s: float) -> None:
        profile = self._ctx.profile
        source = self._ctx.source
        settings = self._ctx.settings
        detail, ep_id = self.detail, self.episode.id if self.episode else None

        def refresh():  # called by the engine on 401/403 (its thread)
            assert profile is not None and detail is not None
            return make_request(source.playback(profile.id, detail.id, ep_id), name, 0.0, settings)

        req = make_request(info, name, start_s, settings, refresh=refresh,
                           profile_id=profile.id if profile is not None else None)
        try:
            self.bridge.play(req)
            self.bridge.set_volume(self.volume.value())
        except MarqueeError as exc:
            self._failed(exc)

    def start_offline_pending(self, name: str) -> None:
        """A stored title was chosen; its license is being checked."""
        self.detail, self.episode = None, None
        self.cancel_countdown()
        self.history.clear()
        self._t0 = time.monotonic()
        self.title_label.setText(name)
        self.next_button.hide()
        self._show_card("Opening your download…", retry=False)
        self.show_controls()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def start_offline(self, playback, name: str) -> None:
        """Play ``downloads.offline.OfflinePlayback``: its transport on the engine's offline mount."""
        mount = self.bridge.offline_mount
        if mount is None:
            self._show_card("This player cannot open downloads.", retry=False)
            return
        mount.set(playback.transport)
        try:
            self.bridge.play(playback.request)
            self.bridge.set_volume(self.volume.value())
        except MarqueeError as exc:
            self._failed(exc)

    def offline_failed(self, err: MarqueeError) -> None:
        self._show_card(err.user_message, retry=False)
        self.show_controls(sticky=True)

    def _failed(self, err: MarqueeError) -> None:
        self._show_card(err.user_message, retry=True)

    def retry(self) -> None:
        if self.bridge.request is not None:
            self._show_card("Retrying…", retry=False)
            self.bridge.retry()
        elif self.detail is not None:
            self.start(self.detail, self.episode, 0.0)

    # ------------------------------------------------------------ snapshots
    def _on_snapshot(self, snap: PlaybackSnapshot) -> None:
        self.history.add(time.monotonic() - self._t0, snap)
        self.seekbar.set_state(snap.position_s, max(snap.buffered_until_s, snap.position_s), snap.duration_s)
        self.time_label.setText(f"{format_clock(snap.position_s)} / {format_clock(snap.duration_s)}")
        playing = snap.state == PlaybackState.PLAYING and not snap.paused
        self.play_button.setIcon(icon("pause" if playing else "play", 30))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")
        self.mute_button.setIcon(icon("mute" if snap.muted or snap.volume == 0 else "volume", 26))
        if snap.state == PlaybackState.ERROR:
            self._show_card(snap.message or "Playback failed.", retry=True)
            self.show_controls(sticky=True)
        elif snap.state in (PlaybackState.LOADING, PlaybackState.BUFFERING):
            self._show_card(snap.message or ("Starting…" if snap.state == PlaybackState.LOADING else "Buffering…"),
                            retry=False)
        elif snap.state == PlaybackState.ENDED:
            self.card.hide()
            self._ended()
        else:
            self.card.hide()
        if snap.state == PlaybackState.PAUSED:
            self.show_controls(sticky=True)
        if self.stats is not None:
            self.stats.update_snapshot(snap, self.bridge.description)
        self._maybe_report(snap)

    def _on_event(self, ev: PlayerEvent) -> None:
        self.history.note(ev)
        if self.stats is not None and isinstance(ev, (Switch, Failover)):
            self.stats.update_snapshot(self.bridge.last, self.bridge.description)
        if isinstance(ev, PlaybackError) and not ev.recoverable:
            self._show_card(ev.message or "Playback failed.", retry=True)

    def _show_card(self, text: str, retry: bool) -> None:
        self.card_text.setText(text)
        self.retry_button.setVisible(retry)
        self.card.show()

    def _maybe_report(self, snap: PlaybackSnapshot) -> None:
        """Tell the service where we are (Continue Watching), every 10 s and on exit."""
        report = getattr(self._ctx.source, "report_position", None)
        if getattr(self.bridge.engine, "syncs_progress", False):
            return  # the engine's position sync records and sends it (telemetry.attach)
        now = time.monotonic()
        if report is None or self.detail is None or self._ctx.profile is None or snap.duration_s <= 0:
            return
        if now - self._last_report < REPORT_EVERY_S:
            return
        self._last_report = now
        pid, tid = self._ctx.profile.id, self.detail.id
        eid = self.episode.id if self.episode else None
        pos, dur = snap.position_s, snap.duration_s
        self._ctx.tasks.run(lambda: report(pid, tid, pos, dur, eid), lambda _r: None,
                            lambda e: log.info("position report failed: %s", e.message))

    # ------------------------------------------------------------ end of episode
    def _ended(self) -> None:
        nxt = self.detail.next_episode(self.episode.id) if self.detail and self.episode else None
        if nxt is None or not self._ctx.settings["playback.autoplay_next"] or self.next_card.isVisible():
            if nxt is None:
                self.show_controls(sticky=True)
            return
        self._countdown = COUNTDOWN_S
        self._update_countdown(nxt)
        self.next_card.show()
        self._tick.start()

    def _update_countdown(self, nxt: Episode) -> None:
        self.next_label.setText(f"Next: E{nxt.number} “{nxt.title}” in {self._countdown} s")

    def _countdown_tick(self) -> None:
        nxt = self.detail.next_episode(self.episode.id) if self.detail and self.episode else None
        if nxt is None:
            self.cancel_countdown()
            return
        self._countdown -= 1
        if self._countdown <= 0:
            self.play_next()
        else:
            self._update_countdown(nxt)

    def cancel_countdown(self) -> None:
        self._tick.stop()
        self.next_card.hide()

    def play_next(self) -> None:
        nxt = self.detail.next_episode(self.episode.id) if self.detail and self.episode else None
        self.cancel_countdown()
        if nxt is not None and self.detail is not None:
            self.start(self.detail, nxt, 0.0)

    # ------------------------------------------------------------ menus
    def _refresh_menus(self) -> None:
        tracks = self.bridge.tracks()
        snap = self.bridge.last
        self.subs_menu.clear()
        self.subs_menu.addSection("Audio")
        for t in (t for t in tracks if t.kind == "audio"):
            a = self.subs_menu.addAction(t.label or t.language)
            a.setCheckable(True)
            a.setChecked(t.language == snap.audio_language)
            a.triggered.connect(lambda _=False, lang=t.language: self.bridge.set_audio_language(lang))
        self.subs_menu.addSection("Subtitles")
        off = self.subs_menu.addAction("Off")
        off.setCheckable(True)
        off.setChecked(not snap.subtitle_language)
        off.triggered.connect(lambda: self.bridge.set_subtitle_language(None))
        for t in (t for t in tracks if t.kind == "text"):
            a = self.subs_menu.addAction(t.label or t.language)
            a.setCheckable(True)
            a.setChecked(t.language == snap.subtitle_language)
            a.triggered.connect(lambda _=False, lang=t.language: self.bridge.set_subtitle_language(lang))
        self.quality_menu.clear()
        video = sorted((t for t in tracks if t.kind == "video"), key=lambda t: t.bitrate_kbps)
        self.quality_menu.addSection("Quality")
        now = snap.resolution[1] if snap.quality_cap is None and snap.resolution[1] else 0
        auto = self.quality_menu.addAction(f"Auto  ·  now {now}p" if now else "Auto")
        auto.setCheckable(True)
        auto.setChecked(snap.quality_cap is None)
        auto.triggered.connect(lambda: self.bridge.set_quality_cap(None))
        if not video:
            waiting = self.quality_menu.addAction("Qualities appear once the video starts")
            waiting.setEnabled(False)
        for i, t in reversed(list(enumerate(video))):
            a = self.quality_menu.addAction(f"{t.height}p  ·  {t.bitrate_kbps:,.0f} kb/s" if t.height else t.label)
            a.setCheckable(True)
            a.setChecked(snap.quality_cap == i)
            a.triggered.connect(lambda _=False, rung=i: self.bridge.set_quality_cap(rung))

    # ------------------------------------------------------------ overlays
    def toggle_help(self) -> None:
        self.help.setVisible(not self.help.isVisible())

    def toggle_stats(self) -> None:
        if self.stats is None:
            from ui.views.stats_overlay import StatsOverlay

            overlay = StatsOverlay(self.history)
            self.stats = overlay
            self._stats_slot.addWidget(overlay, 0, Qt.AlignmentFlag.AlignTop)
            overlay.show()
            self.stats.update_snapshot(self.bridge.last, self.bridge.description)
            return
        self.stats.setVisible(not self.stats.isVisible())
        if self.stats.isVisible():
            self.stats.update_snapshot(self.bridge.last, self.bridge.description)

    def toggle_fullscreen(self) -> None:
        self._fullscreen = not self._fullscreen
        self.full_button.setIcon(icon("exit_fullscreen" if self._fullscreen else "fullscreen", 26))
        self.fullscreenRequested.emit(self._fullscreen)

    # ------------------------------------------------------------ controls visibility
    def show_controls(self, sticky: bool = False) -> None:
        for w in (self.top, self.bottom):
            w.show()
        self.overlay.scrims = True
        self.overlay.update()
        self.unsetCursor()
        if sticky:
            self._hide_timer.stop()
        else:
            self._hide_timer.start()

    def _auto_hide(self) -> None:
        snap = self.bridge.last
        if snap.paused or snap.state in (PlaybackState.ERROR, PlaybackState.ENDED) or \
                self.subs_menu.isVisible() or self.quality_menu.isVisible():
            return
        self.hide_controls()

    def hide_controls(self) -> None:
        for w in (self.top, self.bottom):
            w.hide()
        self.overlay.scrims = False
        self.overlay.update()
        self.setCursor(Qt.CursorShape.BlankCursor)

    def controls_visible(self) -> bool:
        return self.bottom.isVisible()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if e.type() == QEvent.Type.MouseMove:
            self.show_controls()
        elif e.type() == QEvent.Type.MouseButtonDblClick and obj in (self.overlay, self.video):
            self.toggle_fullscreen()
            return True
        return super().eventFilter(obj, e)

    def mouseMoveEvent(self, e) -> None:
        self.show_controls()
        super().mouseMoveEvent(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        k = e.key()
        self.show_controls()
        if k == Qt.Key.Key_Space:
            self.bridge.toggle_pause()
        elif k == Qt.Key.Key_F:
            self.toggle_fullscreen()
        elif k == Qt.Key.Key_Escape:
            if self.help.isVisible():
                self.help.hide()
            elif self._fullscreen:
                self.toggle_fullscreen()
            else:
                self._back()
        elif k == Qt.Key.Key_Left:
            self.bridge.seek_relative(-10)
        elif k == Qt.Key.Key_Right:
            self.bridge.seek_relative(10)
        elif k in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.volume.setValue(self.volume.value() + (5 if k == Qt.Key.Key_Up else -5))
        elif k == Qt.Key.Key_M:
            self.bridge.set_muted(not self.bridge.last.muted)
        elif k == Qt.Key.Key_C:
            self._cycle_subtitles()
        elif k == Qt.Key.Key_N:
            self.play_next()
        elif k == Qt.Key.Key_I or (k == Qt.Key.Key_D and e.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.toggle_stats()
        elif k in (Qt.Key.Key_H, Qt.Key.Key_Question):
            self.toggle_help()
        else:
            super().keyPressEvent(e)

    def _cycle_subtitles(self) -> None:
        langs = [t.language for t in self.bridge.tracks() if t.kind == "text"]
        cur = self.bridge.last.subtitle_language
        if cur:
            self.bridge.set_subtitle_language(None)
        else:
            pref = self._ctx.settings["playback.subtitle_language"]
            choice = pref if pref in langs else (langs[0] if langs else None)
            if choice:
                self.bridge.set_subtitle_language(choice)

    # ------------------------------------------------------------ leaving
    def _back(self) -> None:
        if self._fullscreen:
            self.toggle_fullscreen()
        self.back.emit()

    def close_player(self) -> None:
        """Stop playback (the view stays, ready for the next title); once the last position
        has reached the service, ``progressSaved`` (pages then show the new resume point)."""
        save = self._final_report(self.bridge.last)
        self.cancel_countdown()
        self._hide_timer.stop()
        self.bridge.stop()  # the engine's position sync records the last position now
        if save is not None:
            self._ctx.tasks.run(save, lambda _r: self.progressSaved.emit(), self._save_failed)

    def _save_failed(self, err: MarqueeError) -> None:
        log.info("saving the position failed: %s", err.message)  # the sync keeps it and retries
        self.progressSaved.emit()  # the pages ask anyway: the service may have it

    def _final_report(self, snap: PlaybackSnapshot) -> Callable[[], object] | None:
        """What sends the last position, to run on a worker once playback has stopped."""
        if self.detail is None or self._ctx.profile is None:
            return None  # nothing was playing
        engine = self.bridge.engine
        flush = getattr(engine, "flush_progress", None)
        if getattr(engine, "syncs_progress", False) and flush is not None:  # an ObservedEngine with a position sync
            return lambda: flush(3.0)
        report = getattr(self._ctx.source, "report_position", None)
        if report is None or snap.duration_s <= 0:
            return None
        pid, tid, eid = self._ctx.profile.id, self.detail.id, self.episode.id if self.episode else None
        pos, dur = snap.position_s, snap.duration_s
        return lambda: report(pid, tid, pos, dur, eid)

    def shutdown(self) -> None:
        """The app is closing: free the renderer before mpv goes away."""
        self.close_player()
        release = getattr(self.video, "release", None)
        if callable(release):
            release()
        self.bridge.close()
