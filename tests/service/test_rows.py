from collections import Counter

import pytest

from service.catalog import Catalog, parse_catalog
from service.rows import (DAY, ProfileView, WatchEvent, build_rows, choose_artwork_variant, genre_affinity, mmr,
                          more_like_this, resume_point)
from service.seed import DEMO_PROFILES, plan_demo_history
from tests.service.fakes import make_catalog

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(make_catalog(40))


def demo_histories(catalog: Catalog) -> tuple[list[ProfileView], list[WatchEvent]]:
    views, events = [], []
    for i, demo in enumerate(DEMO_PROFILES):
        pid = f"p{i}"
        views.append(ProfileView(pid, demo.name, {"TV-MA": 3, "TV-14": 2, "TV-PG": 1}[demo.maturity], demo.taste))
        events += plan_demo_history(catalog, pid, demo, NOW)
    return views, events


def ids(row) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.title_id for i in row.items]


def test_demo_profiles_get_different_rows(catalog: Catalog) -> None:
    views, events = demo_histories(catalog)
    results = [build_rows(catalog, v, [e for e in events if e.profile_id == v.id], events, NOW) for v in views]
    for r in results:
        kinds = [row.kind for row in r.rows]
        assert kinds[0] == "continue_watching"
        assert {"top_picks", "because_you_watched", "trending", "new"} <= set(kinds)
    picks = [tuple(ids(next(row for row in r.rows if row.kind == "top_picks"))) for r in results]
    assert len(set(picks)) == len(picks), "every profile gets its own top picks"
    assert len({r.artwork_variant for r in results}) >= 3, "artwork differs by taste"


def test_rows_respect_maturity(catalog: Catalog) -> None:
    views, events = demo_histories(catalog)
    kids = views[3]
    result = build_rows(catalog, kids, [e for e in events if e.profile_id == kids.id], events, NOW)
    for row in result.rows:
        for item in row.items:
            assert catalog.by_id[item.title_id].level <= kids.max_level


def test_rows_are_diverse(catalog: Catalog) -> None:
    views, events = demo_histories(catalog)
    for v in views:
        result = build_rows(catalog, v, [e for e in events if e.profile_id == v.id], events, NOW)
        for row in result.rows:
            if row.kind == "continue_watching" or len(row.items) < 6:
                continue
            primaries = Counter(catalog.by_id[i.title_id].genres[0] for i in row.items)
            assert max(primaries.values()) <= 4, (row.id, primaries)
            assert len(primaries) >= 3


def test_top_picks_follow_affinity(catalog: Catalog) -> None:
    views, events = demo_histories(catalog)
    alex = views[0]
    result = build_rows(catalog, alex, [e for e in events if e.profile_id == alex.id], events, NOW)
    top = next(r for r in result.rows if r.kind == "top_picks")
    first = catalog.by_id[top.items[0].title_id]
    assert {"action", "sci-fi", "thriller"} & {g.lower() for g in first.genres}


def test_cold_start(catalog: Catalog) -> None:
    new = ProfileView("fresh", "Fresh", 3)
    _, events = demo_histories(catalog)
    result = build_rows(catalog, new, [], events, NOW)
    kinds = [r.kind for r in result.rows]
    assert "continue_watching" not in kinds and "because_you_watched" not in kinds
    assert kinds[:1] == ["top_picks"] and "trending" in kinds and "new" in kinds
    assert all(len(r.items) == 10 for r in result.rows)
    assert result.artwork_variant == 0
    # Popularity drives the cold top picks: the most popular title is among them.
    most_popular = max(catalog.titles, key=lambda t: t.popularity)
    assert most_popular.id in ids(result.rows[0])


def test_continue_watching_moves_to_next_episode(catalog: Catalog) -> None:
    series = next(t for t in catalog.titles if t.kind == "series")
    film = next(t for t in catalog.titles if t.kind == "film")
    ep1, ep2 = series.episodes[0], series.episodes[1]
    history = [WatchEvent("p", series.id, ep1.id, 1490, 1500, NOW - 100),
               WatchEvent("p", film.id, None, 2000, 5400, NOW - 50),
               WatchEvent("p", catalog.titles[1].id, None, 10, 5400, NOW - 10)]  # under 5%: no resume point
    result = build_rows(catalog, ProfileView("p", "P", 3), history, history, NOW)
    cw = result.rows[0]
    assert [(i.title_id, i.episode_id) for i in cw.items] == [(film.id, None), (series.id, ep2.id)]
    assert cw.items[0].progress == pytest.approx(2000 / 5400, abs=1e-3)
    assert resume_point(catalog, history, series) == (ep2, 0.0)
    assert resume_point(catalog, history, film) == (None, 2000)


def test_affinity_decays_with_age(catalog: Catalog) -> None:
    action = next(t for t in catalog.titles if t.genres[0] == "Action")
    drama = next(t for t in catalog.titles if t.genres == ("Drama",))
    history = [WatchEvent("p", action.id, None, 5400, 5400, NOW - 200 * DAY),
               WatchEvent("p", drama.id, None, 5400, 5400, NOW - DAY)]
    aff = genre_affinity(catalog, history, (), NOW)
    assert aff["drama"] > aff["action"]
    assert sum(aff.values()) == pytest.approx(1.0)


def test_artwork_variant() -> None:
    tags = ("default", "action", "drama", "comedy")
    assert choose_artwork_variant({"comedy": 0.6, "action": 0.4}, tags) == 3
    assert choose_artwork_variant({"horror": 0.7, "drama": 0.3}, tags) == 2
    assert choose_artwork_variant({"horror": 1.0}, tags) == 0
    assert choose_artwork_variant({}, tags) == 0


def test_mmr_prefers_variety_over_pure_relevance(catalog: Catalog) -> None:
    cands = [(t, 1.0 if t.genres[0] == "Action" else 0.5) for t in catalog.titles]
    chosen = mmr(cands, 10)
    assert sum(t.genres[0] == "Action" for t in chosen) <= 4
    assert len(chosen) == 10


def test_more_like_this_shares_genres_or_cast_and_never_shows_the_title_itself(catalog: Catalog) -> None:
    for seed in catalog.titles:
        row = more_like_this(catalog, seed, max_level=3)
        assert row and seed.id not in [t.id for t in row] and len(row) <= 10
        assert len({t.id for t in row}) == len(row)
        for t in row:
            assert set(t.genres) & set(seed.genres) or set(t.cast) & set(seed.cast), (seed.id, t.id)
    film = next(t for t in catalog.titles if t.kind == "film")
    first = more_like_this(catalog, film, max_level=3)[0]
    assert set(first.genres) == set(film.genres)  # the closest match leads


def test_more_like_this_respects_maturity(catalog: Catalog) -> None:
    seed = next(t for t in catalog.titles if t.level == 0)
    assert all(t.level <= 0 for t in more_like_this(catalog, seed, max_level=0))
