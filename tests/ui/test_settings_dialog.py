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


def test_qa_section_checks_abr_params_with_the_abr_package(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(S.defaults(), S.default_abr_catalog(), None)
    qtbot.addWidget(dlg)
    algo = dlg.editors["qa.abr_algorithm"]
    import abr

    assert [algo.itemData(i) for i in range(algo.count())] == list(dict.fromkeys(("default", *abr.algorithms())))
    algo.setCurrentIndex(algo.findData("bola"))
    assert "buffer_target_s" in dlg.hints["qa.abr_params"].text()
    dlg.editors["qa.abr_params"].setText("no_such_param=1")
    assert dlg.try_save() is False
    assert dlg.errors["qa.abr_params"].isVisibleTo(dlg)
    dlg.editors["qa.abr_params"].setText("buffer_target_s=20")
    assert dlg.try_save() is True
    assert (dlg.result_settings["qa.abr_algorithm"], dlg.result_settings.abr_params()) == (
        "bola", {"buffer_target_s": "20"})


def test_qa_section_rejects_a_throttle_the_player_cannot_use(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(S.defaults(), S.AbrCatalog(), None)
    qtbot.addWidget(dlg)
    dlg.editors["qa.throttle"].setCurrentText("warp-speed")
    assert dlg.try_save() is False
    assert "preset" in dlg.errors["qa.throttle"].text()
    dlg.editors["qa.throttle"].setCurrentText("lte")
    assert dlg.try_save() is True and dlg.result_settings["qa.throttle"] == "lte"
