import pytest

from marquee.errors import ConfigError
from service.catalog import BuildInfo, parse_catalog
from service.search import normalize, search
from tests.service.fakes import make_catalog


@pytest.fixture(scope="module")
def titles():  # type: ignore[no-untyped-def]
    return parse_catalog(make_catalog()).titles


@pytest.mark.parametrize("query,expected", [
    ("quiet harbor", "Quiet Harbor"), ("Quiet", "Quiet Harbor"), ("qui", "Quiet Harbor"),
    ("quiet harbour", "Quiet Harbor"), ("quite harbr", "Quiet Harbor"), ("lanturn", "The Lantern Keepers"),
    ("keepers", "The Lantern Keepers"), ("neon", "Neon Fable"), ("pocket dragns", "Pocket Dragons"),
    ("CÓPPER", "Copper Tide"),
])
def test_search_prefix_and_typos(titles, query: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    hits = search(titles, query)
    assert hits and hits[0].title.title == expected, [h.title.title for h in hits[:3]]


def test_search_nonsense_and_empty(titles) -> None:  # type: ignore[no-untyped-def]
    assert search(titles, "") == []
    assert search(titles, "zzzxqj") == []


def test_search_by_cast_and_genre(titles) -> None:  # type: ignore[no-untyped-def]
    assert search(titles, "Actor 3")
    docs = search(titles, "documentary")
    assert docs and all("Documentary" in h.title.genres for h in docs)


def test_normalize() -> None:
    assert normalize("  Ça-va, Bien!  ") == "ca va bien"


def test_catalog_validation() -> None:
    good = make_catalog(3)
    assert len(parse_catalog(good).titles) == 3
    bad = make_catalog(3)
    del bad["titles"][0]["title"]
    with pytest.raises(ConfigError, match="title t001 is missing 'title'"):
        parse_catalog(bad)
    bad = make_catalog(3)
    bad["titles"][1]["id"] = "t001"
    with pytest.raises(ConfigError, match="duplicate"):
        parse_catalog(bad)
    with pytest.raises(ConfigError):
        parse_catalog({"titles": "nope"})


def test_media_mapping_is_deterministic() -> None:
    build = BuildInfo(media={"m0": {}, "m1": {}, "m2": {}})
    assert build.resolve("m1") == "m1"
    assert build.resolve("m7") == "m1"  # 7 % 3
    assert build.resolve("m12") == "m0"
    assert build.resolve("odd-name") == build.resolve("odd-name")
    assert build.media_ids == ["m0", "m1", "m2"]


def test_runtimes_follow_the_media_that_plays():
    from service.catalog import BuildInfo, parse_catalog, with_playable_runtimes
    from tests.service.fakes import make_catalog

    catalog = parse_catalog(make_catalog())
    build = BuildInfo(media={"m0": {"duration_s": 72.0}, "m1": {"duration_s": 16.4}})
    playable = with_playable_runtimes(catalog, build)
    for title in playable.titles:
        if title.kind == "film":
            assert title.runtime_s in (72, 16)
        for ep in title.episodes:
            assert ep.runtime_s in (72, 16)
            assert playable.episode(ep.id) == ep
    assert with_playable_runtimes(catalog, None) is catalog
