"""Profiles, home rows, tiles and search: ``/v1/profiles``, ``/v1/profiles/{id}/rows``, ``/v1/search``."""

from __future__ import annotations

import msgspec


class Profile(msgspec.Struct, frozen=True):
    id: str
    name: str
    avatar_color: str = "#e50914"
    maturity: str = ""


class ProfileList(msgspec.Struct, frozen=True):
    profiles: tuple[Profile, ...]


class NewProfile(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /v1/profiles``."""

    name: str
    maturity: str | None = None


class Tile(msgspec.Struct, frozen=True):
    """One title on a row or in search results."""

    title_id: str
    title: str = ""
    kind: str = "film"
    year: int = 0
    genres: tuple[str, ...] = ()
    poster: str = ""
    backdrop: str = ""
    hero: str = ""  # the backdrop's picture without its lettering ("" from older services)
    episode_id: str | None = None
    progress: float | None = None  # 0..1 on Continue Watching
    maturity: str = ""
    synopsis: str = ""
    position_s: float | None = None

    @property
    def banner_art(self) -> str:
        """What to paint behind the app's own title text: the hero, else the backdrop."""
        return self.hero or self.backdrop


class Row(msgspec.Struct, frozen=True):
    id: str
    title: str
    kind: str = ""
    items: tuple[Tile, ...] = ()


class RowList(msgspec.Struct, frozen=True):
    rows: tuple[Row, ...]


class SearchResults(msgspec.Struct, frozen=True):
    results: tuple[Tile, ...]
