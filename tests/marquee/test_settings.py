from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marquee import settings as S
from marquee.errors import ConfigError


def test_defaults_cover_the_schema() -> None:
    d = S.defaults()
    assert set(d.values) == {s.key for s in S.SCHEMA}
    assert d["playback.quality_cap"] == "auto" and d["privacy.telemetry"] is True


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("playback.quality_cap", "data_saver", "data_saver"),
        ("playback.audio_language", " fr ", "fr"),
        ("playback.audio_language", "pt-BR", "pt-BR"),
        ("playback.subtitle_language", "", ""),
        ("playback.autoplay_next", "off", False),
        ("playback.volume", "55", 55),
        ("service.url", "http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("service.url", "", ""),
        ("qa.throttle", "3g", "3g"),
        ("qa.throttle", "wifi-lossy", "wifi-lossy"),
        ("qa.throttle", " 2mbit ", "2mbit"),
        ("qa.abr_params", "safety = 0.8 ; window=5", "safety=0.8, window=5"),
    ],
)
def test_valid_values_are_normalised(key: str, raw: object, expected: object) -> None:
    assert S.validate(key, raw) == expected


@pytest.mark.parametrize(
    ("key", "raw", "needle"),
    [
        ("playback.quality_cap", "ultra", "not one of"),
        ("playback.audio_language", "english!", "not a language code"),
        ("playback.audio_language", "", "Choose"),
        ("playback.volume", 101, "between 0 and 100"),
        ("playback.volume", "loud", "not a whole number"),
        ("playback.autoplay_next", "maybe", "on or off"),
        ("service.url", "ftp://x", "http://"),
        ("downloads.location", "relative/dir", "full path"),
        ("qa.throttle", "warp-speed", "preset"),
        ("qa.throttle", "0mbit", "preset"),
        ("qa.throttle", "4g", "preset"),
        ("qa.abr_params", "safety", "name=value"),
        ("qa.abr_algorithm", "nope", "not one of"),
        ("no.such", 1, "no setting"),
    ],
)
def test_invalid_values_are_rejected_with_a_message(key: str, raw: object, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        S.validate(key, raw)
    assert needle in exc.value.user_message


def test_replace_is_all_or_nothing_and_names_every_error() -> None:
    d = S.defaults()
    with pytest.raises(ConfigError) as exc:
        d.replace({"playback.volume": 50, "service.url": "nope", "playback.quality_cap": "x"})
    assert set(exc.value.errors) == {"service.url", "playback.quality_cap"}  # type: ignore[attr-defined]
    assert d["playback.volume"] == 100
    assert d.replace({"playback.volume": 50})["playback.volume"] == 50


def test_abr_catalog_validates_names_and_params() -> None:
    def check(name: str, params: dict[str, str]) -> None:
        if "safety" in params and float(params["safety"]) > 1:
            raise ConfigError("bad", user_message="safety must be at most 1")

    cat = S.AbrCatalog(names=("default", "bola"), check_params=check)
    ok = S.defaults().replace({"qa.abr_algorithm": "bola", "qa.abr_params": "safety=0.9"}, cat)
    assert ok["qa.abr_algorithm"] == "bola" and ok.abr_params() == {"safety": "0.9"}
    with pytest.raises(ConfigError) as exc:
        S.defaults().replace({"qa.abr_algorithm": "bola", "qa.abr_params": "safety=2"}, cat)
    assert "at most 1" in exc.value.errors["qa.abr_params"]  # type: ignore[attr-defined]


def test_file_round_trip_is_commented_toml(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    s = S.defaults().replace({"playback.audio_language": "fr", "service.url": 'http://h:1/"x', "playback.volume": 7})
    S.save(s, path)
    text = path.read_text()
    assert "# Preferred audio language" in text and "[playback]" in text
    tomllib.loads(text)
    loaded, warnings = S.load(path)
    assert warnings == [] and loaded.values == s.values


def test_damaged_file_falls_back_to_defaults_with_warnings(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[playback]\nvolume = 900\naudio_language = "fr"\n[qa]\nthrottle = "moon"\nstray = 1\n')
    loaded, warnings = S.load(path)
    assert loaded["playback.volume"] == 100 and loaded["playback.audio_language"] == "fr"
    assert len(warnings) == 3
    path.write_text("this is [not toml")
    loaded, warnings = S.load(path)
    assert loaded.values == S.defaults().values and "not valid TOML" in warnings[0]
    assert S.load(tmp_path / "missing.toml") == (S.defaults(), [])


@given(st.text(max_size=40))
def test_any_text_value_is_valid_or_a_config_error(text: str) -> None:
    for s in S.SCHEMA:
        try:
            S.validate(s.key, text)
        except ConfigError as exc:
            assert exc.user_message


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_any_service_text_survives_the_toml_writer(text: str) -> None:
    values = dict(S.defaults().values)
    values["qa.abr_params"] = ""
    values["downloads.location"] = ""
    s = S.Settings({**values, "service.url": text})
    parsed = tomllib.loads(S.to_toml(s))
    assert parsed["service"]["url"] == text


def test_a_throttle_trace_file_is_checked_by_the_player(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.txt"
    good.write_text("0 2.0\n1 1.0\n2 3.0\n")
    assert S.validate("qa.throttle", str(good)) == str(good)
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not a trace\n")
    with pytest.raises(ConfigError):
        S.validate("qa.throttle", str(bad))


def test_throttle_presets_are_the_players() -> None:
    from abr.traces import PRESETS

    assert S.throttle_presets() == ("", *PRESETS)
