"""Downloads in the app: the title page's Download button and its states, the Downloads
page (sizes, license times, storage), pause/resume/remove, and the offline mount that
lets the engine play a stored title. Real ``downloads.api.Downloads`` against the
reference service in-process (the downloads tests' fixtures)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.downloads.conftest import (  # noqa: F401  (fixtures)
    FILM,
    dl_catalog,
    dl_content,
    home,
    make_downloads,
    media_root,
    service_content,
    svc,
)
from tests.ui.fakes import FakeSource
from ui.catalog import Tile
from ui.offline_mount import OfflineMount
from ui.views.downloads_page import format_bytes, format_left

pytestmark = [pytest.mark.slow]


def _title_page(qtbot, window, opener):  # type: ignore[no-untyped-def]
    ctx, win = window(FakeSource(), downloads_opener=opener)
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(Tile(FILM, "x"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    return ctx, win


def test_download_from_the_title_page_then_manage_it(qtbot, window, svc, make_downloads) -> None:  # noqa: F811
    ctx, win = _title_page(qtbot, window, lambda passphrase: make_downloads(svc))
    button = win.title_page.download_button
    qtbot.waitUntil(lambda: button.isEnabled() and button.text().strip() == "Download", timeout=10000)
    button.click()
    service = ctx.downloads
    qtbot.waitUntil(lambda: FILM in service.items, timeout=20000)
    qtbot.waitUntil(lambda: service.items[FILM].state == "completed", timeout=30000)
    qtbot.waitUntil(lambda: button.text().strip() == "Downloaded", timeout=5000)

    win.open_downloads()
    page = win.downloads
    qtbot.waitUntil(lambda: FILM in page.rows and page.rows[FILM].play_button.isVisibleTo(page), timeout=5000)
    row = page.rows[FILM]
    qtbot.waitUntil(lambda: row.name.text() == "Title 1", timeout=5000)  # the catalogue's name, not the id
    info = service.items[FILM]
    assert info.bytes > 0 and format_bytes(info.bytes) in row.meta.text()
    assert row.license.text().startswith("License: ") and "left" in row.license.text()
    assert not page.empty.isVisibleTo(page)
    assert "1 download" in page.storage.text() and "free" in page.storage.text()

    row.remove_button.click()
    qtbot.waitUntil(lambda: FILM not in service.items and FILM not in page.rows, timeout=10000)
    assert page.empty.isVisibleTo(page)
    assert make_downloads(svc, device="dev-test").list() == []  # gone from the journal too


def test_download_options_reach_the_stored_title(qtbot, window, svc, make_downloads) -> None:  # noqa: F811
    ctx, win = _title_page(qtbot, window, lambda passphrase: make_downloads(svc))
    page = win.title_page
    qtbot.waitUntil(page.download_options_button.isEnabled, timeout=10000)
    page.download_options_button.click()
    dialog = page.options_dialog
    assert dialog is not None
    dialog.quality.setCurrentIndex(dialog.quality.findData("low"))
    dialog.audio.setText("fr")
    dialog.subtitles.setText("en")
    assert dialog.format.currentData() == "dash"  # HLS is covered by test_download_options (this content is DASH)
    service = ctx.downloads
    dialog.download_button.click()
    qtbot.waitUntil(lambda: FILM in service.items, timeout=20000)
    info = service.items[FILM]
    assert (info.format, info.quality, info.audio, info.subtitles) == ("dash", "low", ("fr",), ("en",))
    qtbot.waitUntil(lambda: service.items[FILM].state == "completed", timeout=30000)


def test_download_failure_is_told_in_plain_words(qtbot, window, make_downloads) -> None:  # noqa: F811
    ctx, win = _title_page(qtbot, window, lambda passphrase: make_downloads(None))  # no service: no license
    button = win.title_page.download_button
    qtbot.waitUntil(button.isEnabled, timeout=10000)
    with qtbot.waitSignal(ctx.downloads.failed, timeout=10000) as sig:
        button.click()
    assert "offline" in sig.args[0].lower()
    qtbot.waitUntil(lambda: button.isEnabled() and button.text().strip() == "Download", timeout=5000)


def test_offline_mount_routes_to_the_current_title() -> None:
    mount = OfflineMount()
    req = httpx.Request("GET", "http://offline.marquee.invalid/t001/manifest.mpd")
    from marquee.errors import NetworkError

    with pytest.raises(NetworkError):
        asyncio.run(mount.handle_async_request(req))
    mount.set(httpx.MockTransport(lambda r: httpx.Response(200, content=r.url.path.encode())))
    assert asyncio.run(mount.handle_async_request(req)).content == b"/t001/manifest.mpd"


@pytest.mark.parametrize(("seconds", "text"), [(None, ""), (-1, "expired"), (30 * 86400, "30 days"),
                                                (47 * 3600, "47 h"), (35 * 60, "35 min"), (10, "1 min")])
def test_remaining_times_in_plain_words(seconds, text) -> None:  # type: ignore[no-untyped-def]
    assert format_left(seconds) == text
