from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.fakes import FakeSource
from ui.catalog import Tile


def _home(qtbot, window, source=None):  # type: ignore[no-untyped-def]
    ctx, win = window(source)
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    return ctx, win


def test_film_title_page_offers_resume_and_start_over(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _home(qtbot, window)
    win.open_title(Tile("t101", "Title 101"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    page = win.title_page
    assert "Resume from 12:34" in page.play_button.text()
    assert page.restart_button.isVisible()
    assert not page.series_box.isVisible()
    page.list_button.click()
    assert ctx.state.in_my_list("p1", "t101")
    assert "In My List" in page.list_button.text()


def test_series_title_page_lists_episodes_per_season(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _home(qtbot, window)
    win.open_title(Tile("t004", "Title 4"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    page = win.title_page
    assert page.series_box.isVisibleTo(win) and page.season.count() == 2
    assert page.episodes.rowCount() == 4
    ep, start = page.resume_target()
    assert ep is not None and ep.number == 2 and start == 750.0
    assert "S1:E2" in page.play_button.text()
    page.season.setCurrentIndex(1)
    assert page.episodes.episode(0).id == "t004-s2e01"


def test_more_like_this_opens_another_title(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _home(qtbot, window)
    win.open_title(Tile("t101", "Title 101"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    more = win.title_page.more_like_this
    assert more.isVisibleTo(win) and [t.title_id for t in more.model.tiles()] == ["t102", "t103", "t104", "t105"]
    more.row.setFocus()
    qtbot.keyClick(more.row, Qt.Key.Key_Right)
    qtbot.keyClick(more.row, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.title_page.detail is not None and win.title_page.detail.id == "t103", timeout=5000)
    assert win.current() is win.title_page and win.title_page.title.text() == "Title 103"
    win.title_page.back_button.click()  # back to the title it came from, then off the page
    qtbot.waitUntil(lambda: win.title_page.detail is not None and win.title_page.detail.id == "t101", timeout=5000)
    assert win.current() is win.title_page
    win.title_page.back_button.click()
    assert win.current() is win.home
    win.open_title(Tile("t004", "Title 4"))  # opened afresh: Back leaves the page at once
    qtbot.waitUntil(lambda: win.title_page.detail is not None and win.title_page.detail.id == "t004", timeout=5000)
    assert win.title_page.trail == []


def test_the_title_document_carries_more_like_this() -> None:
    from ui.catalog import parse_title

    tile = {"title_id": "t2", "title": "Two", "kind": "series", "poster": "http://s/artwork/t2/poster-1.jpg"}
    detail = parse_title({"id": "t1", "title": "One", "more_like_this": [tile, "junk"]})
    assert [(t.title_id, t.kind, t.poster) for t in detail.more_like_this] == [("t2", "series", tile["poster"])]
    assert parse_title({"id": "t1", "title": "One"}).more_like_this == ()  # an older service


def test_a_title_without_similar_ones_shows_no_row(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _home(qtbot, window)
    win.open_title(Tile("t199", "Title 199"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    assert not win.title_page.more_like_this.isVisibleTo(win)


def test_search_is_debounced_and_shows_results(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource()
    ctx, win = _home(qtbot, window, source)
    win.open_search()
    assert win.current() is win.search
    for ch in "title 1":
        qtbot.keyClick(win.search.box, ch)
    with qtbot.waitSignal(win.search.resultsShown, timeout=3000) as sig:
        pass
    assert sig.args[0] == "title 1"
    assert win.search.queries == 1  # one request for seven keystrokes
    assert win.search.model.rowCount() == sig.args[1] > 0
    qtbot.keyClick(win.search.box, Qt.Key.Key_Down)
    assert win.search.grid.hasFocus()
