"""Search: results as you type (debounced), shown as a grid of poster tiles."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from marquee.errors import MarqueeError
from ui.catalog import Tile
from ui.context import AppContext
from ui.models import TileModel, TileRole
from ui.views.tiles import TileDelegate

DEBOUNCE_MS = 220


class SearchPage(QWidget):
    openTitle = Signal(object)
    resultsShown = Signal(str, int)  # query, count

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._ctx = ctx
        self.model = TileModel(parent=self)
        ctx.artwork.loaded.connect(self.model.artwork_loaded)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(56, 24, 56, 24)
        lay.setSpacing(16)
        self.box = QLineEdit(objectName="SearchBox")
        self.box.setPlaceholderText("Titles, genres, people")
        self.box.setClearButtonEnabled(True)
        self.box.installEventFilter(self)
        lay.addWidget(self.box)
        self.status = QLabel("", objectName="Meta")
        lay.addWidget(self.status)
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setFlow(QListView.Flow.LeftToRight)
        self.grid.setWrapping(True)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setMouseTracking(True)
        self.grid.setItemDelegate(TileDelegate(ctx.artwork, parent=self.grid))
        self.grid.setModel(self.model)
        self.grid.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.grid.activated.connect(self._open)
        self.grid.clicked.connect(self._open)
        lay.addWidget(self.grid, 1)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.queries = 0  # requests sent (debounce is observable in tests)

    def focus_box(self) -> None:
        self.box.setFocus(Qt.FocusReason.OtherFocusReason)
        self.box.selectAll()

    def _run(self) -> None:
        q = self.box.text().strip()
        profile = self._ctx.profile
        if not q or profile is None:
            self.model.set_tiles([])
            self.status.setText("")
            return
        self.queries += 1
        source = self._ctx.source
        self.status.setText("Searching…")
        self._ctx.tasks.run(lambda: source.search(q, profile.id), lambda res: self._show(q, res), self._failed,
                            key="search")

    def _show(self, q: str, results: list[Tile]) -> None:
        self.model.set_tiles(results)
        self.status.setText(f"No titles match “{q}”." if not results else
                            f"{len(results)} result{'s' if len(results) != 1 else ''} for “{q}”")
        self.resultsShown.emit(q, len(results))

    def _failed(self, err: MarqueeError) -> None:
        self.status.setText(err.user_message)

    def _open(self, index) -> None:
        tile = index.data(TileRole)
        if tile is not None:
            self.openTitle.emit(tile)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if obj is self.box and isinstance(e, QKeyEvent) and e.type() == QEvent.Type.KeyPress:
            if e.key() == Qt.Key.Key_Down and self.model.rowCount() > 0:
                self.grid.setFocus()
                self.grid.setCurrentIndex(self.model.index(0))
                return True
            if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._timer.stop()
                self._run()
                return True
        return super().eventFilter(obj, e)
