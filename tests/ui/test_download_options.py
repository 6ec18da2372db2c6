"""Per-download choices: the title page's options button opens ``DownloadOptionsDialog``, and
its quality, audio, subtitles and format reach ``Downloads.add``; one click on Download still
uses the settings' defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from downloads.plan import QUALITY_HEIGHTS
from marquee import settings as S
from tests.drm.memory_keyring import MemoryKeyring
from tests.ui.downloads_fakes import RecordingDownloads, opener
from tests.ui.fakes import FakeSource
from ui.catalog import Tile
from ui.views.download_options import DownloadChoices, DownloadOptionsDialog, default_choices, parse_languages


@pytest.fixture
def added(monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[type-arg]
    calls: list = []  # type: ignore[type-arg]
    monkeypatch.setattr(RecordingDownloads, "added", calls)
    return calls


def title_page(qtbot, window, home: Path, tile: Tile):  # type: ignore[no-untyped-def]
    ctx, win = window(FakeSource(), downloads_opener=opener(home / "dl", MemoryKeyring(), RecordingDownloads))
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(tile)
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    page = win.title_page
    qtbot.waitUntil(lambda: page.download_button.isEnabled() and page.download_options_button.isEnabled(),
                    timeout=5000)
    return ctx, page


def test_the_options_reach_downloads_add(qtbot, window, home, added) -> None:  # type: ignore[no-untyped-def]
    ctx, page = title_page(qtbot, window, home, Tile("t004", "x"))  # a series: the episode Play would play
    assert page.download_options_button.isVisibleTo(page)
    page.download_options_button.click()
    dialog = page.options_dialog
    assert dialog is not None and dialog.isVisible() and dialog.subject.text() == "Title 4 S1:E2"
    dialog.quality.setCurrentIndex(dialog.quality.findData("high"))
    dialog.audio.setText("fr, EN")
    dialog.subtitles.setText("en")
    dialog.format.setCurrentIndex(dialog.format.findData("hls"))
    dialog.download_button.click()
    qtbot.waitUntil(lambda: bool(added), timeout=10000)
    assert added == [("t004-s1e02", {"quality": "high", "audio": ["fr", "en"], "subtitles": ["en"], "format": "hls"})]
    assert page.download_button.text().strip() in ("Preparing…", "Download S1:E2")


def test_one_click_still_uses_the_settings(qtbot, window, home, added) -> None:  # type: ignore[no-untyped-def]
    ctx, page = title_page(qtbot, window, home, Tile("t001", "x"))
    page.download_button.click()
    qtbot.waitUntil(lambda: bool(added), timeout=10000)
    assert added == [("t001", {"quality": ctx.settings["downloads.quality"], "audio": None, "subtitles": None,
                               "format": "dash"})]
    assert page.options_dialog is None


def test_cancel_downloads_nothing(qtbot, window, home, added) -> None:  # type: ignore[no-untyped-def]
    ctx, page = title_page(qtbot, window, home, Tile("t001", "x"))
    page.download_options_button.click()
    assert page.options_dialog is not None
    page.options_dialog.cancel_button.click()
    qtbot.waitUntil(lambda: page.options_dialog is None, timeout=5000)
    ctx.tasks.wait_idle(3000)
    assert added == []


def test_dialog_starts_from_the_settings_and_offers_the_cli_qualities(qtbot) -> None:  # type: ignore[no-untyped-def]
    settings = S.defaults().replace({"downloads.quality": "max", "playback.audio_language": "fr",
                                     "playback.subtitle_language": "en"})
    defaults = default_choices(settings)
    assert defaults == DownloadChoices("max", ("fr",), ("en",), "dash")
    dialog = DownloadOptionsDialog("Title 1", defaults)
    qtbot.addWidget(dialog)
    assert [dialog.quality.itemData(i) for i in range(dialog.quality.count())] == list(QUALITY_HEIGHTS)
    assert [dialog.format.itemData(i) for i in range(dialog.format.count())] == ["dash", "hls"]
    assert (dialog.quality.currentData(), dialog.audio.text(), dialog.subtitles.text(), dialog.format.currentData()) == (
        "max", "fr", "en", "dash")
    dialog.subtitles.setText("")
    assert dialog.try_accept() and dialog.choices.subtitles == ()  # empty: no subtitles


@pytest.mark.parametrize(("audio", "subtitles", "error"), [
    ("english!", "", "“english!” is not a language code"),
    ("", "", "Keep at least one audio language"),
    ("en", "fr, all, x1", "“x1” is not a language code"),
])
def test_bad_languages_are_explained_and_not_accepted(qtbot, audio, subtitles, error) -> None:  # type: ignore[no-untyped-def]
    dialog = DownloadOptionsDialog("Title 1", default_choices(S.defaults()))
    qtbot.addWidget(dialog)
    dialog.audio.setText(audio)
    dialog.subtitles.setText(subtitles)
    assert dialog.try_accept() is False
    assert error in dialog.error.text() and dialog.result() == 0


def test_languages_are_parsed_like_the_cli_flags() -> None:
    assert parse_languages("en, fr en  pt-BR", allow_all=False) == ("en", "fr", "pt-BR")
    assert parse_languages("all", allow_all=True) == ("all",)
    with pytest.raises(ValueError):
        parse_languages("all", allow_all=False)
