"""The title page's "More like this" row: the service's picks of titles like the one shown."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.catalog import Tile
from ui.context import AppContext
from ui.models import TileModel
from ui.views.tiles import TileDelegate, TileRowView


class MoreLikeThis(QWidget):
    """A heading and one row of posters; hidden when the service sends none (older services)."""

    opened = Signal(object)  # Tile

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TileModel(parent=self)
        ctx.artwork.loaded.connect(self.model.artwork_loaded)
        self.row = TileRowView(TileDelegate(ctx.artwork))
        self.row.setModel(self.model)
        self.row.setAccessibleName("More like this")
        self.row.opened.connect(self.opened)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 28, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(QLabel("More like this", objectName="RowTitle"))
        lay.addWidget(self.row)
        self.hide()

    def set_tiles(self, tiles: Sequence[Tile]) -> None:
        self.model.set_tiles(tiles)
        self.row.scrollToTop()
        self.setVisible(bool(tiles))
