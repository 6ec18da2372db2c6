from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from service.content.artwork import ArtSubject, render, write_artwork

TAGS = ["default", "action", "drama", "comedy"]
FILM = ArtSubject("t900", "The Lantern Keepers of Hollow Bay", 2019, ("Drama", "Mystery"), "film")
SERIES = ArtSubject("t901", "Static", 2023, ("Sci-Fi",), "series", seasons=2)


@pytest.mark.parametrize("kind, size", [("poster", (400, 600)), ("backdrop", (1280, 720)), ("hero", (1280, 720))])
def test_sizes(kind: str, size: tuple[int, int]) -> None:
    for tag in TAGS:
        assert render(SERIES, tag, kind).size == size


def _diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_variants_are_visibly_different_and_deterministic() -> None:
    posters = [render(FILM, tag, "poster") for tag in TAGS]
    for i in range(len(posters)):
        for j in range(i + 1, len(posters)):
            assert _diff(posters[i], posters[j]) > 15, (TAGS[i], TAGS[j])
    assert _diff(render(FILM, "action", "poster"), posters[1]) == 0


def test_titles_differ_from_each_other() -> None:
    other = ArtSubject("t902", "Cold Open", 2024, ("Comedy",), "film")
    assert _diff(render(FILM, "default", "backdrop"), render(other, "default", "backdrop")) > 5


def test_unknown_tag_falls_back_to_default() -> None:
    assert _diff(render(FILM, "western", "poster"), render(FILM, "default", "poster")) == 0


def test_write_artwork_names(tmp_path: Path) -> None:
    written = write_artwork(SERIES, TAGS, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{kind}-{v}.jpg" for kind in ("poster", "backdrop", "hero") for v in range(4))
    with Image.open(tmp_path / "poster-2.jpg") as img:
        assert img.format == "JPEG"


@pytest.mark.parametrize("tag", TAGS)
def test_the_hero_is_the_backdrops_picture_without_its_lettering(tag: str) -> None:
    hero, backdrop = render(FILM, tag, "hero"), render(FILM, tag, "backdrop")
    w, h = hero.size
    right = (int(w * 0.62), 0, w, h)  # the lettering (brand, title, meta line) is all left of 0.55w
    assert _diff(hero.crop(right), backdrop.crop(right)) == 0
    left = (0, 0, int(w * 0.55), h)
    assert _diff(hero.crop(left), backdrop.crop(left)) > 0.5  # the title and brand are gone


def test_every_catalogue_genre_has_its_own_motif_family() -> None:
    from service.catalog import default_catalog_path, load_catalog
    from service.content.motifs import GENRE_MOTIFS

    genres = {g for t in load_catalog(default_catalog_path()).titles for g in t.genres}
    assert genres <= set(GENRE_MOTIFS), genres - set(GENRE_MOTIFS)
    assert len(set(GENRE_MOTIFS.values())) == len(GENRE_MOTIFS)  # no two genres share a family


def test_variants_keep_the_titles_composition_and_change_its_emphasis() -> None:
    from service.content.artwork import composition

    horror = ArtSubject("t903", "Bloom", 2025, ("Horror",), "film")
    scifi = ArtSubject("t904", "Bloom", 2025, ("Sci-Fi",), "film")
    assert composition(horror).genre == "Horror" and composition(scifi).genre == "Sci-Fi"
    # same name and year, other genre: another picture
    assert _diff(render(horror, "default", "hero"), render(scifi, "default", "hero")) > 10
    # the action variant re-colours the title's picture: edges stay where they were
    edges = [render(horror, tag, "hero").convert("L").filter(ImageFilter.FIND_EDGES) for tag in ("default", "action")]
    other = render(scifi, "action", "hero").convert("L").filter(ImageFilter.FIND_EDGES)
    assert _diff(edges[0], edges[1]) < _diff(edges[1], other)
