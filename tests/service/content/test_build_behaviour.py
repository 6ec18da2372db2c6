"""Builder behaviour on a tiny spec (1 master x 4 s, 2 small rungs, 3 titles): caching, resume, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marquee.errors import MediaError
from service.content import build as build_mod
from service.content import package
from service.content.build import build, read_build_json
from service.content.spec import MASTERS, BuildSpec, Rung

pytestmark = pytest.mark.slow

TINY = BuildSpec(masters=MASTERS[:1], ladder=(Rung("v144", 256, 144, 200, "ultrafast"),
                                             Rung("v240", 426, 240, 400, "ultrafast")),
                 duration_s=4, quick=True)


def _catalog(path: Path, titles: int = 3, suffix: str = "") -> Path:
    doc = {"artwork_tags": ["default", "action", "drama", "comedy"], "titles": [
        {"id": f"t{i:03d}", "kind": "film", "title": f"Test Title {i}{suffix}", "year": 2020, "genres": ["Drama"],
         "maturity": "PG", "synopsis": "s", "cast": ["A B"], "added": "2025-01-01", "popularity": 0.5,
         "media": "m0", "runtime_s": 60} for i in range(1, titles + 1)]}
    path.write_text(json.dumps(doc))
    return path


def test_builds_layout_then_returns_at_once(tmp_path: Path) -> None:
    out, cat = tmp_path / "out", _catalog(tmp_path / "c.json")
    first = build(out, TINY, catalog_path=cat)
    assert first.built and (out / "build.json").is_file()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["artwork", "build.json", "media"]
    assert sorted(p.name for p in (out / "media" / "m0").iterdir()) == [
        "a-en", "a-fr", "manifest.mpd", "master.m3u8", "subs", "v144", "v240"]
    assert not list(out.glob(".staging-*"))
    again = build(out, TINY, catalog_path=cat)
    assert not again.built and again.info == first.info


def test_catalogue_change_redraws_artwork_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(out, TINY, catalog_path=_catalog(tmp_path / "c.json"))
    seg = out / "media" / "m0" / "v144" / "seg-1.m4s"
    stamp = seg.stat().st_mtime_ns
    poster_before = (out / "artwork" / "t001" / "poster-0.jpg").read_bytes()
    result = build(out, TINY, catalog_path=_catalog(tmp_path / "c2.json", titles=4, suffix=" Returns"))
    assert result.built and seg.stat().st_mtime_ns == stamp
    assert (out / "artwork" / "t004" / "poster-3.jpg").is_file()
    assert (out / "artwork" / "t001" / "poster-0.jpg").read_bytes() != poster_before


def test_interrupted_build_leaves_nothing_that_looks_complete_and_resumes(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out, cat = tmp_path / "out", _catalog(tmp_path / "c.json")

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(package, "publish", boom)
    with pytest.raises(KeyboardInterrupt):
        build(out, TINY, catalog_path=cat)
    assert read_build_json(out) is None and not (out / "media").exists()
    monkeypatch.undo()
    assert build(out, TINY, catalog_path=cat).built
    assert read_build_json(out) is not None


def test_force_rebuilds(tmp_path: Path) -> None:
    out, cat = tmp_path / "out", _catalog(tmp_path / "c.json")
    build(out, TINY, catalog_path=cat)
    stamp = (out / "media" / "m0" / "manifest.mpd").stat().st_mtime_ns
    assert build(out, TINY, catalog_path=cat, force=True).built
    assert (out / "media" / "m0" / "manifest.mpd").stat().st_mtime_ns != stamp


def test_missing_ffmpeg_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as info:
        build(tmp_path / "out", TINY, catalog_path=_catalog(tmp_path / "c.json"), ffmpeg_exe="/nonexistent/ffmpeg")
    assert "ffmpeg" in info.value.user_message and "/nonexistent/ffmpeg" in info.value.message
    assert read_build_json(tmp_path / "out") is None


def test_broken_ffmpeg_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'ffmpeg version n0-broken' ; exit 0\n")
    fake.chmod(0o755)
    with pytest.raises(MediaError) as info:
        build(tmp_path / "out", TINY, catalog_path=_catalog(tmp_path / "c.json"), ffmpeg_exe=str(fake))
    assert "lacks" in info.value.message and "libx264" in info.value.message


def test_code_version_is_stable() -> None:
    assert build_mod.code_version() == build_mod.code_version()


def test_media_key_ignores_modules_that_do_not_shape_the_media() -> None:
    assert build_mod.code_version(build_mod.MEDIA_MODULES) != build_mod.code_version()
    assert "artwork.py" not in build_mod.MEDIA_MODULES and "cli.py" not in build_mod.MEDIA_MODULES


def test_is_current_until_the_content_code_or_the_catalogue_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.content import state

    out, cat = tmp_path / "out", _catalog(tmp_path / "c.json")
    assert not state.is_current(out, cat)  # nothing built
    monkeypatch.setattr("service.content.spec.quick_spec", lambda: TINY)  # what this build recorded as "quick"
    build(out, TINY, catalog_path=cat)
    assert state.is_current(out, cat)
    _catalog(cat, suffix=" (renamed)")  # the artwork would be drawn again
    assert not state.is_current(out, cat)
    build(out, TINY, catalog_path=cat)
    assert state.is_current(out, cat)
    info = json.loads((out / "build.json").read_text())
    (out / "build.json").write_text(json.dumps({**info, "media_key": "made-by-another-version"}))
    assert not state.is_current(out, cat)
