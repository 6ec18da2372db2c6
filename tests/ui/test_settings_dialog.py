from __future__ import annotations

from marquee import settings as S
from ui.views.settings_dialog import SettingsDialog


def test_invalid_input_is_shown_under_the_field_and_not_saved(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(S.defaults(), S.AbrCatalog(), None)
    qtbot.addWidget(dlg)
    dlg.editors["service.url"].setText("ftp:/x")
    dlg.editors["playback.audio_language"].setText("english!")
    assert dlg.try_save() is False
    assert dlg.errors["service.url"].isVisibleTo(dlg) and "http://" in dlg.errors["service.url"].text()
    assert dlg.errors["playback.audio_language"].isVisibleTo(dlg)
    assert not dlg.errors["playback.volume"].isVisibleTo(dlg)
    assert "2 settings" in dlg.summary.text()
    assert dlg.result_settings == S.defaults()


def test_valid_input_produces_new_settings(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(S.defaults(), S.AbrCatalog(names=("default", "bola")), None)
    qtbot.addWidget(dlg)
    cb = dlg.editors["playback.quality_cap"]
    cb.setCurrentIndex(cb.findData("data_saver"))
    dlg.editors["qa.abr_algorithm"].setCurrentText("bola")
    dlg.editors["qa.throttle"].setCurrentText("3g")
    dlg.editors["privacy.telemetry"].setChecked(False)
    assert dlg.try_save() is True
    r = dlg.result_settings
    assert (r["playback.quality_cap"], r["qa.abr_algorithm"], r["qa.throttle"], r["privacy.telemetry"]) == (
        "data_saver", "bola", "3g", False)


def test_throttle_off_means_empty(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(S.defaults(), S.AbrCatalog(), None)
    qtbot.addWidget(dlg)
    assert dlg.values()["qa.throttle"] == ""
