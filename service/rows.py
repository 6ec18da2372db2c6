"""Personalized rows for one profile. Pure: catalogue, history and ``now`` in, rows out.

Rows, in order (empty rows are left out):

- ``continue``: titles in progress (5%..90% watched), or the next episode of a
  series whose last watched episode is finished; most recent first.
- ``top_picks``: relevance = the profile's genre affinity for the title's genres
  (+ a little popularity); a new profile with no history uses its declared taste,
  or popularity alone (cold start).
- ``because:<title_id>``: up to two rows, for the two most recently watched titles;
  similarity = genre Jaccard + shared cast + co-watching by other profiles.
- ``trending``: distinct profiles watching in the last 14 days (recency weighted)
  blended with catalogue popularity, boosted by the profile's affinity.
- ``new``: most recently added titles, lightly boosted by affinity.

Every ranked row is re-ordered by maximal marginal relevance (MMR, similarity =
genre Jaccard) with a hard cap on titles sharing a primary genre, so no row is ten
of one genre. Titles above the profile's maturity level never appear.

Genre affinity: each watched title adds ``engagement x recency`` (engagement is
the watched fraction, at least 0.2; recency halves every 30 days) spread over its
genres; declared taste genres add a fixed prior of 0.5 each. Normalized to sum 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping, Sequence

from service.catalog import Catalog, Episode, Title

DAY = 86400.0
START_FRACTION = 0.05
WATCHED_FRACTION = 0.90
HALF_LIFE_DAYS = 30.0
TRENDING_WINDOW_DAYS = 14.0


@dataclass(frozen=True)
class WatchEvent:
    profile_id: str
    title_id: str
    episode_id: str | None
    position_s: float
    duration_s: float
    watched_at: float  # wall seconds

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.position_s / self.duration_s)) if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class ProfileView:
    id: str
    name: str
    max_level: int
    taste: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowItem:
    title_id: str
    episode_id: str | None = None
    progress: float | None = None
    position_s: float | None = None


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    kind: str
    items: tuple[RowItem, ...]


@dataclass(frozen=True)
class Personalization:
    rows: tuple[Row, ...]
    affinity: Mapping[str, float]
    artwork_variant: int


def _g(genre: str) -> str:
    return genre.strip().lower()


def genre_affinity(catalog: Catalog, history: Sequence[WatchEvent], taste: Sequence[str], now: float) -> dict[str, float]:
    best: dict[str, WatchEvent] = {}
    engagement: dict[str, float] = {}
    for ev in history:
        engagement[ev.title_id] = max(engagement.get(ev.title_id, 0.0), ev.fraction)
        if ev.title_id not in best or ev.watched_at > best[ev.title_id].watched_at:
            best[ev.title_id] = ev
    scores: dict[str, float] = {}
    for tid, ev in best.items():
        title = catalog.title(tid)
        if title is None or not title.genres:
            continue
        age_days = max(0.0, (now - ev.watched_at) / DAY)
        weight = max(0.2, engagement[tid]) * 0.5 ** (age_days / HALF_LIFE_DAYS)
        for genre in title.genres:
            scores[_g(genre)] = scores.get(_g(genre), 0.0) + weight / len(title.genres)
    for genre in taste:
        scores[_g(genre)] = scores.get(_g(genre), 0.0) + 0.5
    total = sum(scores.values())
    return {g: s / total for g, s in scores.items()} if total > 0 else {}


def choose_artwork_variant(affinity: Mapping[str, float], tags: Sequence[str]) -> int:
    """The variant whose tag is the profile's strongest genre; 0 (the default) otherwise."""
    lowered = [_g(t) for t in tags]
    for genre, _score in sorted(affinity.items(), key=lambda kv: (-kv[1], kv[0])):
        for i, tag in enumerate(lowered):
            if i > 0 and (tag == genre or tag in genre.split()):
                return i
    return 0


def genre_similarity(a: Title, b: Title) -> float:
    ga, gb = {_g(g) for g in a.genres}, {_g(g) for g in b.genres}
    return len(ga & gb) / len(ga | gb) if ga | gb else 0.0


