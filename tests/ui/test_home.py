from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.fakes import FakeSource


def _open_home(qtbot, window, source=None):  # type: ignore[no-untyped-def]
    ctx, win = window(source)
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    qtbot.keyClick(win.picker.buttons[0], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(win.home.row_views) > 0, timeout=5000)
    return ctx, win


def test_app_starts_headless_and_shows_rows(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _open_home(qtbot, window, FakeSource(rows=5, per_row=10))
    assert win.current() is win.home
    assert [v.accessibleName() for v in win.home.row_views][:2] == ["Continue Watching", "Row 1"]
    assert win.home.hero.isVisible() and win.home.hero.tile is not None
    # artwork arrives lazily, off the UI thread, and lands in the bounded memory cache
    qtbot.waitUntil(lambda: len(ctx.artwork.memory) >= 5, timeout=5000)
    assert ctx.artwork.memory.bytes <= ctx.artwork.memory.max_bytes
    assert ctx.state.last_profile == "p1"


def test_artwork_is_cached_on_disk(qtbot, window, home) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _open_home(qtbot, window)
    qtbot.waitUntil(lambda: len(ctx.artwork.memory) >= 3, timeout=5000)
    ctx.artwork.wait_idle()
    assert len(list((home / "artwork").glob("*.img"))) >= 3


def test_arrow_keys_move_between_rows_and_enter_opens(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx, win = _open_home(qtbot, window, FakeSource(rows=4, per_row=12))
    win.home.focus_row(1, 0)
    r1 = win.home.row_views[1]
    qtbot.waitUntil(r1.hasFocus)
    qtbot.keyClick(r1, Qt.Key.Key_Right)
    qtbot.keyClick(r1, Qt.Key.Key_Right)
    assert r1.currentIndex().row() == 2
    qtbot.keyClick(r1, Qt.Key.Key_Down)
    r2 = win.home.row_views[2]
    assert r2.hasFocus() and r2.currentIndex().row() == 2  # same column in the next row
    qtbot.keyClick(r2, Qt.Key.Key_Up)
    qtbot.keyClick(r1, Qt.Key.Key_Up)
    assert win.home.row_views[0].hasFocus()
    qtbot.keyClick(win.home.row_views[0], Qt.Key.Key_Up)
    assert win.home.hero.play_button.hasFocus()
    win.home.focus_row(2, 3)
    expected = r2.model().tile(3)
    with qtbot.waitSignal(win.home.openTitle) as sig:
        qtbot.keyClick(r2, Qt.Key.Key_Return)
    assert sig.args[0] == expected
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    assert win.current() is win.title_page
    qtbot.keyClick(win.title_page, Qt.Key.Key_Escape)
    assert win.current() is win.home


def test_service_down_shows_message_and_retry(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource(fail=True)
    ctx, win = window(source)
    qtbot.waitUntil(lambda: win.picker.retry.isVisible(), timeout=5000)
    assert "Cannot reach" in win.picker.status.text()
    source.fail = False
    win.picker.retry.click()
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)


def test_offline_banner_and_recovery(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource()
    ctx, win = _open_home(qtbot, window, source)
    win.set_offline(True)
    assert win.offline.isVisible()
    calls = len([c for c in source.calls if c[0] == "rows"])
    win.set_offline(False)
    assert not win.offline.isVisible()
    qtbot.waitUntil(lambda: len([c for c in source.calls if c[0] == "rows"]) > calls, timeout=5000)


def test_last_profile_is_remembered(qtbot, window, make_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx, win = window()
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[1].click()
    assert ctx.state.last_profile == "p2"
    from ui.state import UiState

    assert UiState.load(ctx.state.path).last_profile == "p2"


def test_the_hero_banner_and_title_page_paint_the_clean_hero_art(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """The service's ``hero`` (the backdrop's picture without its lettering) goes behind the app's
    own title text; from a service without heroes, the backdrop does."""
    from msgspec.structs import replace

    from ui.catalog import parse_tile, parse_title

    ctx, win = _open_home(qtbot, window)
    # Rows and their artwork arrive asynchronously, and a synchronous repaint paints every dirty
    # region of the window (tiles too): let them settle, then look only at the banner's requests.
    qtbot.waitUntil(lambda: ctx.artwork.pending() == 0 and ctx.tasks.pending() == 0, timeout=5000)
    banner = win.home.hero
    asked: list[str] = []
    pixmap = ctx.artwork.pixmap

    def record(url, size, radius=0):  # type: ignore[no-untyped-def]
        if size == banner._backdrop_size():
            asked.append(url)
        return pixmap(url, size, radius)

    ctx.artwork.pixmap = record
    tile = banner.tile
    banner.set_tile(replace(tile, hero=f"http://fake/artwork/{tile.title_id}/hero-0.jpg"))
    banner.repaint()
    assert asked and asked[-1].endswith("/hero-0.jpg")
    banner.set_tile(replace(tile, hero=""))
    banner.repaint()
    assert asked[-1] == tile.backdrop

    doc = {"title_id": "t1", "title": "T", "backdrop": "http://s/artwork/t1/backdrop-2.jpg",
           "hero": "http://s/artwork/t1/hero-2.jpg"}
    assert parse_tile(doc).banner_art == doc["hero"]
    assert parse_tile({**doc, "hero": None}).banner_art == doc["backdrop"]
    # Rows reach the app through marquee.api's typed tiles and the offline cache: the hero must
    # survive that trip.
    from contract import to_builtins
    from marquee.api import _calls
    (typed,) = _calls.search({"results": [{**doc, "kind": "film", "poster": ""}]})
    assert parse_tile(to_builtins(typed)).banner_art == doc["hero"]
    detail = parse_title({"id": "t1", "title": "T", "artwork": {"backdrop": doc["backdrop"], "hero": doc["hero"]}})
    assert detail.banner_art == doc["hero"]
