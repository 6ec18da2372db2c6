"""A widget that shows one piece of artwork and repaints when it arrives."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.context import AppContext


class ArtworkView(QWidget):
    """Subclasses paint ``self.url``'s artwork (``self._ctx.artwork.pixmap``) in ``paintEvent``.

    The repaint is a bound method, not a lambda: Qt disconnects it when the widget is
    deleted, so artwork arriving after a page was rebuilt never touches a dead widget."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.url = ""
        ctx.artwork.loaded.connect(self._artwork_loaded)

    def _artwork_loaded(self, url: str) -> None:
        if url == self.url:
            self.update()