def mmr(candidates: Sequence[tuple[Title, float]], k: int, *, lam: float = 0.7, cap_share: float = 0.4) -> list[Title]:
    """Greedy maximal marginal relevance with a cap on titles sharing a primary genre."""
    pool = sorted(candidates, key=lambda c: (-c[1], c[0].id))
    top = max((r for _, r in pool), default=1.0) or 1.0
    cap = max(1, math.ceil(k * cap_share))
    chosen: list[Title] = []
    per_genre: dict[str, int] = {}
    while pool and len(chosen) < k:
        best_i, best_v = -1, -math.inf
        for i, (title, rel) in enumerate(pool):
            primary = _g(title.genres[0]) if title.genres else ""
            if per_genre.get(primary, 0) >= cap:
                continue
            redundancy = max((genre_similarity(title, c) for c in chosen), default=0.0)
            value = lam * rel / top - (1 - lam) * redundancy
            if value > best_v:
                best_i, best_v = i, value
        if best_i < 0:  # every remaining title is capped: relax the cap rather than return a short row
            cap += 1
            continue
        title, _ = pool.pop(best_i)
        chosen.append(title)
        primary = _g(title.genres[0]) if title.genres else ""
        per_genre[primary] = per_genre.get(primary, 0) + 1
    return chosen


def _latest_by_title(history: Iterable[WatchEvent]) -> dict[str, WatchEvent]:
    out: dict[str, WatchEvent] = {}
    for ev in history:
        if ev.title_id not in out or ev.watched_at >= out[ev.title_id].watched_at:
            out[ev.title_id] = ev
    return out


def continue_watching(catalog: Catalog, history: Sequence[WatchEvent], max_level: int, k: int) -> list[RowItem]:
    items: list[tuple[float, RowItem]] = []
    for tid, ev in _latest_by_title(history).items():
        title = catalog.title(tid)
        if title is None or title.level > max_level:
            continue
        if title.kind == "film":
            if START_FRACTION <= ev.fraction < WATCHED_FRACTION:
                items.append((ev.watched_at, RowItem(tid, None, round(ev.fraction, 4), ev.position_s)))
            continue
        episode: Episode | None = catalog.episode(ev.episode_id) if ev.episode_id else None
        if episode is None or episode.title_id != tid:
            continue
        if ev.fraction >= WATCHED_FRACTION:
            nxt = catalog.next_episode(episode)
            if nxt is not None:
                items.append((ev.watched_at, RowItem(tid, nxt.id, 0.0, 0.0)))
        elif ev.fraction >= START_FRACTION:
            items.append((ev.watched_at, RowItem(tid, episode.id, round(ev.fraction, 4), ev.position_s)))
    items.sort(key=lambda p: -p[0])
    return [item for _, item in items[:k]]


def _affinity_score(title: Title, affinity: Mapping[str, float]) -> float:
    if not title.genres:
        return 0.0
    return sum(affinity.get(_g(g), 0.0) for g in title.genres) / math.sqrt(len(title.genres))


def _cowatch(all_history: Sequence[WatchEvent], profile_id: str) -> dict[str, set[str]]:
    """title id -> the other profiles that watched it."""
    out: dict[str, set[str]] = {}
    for ev in all_history:
        if ev.profile_id != profile_id:
            out.setdefault(ev.title_id, set()).add(ev.profile_id)
    return out


def similarity(seed: Title, other: Title, watchers: Mapping[str, set[str]]) -> float:
    cast = 0.2 if set(seed.cast) & set(other.cast) else 0.0
    a, b = watchers.get(seed.id, set()), watchers.get(other.id, set())
    co = len(a & b) / len(a) if a else 0.0
    return 0.6 * genre_similarity(seed, other) + cast + 0.3 * co + 0.1 * other.popularity


def more_like_this(catalog: Catalog, seed: Title, max_level: int, k: int = 10) -> list[Title]:
    """The title page's row: titles sharing genres or cast with ``seed`` (never ``seed`` itself),
    within the profile's maturity limit, varied by MMR so one genre does not fill the row."""
    related = [(t, similarity(seed, t, {})) for t in catalog.titles
               if t.id != seed.id and t.level <= max_level
               and (genre_similarity(seed, t) > 0 or set(seed.cast) & set(t.cast))]
    return mmr(related, k, lam=0.85, cap_share=0.6)


def trending_scores(all_history: Sequence[WatchEvent], now: float) -> dict[str, float]:
    per_title: dict[str, dict[str, float]] = {}
    for ev in all_history:
        age = (now - ev.watched_at) / DAY
        if 0 <= age <= TRENDING_WINDOW_DAYS:
            w = 1.0 - age / TRENDING_WINDOW_DAYS
            seen = per_title.setdefault(ev.title_id, {})
            seen[ev.profile_id] = max(seen.get(ev.profile_id, 0.0), w)
    raw = {tid: sum(ws.values()) for tid, ws in per_title.items()}
    top = max(raw.values(), default=0.0)
    return {tid: v / top for tid, v in raw.items()} if top > 0 else {}


