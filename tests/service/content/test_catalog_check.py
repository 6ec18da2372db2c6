from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from service.catalog import BuildInfo, parse_catalog
from service.content.catalog_check import GENRES, check_catalog, check_file, default_path


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(default_path().read_text(encoding="utf-8"))


def test_the_shipped_catalogue_is_valid(data: dict[str, Any]) -> None:
    assert check_file(default_path()) == []
    catalog = parse_catalog(data)
    assert len(catalog.titles) >= 60
    films = [t for t in catalog.titles if t.kind == "film"]
    series = [t for t in catalog.titles if t.kind == "series"]
    assert len(films) >= 20 and len(series) >= 10
    assert all(1 <= len(t.seasons()) <= 3 and all(len(eps) >= 2 for _, eps in t.seasons()) for t in series)
    assert len({g for t in catalog.titles for g in t.genres}) >= 8
    ids = [t.id for t in catalog.titles] + list(catalog.episodes)
    assert len(ids) == len(set(ids))
    assert len({t.title for t in catalog.titles}) == len(catalog.titles)


@pytest.mark.parametrize("built", [1, 2, 3, 4])
def test_every_media_reference_resolves_for_any_build_size(data: dict[str, Any], built: int) -> None:
    catalog = parse_catalog(data)
    info = BuildInfo(media={f"m{i}": {} for i in range(built)})
    refs = [t.media for t in catalog.titles if t.media] + [e.media for e in catalog.episodes.values()]
    assert all(info.resolve(r) in info.media for r in refs)
    if built == 4:
        assert {info.resolve(r) for r in refs} == set(info.media)  # the full build's masters are all used


def _mutate(data: dict[str, Any], fn: Any) -> list[str]:
    doc = copy.deepcopy(data)
    fn(doc)
    return check_catalog(doc)


def _first(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(t for t in doc["titles"] if t["kind"] == kind)


@pytest.mark.parametrize("name, fn, expect", [
    ("missing synopsis", lambda d: d["titles"][0].pop("synopsis"), "missing 'synopsis'"),
    ("duplicate id", lambda d: d["titles"][1].__setitem__("id", d["titles"][0]["id"]), "duplicate id"),
    ("bad media", lambda d: _first(d, "film").__setitem__("media", "m9"), "m0..m3"),
    ("bad genre", lambda d: d["titles"][0].__setitem__("genres", ["Western"]), "genres"),
    ("bad rating", lambda d: d["titles"][0].__setitem__("maturity", "X"), "maturity"),
    ("bad date", lambda d: d["titles"][0].__setitem__("added", "2024-13-01"), "added"),
    ("popularity", lambda d: d["titles"][0].__setitem__("popularity", 1.5), "popularity"),
    ("too few", lambda d: d.__setitem__("titles", d["titles"][:10]), "at least 60"),
    ("episode media", lambda d: _first(d, "series")["seasons"][0]["episodes"][0].__setitem__("media", "x"), "media"),
    ("four seasons", lambda d: _first(d, "series").__setitem__("seasons", _first(d, "series")["seasons"] * 4),
     "1 to 3 seasons"),
    ("empty cast", lambda d: d["titles"][0].__setitem__("cast", []), "cast"),
    ("bool year", lambda d: d["titles"][0].__setitem__("year", True), "year"),
])
def test_problems_name_the_field(data: dict[str, Any], name: str, fn: Any, expect: str) -> None:
    problems = _mutate(data, fn)
    assert problems and any(expect in p for p in problems), (name, problems)


def test_genre_set_is_small() -> None:
    assert 10 <= len(GENRES) <= 14


def test_not_an_object() -> None:
    assert check_catalog([]) == ["catalogue: the top level must be an object"]
