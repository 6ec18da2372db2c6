"""The video surface: mpv's OpenGL render API drawing into a QOpenGLWidget.

mpv tells us (on its own thread) that a frame is ready; a queued signal asks Qt
to repaint; ``paintGL`` renders into the widget's framebuffer. Works on X11,
Wayland and macOS alike. When there is nothing to render from (tests, or the
render context could not start) a plain black surface stands in.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from marquee.errors import MarqueeError

log = logging.getLogger("marquee.ui.video")


class BlackSurface(QWidget):
    """Stand-in when no renderer is available."""

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("black"))
        p.end()

    def release(self) -> None:
        pass


class VideoWidget(QOpenGLWidget):
    frameReady = Signal()
    failed = Signal(str)  # the render context could not start (plain words)

    def __init__(self, render_source: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = render_source
        self._rc: Any = None
        self.frames = 0
        self.frameReady.connect(self.update, Qt.ConnectionType.QueuedConnection)
        self.frameSwapped.connect(self._swapped)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def initializeGL(self) -> None:
        ctx = self.context()

        def proc(name: bytes) -> int:
            return int(ctx.getProcAddress(name) or 0)

        try:
            self._rc = self._source.create_render_context(proc, self.frameReady.emit)
        except MarqueeError as exc:
            log.error("render context: %s", exc)
            self.failed.emit(exc.user_message)
        ctx.aboutToBeDestroyed.connect(self.release)

    def paintGL(self) -> None:
        if self._rc is None:
            f = self.context().functions()
            f.glClearColor(0.0, 0.0, 0.0, 1.0)
            f.glClear(0x00004000)  # GL_COLOR_BUFFER_BIT
            return
        dpr = self.devicePixelRatioF()
        self._rc.render(self.defaultFramebufferObject(), round(self.width() * dpr), round(self.height() * dpr))
        self.frames += 1

    def _swapped(self) -> None:
        if self._rc is not None:
            self._rc.report_swap()

    def release(self) -> None:
        """Free the render context (with our GL context current) before mpv goes away."""
        if self._rc is None:
            return
        self.makeCurrent()
        try:
            self._rc.free()
        finally:
            self._rc = None
            self.doneCurrent()
