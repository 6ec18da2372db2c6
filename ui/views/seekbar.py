"""Seek bar: played and buffered ranges, a handle, and a time bubble on hover."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.catalog import format_clock


class SeekBar(QWidget):
    seekRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFixedHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.duration = 0.0
        self.position = 0.0
        self.buffered = 0.0
        self._hover_x: float | None = None
        self._dragging = False

    def set_state(self, position: float, buffered: float, duration: float) -> None:
        if not self._dragging:
            self.position = position
        self.buffered, self.duration = buffered, duration
        self.update()

    def _track(self) -> QRectF:
        return QRectF(8, self.height() - 12, self.width() - 16, 4)

    def time_at(self, x: float) -> float:
        t = self._track()
        frac = min(1.0, max(0.0, (x - t.left()) / max(1.0, t.width())))
        return frac * self.duration

    def _x_of(self, seconds: float) -> float:
        t = self._track()
        return t.left() + (t.width() * min(1.0, seconds / self.duration) if self.duration > 0 else 0.0)

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._track()
        hovered = self._hover_x is not None or self._dragging
        if hovered:
            t.adjust(0, -1, 0, 1)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 60))
        p.drawRoundedRect(t, 2, 2)
        if self.duration > 0:
            p.setBrush(QColor(255, 255, 255, 110))
            p.drawRoundedRect(QRectF(t.left(), t.top(), self._x_of(self.buffered) - t.left(), t.height()), 2, 2)
            px = self._x_of(self.position)
            p.setBrush(QColor("#e8485c"))
            p.drawRoundedRect(QRectF(t.left(), t.top(), px - t.left(), t.height()), 2, 2)
            r = 8 if hovered else 6
            p.drawEllipse(QRectF(px - r, t.center().y() - r, 2 * r, 2 * r))
        if self._hover_x is not None and self.duration > 0:
            text = format_clock(self.time_at(self._hover_x))
            f = QFont(self.font())
            f.setPixelSize(12)
            f.setBold(True)
            p.setFont(f)
            w = p.fontMetrics().horizontalAdvance(text) + 14
            bx = min(max(0.0, self._hover_x - w / 2), self.width() - w)
            p.setBrush(QColor(20, 20, 24, 230))
            p.drawRoundedRect(QRectF(bx, 0, w, 18), 4, 4)
            p.setPen(QColor("#f2f2f5"))
            p.drawText(QRectF(bx, 0, w, 18), Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        self._hover_x = e.position().x()
        if self._dragging:
            self.position = self.time_at(self._hover_x)
        self.update()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.LeftButton and self.duration > 0:
            self._dragging = True
            self.position = self.time_at(e.position().x())
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._dragging:
            self._dragging = False
            self.seekRequested.emit(self.time_at(e.position().x()))

    def leaveEvent(self, e) -> None:
        self._hover_x = None
        self.update()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        e.ignore()
