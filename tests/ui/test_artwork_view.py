"""Artwork that arrives after its widget was deleted (a page rebuilt meanwhile) is ignored."""

from __future__ import annotations

from shiboken6 import delete

from ui.views.downloads_page import Poster
from ui.views.title_page import Backdrop


def test_artwork_arriving_after_the_widget_is_gone_is_ignored(qtbot, make_ctx):  # type: ignore[no-untyped-def]
    ctx = make_ctx()
    for kind in (Poster, Backdrop):
        view = kind(ctx)
        view.url = "https://example.invalid/a.jpg"
        delete(view)  # the C++ widget is gone, as when a page's rows are rebuilt
        ctx.artwork.loaded.emit("https://example.invalid/a.jpg")  # must not reach the dead widget
        qtbot.wait(10)

    live = Poster(ctx)
    qtbot.addWidget(live)
    live.url = "https://example.invalid/b.jpg"
    with qtbot.waitSignal(ctx.artwork.loaded, timeout=1000):
        ctx.artwork.loaded.emit("https://example.invalid/b.jpg")  # a live one still repaints (no error)