def _added_ordinal(title: Title) -> int:
    try:
        return date.fromisoformat(title.added).toordinal()
    except ValueError:
        return 0


def build_rows(catalog: Catalog, profile: ProfileView, history: Sequence[WatchEvent],
               all_history: Sequence[WatchEvent], now: float, *, size: int = 10) -> Personalization:
    mine = [ev for ev in history if ev.profile_id == profile.id]
    affinity = genre_affinity(catalog, mine, profile.taste, now)
    allowed = [t for t in catalog.titles if t.level <= profile.max_level]
    latest = _latest_by_title(mine)
    finished_films = {tid for tid, ev in latest.items()
                      if ev.fraction >= WATCHED_FRACTION and catalog.by_id.get(tid, None) is not None
                      and catalog.by_id[tid].kind == "film"}
    rows: list[Row] = []

    cw = continue_watching(catalog, mine, profile.max_level, size)
    if cw:
        rows.append(Row("continue", f"Continue Watching for {profile.name}", "continue_watching", tuple(cw)))
    in_progress = {item.title_id for item in cw}
    fresh = [t for t in allowed if t.id not in finished_films and t.id not in in_progress]

    if affinity:
        relevance = [(t, _affinity_score(t, affinity) + 0.15 * t.popularity) for t in fresh]
        picks_title = f"Top Picks for {profile.name}"
    else:
        relevance = [(t, t.popularity) for t in fresh]
        picks_title = "Popular Picks to Start With"
    rows.append(Row("top_picks", picks_title, "top_picks", _items(mmr(relevance, size))))

    watchers = _cowatch(all_history, profile.id)
    seeds = sorted(latest.values(), key=lambda ev: -ev.watched_at)
    for ev in seeds[:2]:
        seed = catalog.title(ev.title_id)
        if seed is None or seed.level > profile.max_level:
            continue
        similar = [(t, similarity(seed, t, watchers)) for t in fresh if t.id != seed.id and t.id not in latest]
        chosen = mmr(similar, size, lam=0.8)
        if chosen:
            rows.append(Row(f"because:{seed.id}", f"Because you watched {seed.title}", "because_you_watched",
                            _items(chosen)))

    trend = trending_scores(all_history, now)
    trending = [(t, (0.6 * trend.get(t.id, 0.0) + 0.4 * t.popularity) * (1 + _affinity_score(t, affinity)))
                for t in allowed if t.id not in finished_films]
    rows.append(Row("trending", "Trending Now", "trending", _items(mmr(trending, size, lam=0.8))))

    ordinals = {t.id: _added_ordinal(t) for t in allowed}
    newest = sorted(allowed, key=lambda t: (-ordinals[t.id], t.id))[: size * 2]
    if newest:
        span = max(1, ordinals[newest[0].id] - ordinals[newest[-1].id])
        recency = [(t, (1 - (ordinals[newest[0].id] - ordinals[t.id]) / span) * (1 + 0.5 * _affinity_score(t, affinity)))
                   for t in newest]
        rows.append(Row("new", "New on Marquee", "new", _items(mmr(recency, size, lam=0.85))))

    variant = choose_artwork_variant(affinity, catalog.artwork_tags)
    return Personalization(rows=tuple(r for r in rows if r.items), affinity=affinity, artwork_variant=variant)


def _items(titles: Sequence[Title]) -> tuple[RowItem, ...]:
    return tuple(RowItem(t.id) for t in titles)


def resume_point(catalog: Catalog, history: Sequence[WatchEvent], title: Title) -> tuple[Episode | None, float]:
    """Where playback of ``title`` should start for this profile: (episode, position_s)."""
    ev = _latest_by_title(history).get(title.id)
    if title.kind == "film":
        if ev and START_FRACTION <= ev.fraction < WATCHED_FRACTION:
            return None, ev.position_s
        return None, 0.0
    first = title.episodes[0]
    if ev is None or ev.episode_id is None or catalog.episode(ev.episode_id) is None:
        return first, 0.0
    episode = catalog.episodes[ev.episode_id]
    if ev.fraction >= WATCHED_FRACTION:
        return catalog.next_episode(episode) or first, 0.0
    return episode, ev.position_s if ev.fraction >= START_FRACTION else 0.0
