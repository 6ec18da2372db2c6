"""The demo account, created on first start: 4 profiles with different tastes and some history.

``plan_demo_history`` is pure (catalogue + now in, events out) so it is tested
without a database; ``ensure_demo`` writes it once.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from typing import Sequence

from service.catalog import Catalog, Title, maturity_level
from service.passwords import hash_password
from service.rows import DAY, WatchEvent
from service.store import Store

DEMO_EMAIL = "demo@marquee.test"
DEMO_PASSWORD = "marquee"


@dataclass(frozen=True)
class DemoProfile:
    name: str
    avatar_color: str
    maturity: str
    taste: tuple[str, ...]


DEMO_PROFILES = (
    DemoProfile("Alex", "#e50914", "TV-MA", ("Action", "Sci-Fi", "Thriller")),
    DemoProfile("Sam", "#1f80e0", "TV-MA", ("Drama", "Romance", "Documentary")),
    DemoProfile("Jo", "#f5c518", "TV-14", ("Comedy", "Animation")),
    DemoProfile("Kids", "#2ecc71", "TV-PG", ("Family", "Animation", "Comedy")),
)

# (days ago, watched fraction) for the profile's best-matching titles, in order.
_PATTERN = ((0.5, 0.42), (1.5, 1.0), (2.5, 1.0), (4.0, 0.65), (6.0, 1.0), (9.0, 0.15))


def _match(title: Title, taste: Sequence[str]) -> float:
    wanted = {t.lower() for t in taste}
    genres = [g.lower() for g in title.genres]
    hits = sum(1 for g in genres if g in wanted)
    first = 0.5 if genres and genres[0] in wanted else 0.0
    return hits + first + 0.1 * title.popularity


def plan_demo_history(catalog: Catalog, profile_id: str, demo: DemoProfile, now: float) -> list[WatchEvent]:
    level = maturity_level(demo.maturity)
    ranked = sorted((t for t in catalog.titles if t.level <= level), key=lambda t: (-_match(t, demo.taste), t.id))
    events: list[WatchEvent] = []
    for title, (days, fraction) in zip(ranked, _PATTERN):
        at = now - days * DAY
        if title.kind == "film":
            dur = float(title.runtime_s or 5400)
            events.append(WatchEvent(profile_id, title.id, None, round(dur * fraction, 1), dur, at))
        else:
            eps = title.episodes
            # Watched episode 1 to the end; the latest one to `fraction`.
            first = eps[0]
            dur = float(first.runtime_s or 1800)
            events.append(WatchEvent(profile_id, title.id, first.id, dur, dur, at - 3600))
            if len(eps) > 1 and fraction < 1.0:
                second = eps[1]
                dur2 = float(second.runtime_s or 1800)
                events.append(WatchEvent(profile_id, title.id, second.id, round(dur2 * fraction, 1), dur2, at))
    return events


@functools.cache
def _demo_hash() -> str:
    """The demo password (published in the README) hashed once per process, not per start."""
    return hash_password(DEMO_PASSWORD)


def ensure_demo(store: Store, catalog: Catalog, now: float) -> str:
    """Create the demo account once; returns its id."""
    existing = store.account_by_email(DEMO_EMAIL)
    if existing is not None:
        return existing.id
    account_id = store.create_account(DEMO_EMAIL, _demo_hash(), now)
    for demo in DEMO_PROFILES:
        profile = store.create_profile(account_id, demo.name, demo.avatar_color, demo.maturity, demo.taste, now)
        for ev in plan_demo_history(catalog, profile.id, demo, now):
            store.add_history(ev)
    return account_id
