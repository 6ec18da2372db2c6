"""Home: a hero banner and vertically scrolling rows of horizontally scrolling tiles.

TV-style keyboard navigation: ←/→ within a row (the list view), ↑/↓ between
rows keeping the horizontal position, Enter opens, the hero's buttons sit
above the first row. Mouse: wheel scrolls the page, Shift+wheel/drag a row.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from marquee.errors import MarqueeError
from ui.catalog import Row, Tile, TitleDetail, tile_subtitle
from ui.context import AppContext
from ui.icons import icon
from ui.models import RowsModel
from ui.views.tiles import TileDelegate, TileRowView


def is_wide_row(row: Row) -> bool:
    return "continue" in row.kind or "continue" in row.id


class HeroBanner(QWidget):
    """The featured title: its backdrop, name, synopsis and two buttons."""

    play = Signal(object)
    info = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._tile: Tile | None = None
        self.setMinimumHeight(470)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(56, 90, 56, 40)
        lay.addStretch(1)
        self.title = QLabel(objectName="H1")
        self.title.setWordWrap(True)
        self.meta = QLabel(objectName="Meta")
        self.synopsis = QLabel(objectName="Synopsis")
        self.synopsis.setWordWrap(True)
        self.synopsis.setMaximumWidth(620)
        buttons = QHBoxLayout()
        buttons.setSpacing(12)
        self.play_button = QPushButton(icon("play", 22, "#0e0e11"), "  Play", objectName="Primary")
        self.info_button = QPushButton("More info", objectName="Ghost")
        self.play_button.clicked.connect(lambda: self._tile and self.play.emit(self._tile))
        self.info_button.clicked.connect(lambda: self._tile and self.info.emit(self._tile))
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.info_button)
        buttons.addStretch(1)
        for w in (self.title, self.meta):
            lay.addWidget(w)
        lay.addSpacing(6)
        lay.addWidget(self.synopsis)
        lay.addSpacing(18)
        lay.addLayout(buttons)
        ctx.artwork.loaded.connect(self._artwork_loaded)

    @property
    def tile(self) -> Tile | None:
        return self._tile

    def set_tile(self, tile: Tile | None) -> None:
        self._tile = tile
        self.setVisible(tile is not None)
        if tile is None:
            return
        self.title.setText(tile.title)
        self.meta.setText(tile_subtitle(tile))
        self.synopsis.setText(tile.synopsis or "")
        self.synopsis.setVisible(bool(tile.synopsis))
        self.update()

    def set_detail(self, d: TitleDetail) -> None:
        """Fill in what tiles do not carry (synopsis, rating) once the title arrives."""
        if self._tile is None or d.id != self._tile.title_id:
            return
        meta = [str(d.year) if d.year else "", d.maturity, " · ".join(d.genres[:3])]
        self.meta.setText("   ·   ".join(m for m in meta if m))
        self.synopsis.setText(d.synopsis)
        self.synopsis.setVisible(bool(d.synopsis))

    def _artwork_loaded(self, url: str) -> None:
        if self._tile is not None and url == self._tile.banner_art:
            self.update()

    # The art is anchored right and scaled so that its lower part falls below the banner: with
    # a plain backdrop (an older service: no hero), that is where its own lettering is.
    VISIBLE_FRACTION = 0.72

    def _backdrop_rect(self) -> QRect:
        h = round(self.height() / self.VISIBLE_FRACTION)
        w = round(h * 16 / 9)
        return QRect(self.width() - w, 0, w, h)

    def _backdrop_size(self) -> QSize:
        dpr = self.devicePixelRatioF()
        r = self._backdrop_rect()
        return QSize(round(r.width() * dpr), round(r.height() * dpr))

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0e0e11"))
        r = self._backdrop_rect()
        if self._tile is not None and self._tile.banner_art:
            pm = self._ctx.artwork.pixmap(self._tile.banner_art, self._backdrop_size())
            if pm is not None:
                p.drawPixmap(r, pm)
        left = max(0, r.left())
        side = QLinearGradient(left, 0, self.width(), 0)
        side.setColorAt(0, QColor(14, 14, 17, 255))
        side.setColorAt(0.4, QColor(14, 14, 17, 130))
        side.setColorAt(1, QColor(14, 14, 17, 0))
        p.fillRect(self.rect(), side)
        bottom = QLinearGradient(0, self.height() * 0.6, 0, self.height())
        bottom.setColorAt(0, QColor(14, 14, 17, 0))
        bottom.setColorAt(1, QColor(14, 14, 17, 255))
        p.fillRect(self.rect(), bottom)
        p.end()


class HomePage(QWidget):
    openTitle = Signal(object)  # Tile
    playTile = Signal(object)  # Tile
    rowsShown = Signal(int)  # number of rows, after each load

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._ctx = ctx
        self.model = RowsModel(self)
        self.row_views: list[TileRowView] = []
        ctx.artwork.loaded.connect(self.model.artwork_loaded)

        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.content = QWidget(objectName="Page")
        self.vbox = QVBoxLayout(self.content)
        self.vbox.setContentsMargins(0, 0, 0, 40)
        self.vbox.setSpacing(0)
        self.hero = HeroBanner(ctx)
        self.hero.play.connect(self.playTile)
        self.hero.info.connect(self.openTitle)
        self.hero.set_tile(None)
        self.vbox.addWidget(self.hero)
        self.rows_box = QVBoxLayout()
        self.rows_box.setContentsMargins(44, 0, 44, 0)
        self.rows_box.setSpacing(6)
        self.vbox.addLayout(self.rows_box)
        self.vbox.addStretch(1)
        self.scroll_area.setWidget(self.content)

        self.status = QLabel("Loading your rows…", objectName="Meta", alignment=Qt.AlignmentFlag.AlignCenter)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.reload)
        status_box = QVBoxLayout()
        status_box.addStretch(1)
        status_box.addWidget(self.status)
        status_box.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignCenter)
        status_box.addStretch(1)
        self.status_panel = QWidget()
        self.status_panel.setLayout(status_box)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.scroll_area)
        lay.addWidget(self.status_panel)
        self._show_status("Loading your rows…", retry=False)

    # ------------------------------------------------------------ loading
    def reload(self) -> None:
        profile = self._ctx.profile
        if profile is None:
            return
        if not self.row_views:
            self._show_status("Loading your rows…", retry=False)
        source = self._ctx.source
        self._ctx.tasks.run(lambda: source.rows(profile.id), self.set_rows, self._failed, key="home.rows")

    def _failed(self, err: MarqueeError) -> None:
        if not self.row_views:
            self._show_status(f"{err.user_message}\nYour rows will appear when the service is back.", retry=True)

    def _show_status(self, text: str, retry: bool) -> None:
        self.status.setText(text)
        self.retry.setVisible(retry)
        self.status_panel.setVisible(True)
        self.scroll_area.setVisible(False)

    def set_rows(self, rows: list[Row]) -> None:
        current = self._focused_position()
        for view in self.row_views:
            view.setModel(None)
        while self.rows_box.count():
            item = self.rows_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.row_views.clear()
        self.model.set_rows(rows)
        for i, row in enumerate(rows):
            label = QLabel(row.title, objectName="RowTitle")
            view = TileRowView(TileDelegate(self._ctx.artwork, wide=is_wide_row(row)))
            view.setModel(self.model.tile_model(i))
            view.setAccessibleName(row.title)
            view.opened.connect(self.openTitle)
            view.installEventFilter(self)
            self.rows_box.addSpacing(14)
            self.rows_box.addWidget(label)
            self.rows_box.addWidget(view)
            self.row_views.append(view)
        featured = self._featured(rows)
        self.hero.set_tile(featured)
        if featured is not None and not featured.synopsis and self._ctx.profile is not None:
            source, pid = self._ctx.source, self._ctx.profile.id
            self._ctx.tasks.run(lambda: source.title(featured.title_id, pid), self.hero.set_detail,
                                lambda _e: None, key="home.hero")
        if rows:
            self.status_panel.setVisible(False)
            self.scroll_area.setVisible(True)
        else:
            self._show_status("Nothing to show yet.", retry=True)
        if current is not None and current[0] < len(self.row_views):
            self.focus_row(current[0], current[1])
        self.rowsShown.emit(len(rows))

    @staticmethod
    def _featured(rows: list[Row]) -> Tile | None:
        for row in rows:
            if not is_wide_row(row) and row.items:
                return row.items[0]
        return rows[0].items[0] if rows and rows[0].items else None

    # ------------------------------------------------------------ keyboard
    def _focused_position(self) -> tuple[int, int] | None:
        for i, v in enumerate(self.row_views):
            if v.hasFocus():
                return i, max(0, v.currentIndex().row())
        return None

    def focus_row(self, row: int, column: int | None = None, x: int | None = None) -> None:
        if not 0 <= row < len(self.row_views):
            return
        view = self.row_views[row]
        n = view.model().rowCount()
        if n == 0:
            return
        col = column if column is not None else (view.column_at_x(x) if x is not None else 0)
        view.setCurrentIndex(view.model().index(max(0, min(n - 1, col)), 0))
        view.setFocus(Qt.FocusReason.TabFocusReason)
        self.scroll_area.ensureWidgetVisible(view, 0, 60)

    def focus_first(self) -> None:
        if self.hero.isVisible():
            self.hero.play_button.setFocus(Qt.FocusReason.TabFocusReason)
            self.scroll_area.verticalScrollBar().setValue(0)
        elif self.row_views:
            self.focus_row(0)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if e.type() == QEvent.Type.KeyPress and obj in self.row_views:
            key = QKeyEvent(e).key() if not isinstance(e, QKeyEvent) else e.key()
            i = self.row_views.index(obj)
            view = self.row_views[i]
            x = view.visualRect(view.currentIndex()).center().x() if view.currentIndex().isValid() else 0
            if key == Qt.Key.Key_Down and i + 1 < len(self.row_views):
                self.focus_row(i + 1, x=x)
                return True
            if key == Qt.Key.Key_Up:
                if i > 0:
                    self.focus_row(i - 1, x=x)
                else:
                    self.focus_first()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and view.currentIndex().isValid():
                view.opened.emit(view.tile_at(view.currentIndex().row()))
                return True
        return super().eventFilter(obj, e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Down and (self.hero.play_button.hasFocus() or self.hero.info_button.hasFocus()):
            self.focus_row(0)
            return
        if e.key() == Qt.Key.Key_Right and self.hero.play_button.hasFocus():
            self.hero.info_button.setFocus()
            return
        if e.key() == Qt.Key.Key_Left and self.hero.info_button.hasFocus():
            self.hero.play_button.setFocus()
            return
        super().keyPressEvent(e)
