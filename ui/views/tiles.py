"""Tile painting and the horizontal row view.

One delegate paints every tile (poster or wide backdrop, placeholder while the
artwork loads, progress bar, focus ring, metadata on hover); the row view is a
plain QListView in left-to-right flow, so a row of 1,000 titles costs what its
visible tiles cost.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPainterPath, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QScroller, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.artwork import ArtworkLoader
from ui.catalog import Tile, tile_subtitle
from ui.models import TileModel, TileRole

POSTER = QSize(166, 249)
WIDE = QSize(300, 169)
GAP = 12
RADIUS = 8
_PLACEHOLDER_COLORS = ("#24202c", "#1f2530", "#2a2224", "#202a26", "#2a2820", "#26222e")


class TileDelegate(QStyledItemDelegate):
    def __init__(self, artwork: ArtworkLoader, wide: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.artwork = artwork
        self.wide = wide
        self.tile_size = WIDE if wide else POSTER

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.tile_size.width() + GAP, self.tile_size.height() + 12)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        tile: Tile | None = index.data(TileRole)
        if tile is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = QRect(option.rect.x() + GAP // 2, option.rect.y() + 6, self.tile_size.width(), self.tile_size.height())
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = selected and bool(option.state & QStyle.StateFlag.State_HasFocus or
                                    (option.widget is not None and option.widget.hasFocus()))
        shape = QPainterPath()
        shape.addRoundedRect(QRectF(r), RADIUS, RADIUS)

        dpr = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
        url = tile.backdrop if self.wide else tile.poster
        want = QSize(round(r.width() * dpr), round(r.height() * dpr))
        pm = self.artwork.pixmap(url, want, round(RADIUS * dpr)) if url else None
        if pm is not None:
            p.drawPixmap(r, pm)  # corners already rounded by the loader: no clip path
        else:
            self._placeholder(p, r, tile, shape)

        if hovered or focused:  # the artwork carries the title; the caption adds meta on hover
            grad = QLinearGradient(0, r.bottom() - r.height() * 0.55, 0, r.bottom())
            grad.setColorAt(0, QColor(0, 0, 0, 0))
            grad.setColorAt(1, QColor(0, 0, 0, 225))
            p.fillPath(shape, grad)
            self._caption(p, r, tile, show_meta=hovered or focused)

        if tile.progress is not None:
            bar = QRect(r.left() + 10, r.bottom() - 9, r.width() - 20, 4)
            p.fillRect(bar, QColor(255, 255, 255, 70))
            done = QRect(bar.left(), bar.top(), max(2, round(bar.width() * tile.progress)), bar.height())
            p.fillRect(done, QColor("#e8485c"))

        if focused or hovered:
            pen_color = QColor("#f2f2f5") if focused else QColor(255, 255, 255, 110)
            p.setPen(pen_color)
            pen = p.pen()
            pen.setWidthF(3.0 if focused else 1.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(r).adjusted(1, 1, -1, -1), RADIUS, RADIUS)
        p.restore()

    def _placeholder(self, p: QPainter, r: QRect, tile: Tile, shape: QPainterPath) -> None:
        base = QColor(_PLACEHOLDER_COLORS[sum(map(ord, tile.title_id)) % len(_PLACEHOLDER_COLORS)])
        grad = QLinearGradient(r.topLeft().toPointF(), r.bottomRight().toPointF())
        grad.setColorAt(0, base.lighter(135))
        grad.setColorAt(1, base)
        p.fillPath(shape, grad)
        p.setPen(QColor(255, 255, 255, 150))
        f = QFont(p.font())
        f.setPixelSize(15)
        f.setBold(True)
        p.setFont(f)
        p.drawText(r.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, tile.title)

    def _caption(self, p: QPainter, r: QRect, tile: Tile, show_meta: bool) -> None:
        bottom_pad = 18 if tile.progress is not None else 10
        f = QFont(p.font())
        f.setPixelSize(14)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor("#ffffff"))
        title_rect = QRect(r.left() + 10, r.bottom() - bottom_pad - (38 if show_meta else 20), r.width() - 20, 20)
        p.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   p.fontMetrics().elidedText(tile.title, Qt.TextElideMode.ElideRight, title_rect.width()))
        if show_meta:
            f.setBold(False)
            f.setPixelSize(12)
            p.setFont(f)
            p.setPen(QColor("#c9c9d1"))
            meta = QRect(title_rect.left(), title_rect.bottom() + 1, title_rect.width(), 17)
            p.drawText(meta, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(tile_subtitle(tile), Qt.TextElideMode.ElideRight, meta.width()))


class TileRowView(QListView):
    """One horizontally scrolling row. ``opened(tile)`` on click/Enter."""

    opened = Signal(object)
    current = Signal(object)  # Tile under keyboard focus (for hover/focus previews)

    def __init__(self, delegate: TileDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setItemDelegate(delegate)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        size = delegate.sizeHint(QStyleOptionViewItem(), QModelIndex())
        self.setFixedHeight(size.height() + 14)
        QScroller.grabGesture(self.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        self.activated.connect(self._open)
        self.clicked.connect(self._open)

    def tile_at(self, row: int) -> Tile | None:
        model = self.model()
        return model.tile(row) if isinstance(model, TileModel) else None

    def setModel(self, model) -> None:
        super().setModel(model)
        self.selectionModel().currentChanged.connect(lambda cur, _prev: self.current.emit(cur.data(TileRole)))

    def _open(self, index: QModelIndex) -> None:
        tile = index.data(TileRole)
        if tile is not None:
            self.opened.emit(tile)

    def wheelEvent(self, e: QWheelEvent) -> None:
        d = e.angleDelta()
        if abs(d.y()) > abs(d.x()) and not e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            e.ignore()  # vertical wheel scrolls the page, not the row
            return
        super().wheelEvent(e)

    def focusInEvent(self, e) -> None:
        super().focusInEvent(e)
        if not self.currentIndex().isValid() and self.model() is not None and self.model().rowCount() > 0:
            self.setCurrentIndex(self.model().index(0, 0))
        self.viewport().update()

    def focusOutEvent(self, e) -> None:
        super().focusOutEvent(e)
        self.viewport().update()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.Leave:
            self.viewport().update()
        return super().event(e)

    def column_at_x(self, x: int) -> int:
        """The tile under viewport x (or the nearest one), -1 for an empty row."""
        n = self.model().rowCount() if self.model() is not None else 0
        if n == 0:
            return -1
        idx = self.indexAt(QPoint(max(0, x), 20))
        return idx.row() if idx.isValid() else n - 1
