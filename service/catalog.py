"""The catalogue model: ``assets/catalog.json`` and the built content's ``build.json``.

Pure: dicts in, immutable objects out. Loading from disk is a two-line helper at
the bottom. Validation errors raise ``ConfigError`` naming the offending field.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from marquee.errors import ConfigError
from service.strict import is_uint

# Maturity ratings mapped to a level; a profile may watch titles at or below its level.
MATURITY_LEVELS: Mapping[str, int] = {
    "G": 0, "TV-Y": 0, "TV-G": 0,
    "PG": 1, "TV-PG": 1,
    "PG-13": 2, "TV-14": 2,
    "R": 3, "TV-MA": 3, "NC-17": 3,
}


def maturity_level(rating: str) -> int:
    return MATURITY_LEVELS.get(rating.upper(), 3)


@dataclass(frozen=True)
class Episode:
    id: str
    title_id: str
    season: int
    number: int
    title: str
    synopsis: str
    media: str
    runtime_s: int


@dataclass(frozen=True)
class Title:
    id: str
    kind: str  # "film" | "series"
    title: str
    year: int
    genres: tuple[str, ...]
    maturity: str
    synopsis: str
    cast: tuple[str, ...]
    added: str  # YYYY-MM-DD
    popularity: float
    media: str | None = None  # films
    runtime_s: int = 0  # films
    episodes: tuple[Episode, ...] = ()  # series, in season/episode order

    @property
    def level(self) -> int:
        return maturity_level(self.maturity)

    def seasons(self) -> list[tuple[int, list[Episode]]]:
        out: dict[int, list[Episode]] = {}
        for ep in self.episodes:
            out.setdefault(ep.season, []).append(ep)
        return sorted(out.items())


@dataclass(frozen=True)
class Catalog:
    titles: tuple[Title, ...]
    artwork_tags: tuple[str, ...]
    by_id: Mapping[str, Title] = field(default_factory=dict)
    episodes: Mapping[str, Episode] = field(default_factory=dict)

    def title(self, title_id: str) -> Title | None:
        return self.by_id.get(title_id)

    def episode(self, episode_id: str) -> Episode | None:
        return self.episodes.get(episode_id)

    def next_episode(self, episode: Episode) -> Episode | None:
        title = self.by_id[episode.title_id]
        eps = list(title.episodes)
        i = eps.index(episode)
        return eps[i + 1] if i + 1 < len(eps) else None


def _req(obj: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise ConfigError(f"catalogue: {where} is missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, typ):
        raise ConfigError(f"catalogue: {where}.{key} has the wrong type ({type(value).__name__})")
    return value


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    if not isinstance(data, Mapping):
        raise ConfigError("catalogue: the top level must be an object")
    tags = tuple(str(t) for t in data.get("artwork_tags", ["default"]))
    raw_titles = _req(data, "titles", list, "catalogue")
    titles: list[Title] = []
    episodes: dict[str, Episode] = {}
    for i, raw in enumerate(raw_titles):
        where = f"titles[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"catalogue: {where} must be an object")
        tid = _req(raw, "id", str, where)
        where = f"title {tid}"
        kind = _req(raw, "kind", str, where)
        if kind not in ("film", "series"):
            raise ConfigError(f"catalogue: {where}.kind must be 'film' or 'series'")
        eps: list[Episode] = []
        if kind == "series":
            for s in _req(raw, "seasons", list, where):
                snum = int(_req(s, "number", int, f"{where}.season"))
                for e in _req(s, "episodes", list, f"{where}.season {snum}"):
                    ewhere = f"{where} s{snum} episode"
                    ep = Episode(
                        id=_req(e, "id", str, ewhere), title_id=tid, season=snum,
                        number=int(_req(e, "number", int, ewhere)), title=str(e.get("title", "")),
                        synopsis=str(e.get("synopsis", "")), media=_req(e, "media", str, ewhere),
                        runtime_s=int(e.get("runtime_s", 0)),
                    )
                    if ep.id in episodes:
                        raise ConfigError(f"catalogue: duplicate episode id {ep.id}")
                    episodes[ep.id] = ep
                    eps.append(ep)
            if not eps:
                raise ConfigError(f"catalogue: {where} is a series without episodes")
        title = Title(
            id=tid, kind=kind, title=_req(raw, "title", str, where), year=int(_req(raw, "year", int, where)),
            genres=tuple(_req(raw, "genres", list, where)), maturity=str(raw.get("maturity", "PG-13")),
            synopsis=str(raw.get("synopsis", "")), cast=tuple(raw.get("cast", [])),
            added=str(raw.get("added", "2000-01-01")), popularity=float(raw.get("popularity", 0.5)),
            media=_req(raw, "media", str, where) if kind == "film" else None,
            runtime_s=int(raw.get("runtime_s", 0)), episodes=tuple(eps),
        )
        titles.append(title)
    by_id = {t.id: t for t in titles}
    if len(by_id) != len(titles):
        raise ConfigError("catalogue: duplicate title ids")
    return Catalog(titles=tuple(titles), artwork_tags=tags, by_id=by_id, episodes=episodes)


ARTWORK_KINDS_BEFORE_HEROES = ("poster", "backdrop")  # what builds that recorded no kinds drew


@dataclass(frozen=True)
class BuildInfo:
    """What ``build.json`` says about the built content."""

    media: Mapping[str, Mapping[str, Any]]
    artwork_variants: int = 4
    quick: bool = False
    artwork_kinds: tuple[str, ...] = ARTWORK_KINDS_BEFORE_HEROES

    @property
    def media_ids(self) -> list[str]:
        return sorted(self.media, key=_media_sort_key)

    def resolve(self, media_id: str) -> str:
        """Map a catalogue media id to a built one, deterministically.

        A quick build has fewer masters than the catalogue references; ``m<k>`` then maps
        to ``media_ids[k % n]`` (other names by CRC32), so every title still plays.
        """
        if media_id in self.media:
            return media_id
        ids = self.media_ids
        if not ids:
            raise ConfigError("build.json lists no media")
        digits = media_id[1:] if media_id[:1] == "m" else ""
        index = int(digits) if is_uint(digits) else zlib.crc32(media_id.encode())
        return ids[index % len(ids)]


def _media_sort_key(mid: str) -> tuple[int, str]:
    digits = mid[1:]
    return (int(digits) if is_uint(digits) else 1 << 30, mid)


def parse_build(data: Mapping[str, Any]) -> BuildInfo:
    media = data.get("media")
    if not isinstance(media, Mapping) or not media:
        raise ConfigError("build.json: 'media' must be a non-empty object")
    kinds = data.get("artwork_kinds")
    return BuildInfo(media=dict(media), artwork_variants=int(data.get("artwork_variants", 4)),
                     quick=bool(data.get("quick", False)),
                     artwork_kinds=tuple(str(k) for k in kinds) if isinstance(kinds, list) else ARTWORK_KINDS_BEFORE_HEROES)


def load_catalog(path: Path) -> Catalog:
    try:
        return parse_catalog(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the catalogue {path}: {exc}") from exc


def load_build(content_dir: Path) -> BuildInfo | None:
    """The build description, or None when the content has not been built."""
    path = Path(content_dir) / "build.json"
    if not path.is_file():
        return None
    try:
        return parse_build(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def default_catalog_path() -> Path:
    import assets

    return Path(assets.__file__).resolve().parent / "catalog.json"


def titles_for_level(titles: Sequence[Title], level: int) -> list[Title]:
    return [t for t in titles if t.level <= level]


def with_playable_runtimes(catalog: Catalog, build: BuildInfo | None) -> Catalog:
    """The catalogue with every film's and episode's runtime set to the length of the
    media that actually plays for it (the demo shares a few short masters between many
    titles). Progress bars, resume points and the watched rule then agree with what the
    player can reach. Without a build the catalogue's own runtimes stay."""
    if build is None:
        return catalog

    def playable(media: str | None, fallback: int) -> int:
        if media is None:
            return fallback
        info = build.media.get(build.resolve(media), {})
        duration = info.get("duration_s") if isinstance(info, Mapping) else None
        return int(round(float(duration))) if duration else fallback

    titles: list[Title] = []
    episodes: dict[str, Episode] = {}
    for title in catalog.titles:
        eps = tuple(replace(ep, runtime_s=playable(ep.media, ep.runtime_s)) for ep in title.episodes)
        episodes.update((ep.id, ep) for ep in eps)
        titles.append(replace(title, runtime_s=playable(title.media, title.runtime_s), episodes=eps))
    return Catalog(titles=tuple(titles), artwork_tags=catalog.artwork_tags, by_id={t.id: t for t in titles},
                   episodes=episodes)
