"""What the app shows, as plain immutable values (no Qt, no HTTP).

Parsed from the reference service's JSON (docs/architecture.md, "Reference
service API"). Parsers are tolerant: a missing optional field gets a default, a
malformed document raises ServiceError with the field named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from marquee.errors import ServiceError


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    avatar_color: str = "#e50914"
    maturity: str = ""

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()


class _Art:
    """Artwork URLs a tile and a title both carry."""

    hero: str
    backdrop: str

    @property
    def banner_art(self) -> str:
        """What to paint behind the app's own title text: the hero, else the backdrop."""
        return self.hero or self.backdrop


@dataclass(frozen=True)
class Tile(_Art):
    title_id: str
    title: str
    kind: str = "film"
    year: int = 0
    genres: tuple[str, ...] = ()
    poster: str = ""
    backdrop: str = ""
    hero: str = ""  # the backdrop's picture without its lettering ("" from older services)
    episode_id: str | None = None
    progress: float | None = None  # 0..1 for Continue Watching
    maturity: str = ""
    synopsis: str = ""

    @property
    def subtitle(self) -> str:
        parts = [str(self.year) if self.year else "", "Series" if self.kind == "series" else "Film"]
        if self.genres:
            parts.append(" · ".join(self.genres[:2]))
        return "  ·  ".join(p for p in parts if p)


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    kind: str = ""
    items: tuple[Tile, ...] = ()


@dataclass(frozen=True)
class Episode:
    id: str
    number: int
    title: str
    synopsis: str = ""
    runtime_s: int = 0
    progress: float | None = None
    position_s: float = 0.0


@dataclass(frozen=True)
class Season:
    number: int
    episodes: tuple[Episode, ...] = ()


@dataclass(frozen=True)
class TitleDetail(_Art):
    id: str
    title: str
    kind: str = "film"
    year: int = 0
    genres: tuple[str, ...] = ()
    maturity: str = ""
    synopsis: str = ""
    cast: tuple[str, ...] = ()
    runtime_s: int = 0
    poster: str = ""
    backdrop: str = ""
    hero: str = ""
    seasons: tuple[Season, ...] = ()
    position_s: float = 0.0  # resume point for films
    progress: float | None = None
    in_my_list: bool = False
    resume_episode_id: str | None = None  # the service's resume point for this profile
    resume_position_s: float = 0.0
    more_like_this: tuple[Tile, ...] = ()  # the service's "More like this" row

    @property
    def is_series(self) -> bool:
        return self.kind == "series"

    def next_episode(self, episode_id: str) -> Episode | None:
        flat = [e for s in self.seasons for e in s.episodes]
        for i, ep in enumerate(flat):
            if ep.id == episode_id and i + 1 < len(flat):
                return flat[i + 1]
        return None

    def find_episode(self, episode_id: str) -> Episode | None:
        for s in self.seasons:
            for e in s.episodes:
                if e.id == episode_id:
                    return e
        return None


@dataclass(frozen=True)
class OcaInfo:
    id: str
    base_url: str
    rank: int = 0
    weight: float = 1.0
    name: str = ""


@dataclass(frozen=True)
class PlaybackInfo:
    playback_id: str
    title_id: str
    media_id: str
    dash_url: str
    hls_url: str
    episode_id: str | None = None
    manifests: Mapping[str, str] = field(default_factory=dict)
    ocas: tuple[OcaInfo, ...] = ()
    expires_at: float = 0.0


class CatalogSource(Protocol):
    """The service as the UI needs it. Calls block: the UI runs them on worker threads."""

    def profiles(self) -> list[Profile]: ...
    def rows(self, profile_id: str) -> list[Row]: ...
    def title(self, title_id: str, profile_id: str) -> TitleDetail: ...
    def search(self, query: str, profile_id: str) -> list[Tile]: ...
    def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo: ...
    def fetch_bytes(self, url: str) -> bytes: ...


# ---------------------------------------------------------------- parsing


def _req(doc: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return doc[key]
    except (KeyError, TypeError):
        raise ServiceError(f"{what}: missing field {key!r}",
                           user_message="The service sent a reply the app does not understand.") from None


def _progress(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # {"position_s", "duration_s"} or {"fraction"}
        if "fraction" in value:
            value = value["fraction"]
        else:
            dur = float(value.get("duration_s") or 0)
            value = float(value.get("position_s") or 0) / dur if dur > 0 else 0.0
    try:
        return max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return None


def parse_profile(doc: Mapping[str, Any]) -> Profile:
    return Profile(
        id=str(_req(doc, "id", "profile")),
        name=str(doc.get("name") or "Profile"),
        avatar_color=str(doc.get("avatar_color") or "#e50914"),
        maturity=str(doc.get("maturity") or ""),
    )


def parse_tile(doc: Mapping[str, Any]) -> Tile:
    title_id = doc.get("title_id") or doc.get("id")
    if not title_id:
        raise ServiceError("tile: missing field 'title_id'", user_message="The service sent a reply the app does not understand.")
    return Tile(
        title_id=str(title_id),
        title=str(doc.get("title") or ""),
        kind=str(doc.get("kind") or "film"),
        year=int(doc.get("year") or 0),
        genres=tuple(str(g) for g in doc.get("genres") or ()),
        poster=str(doc.get("poster") or ""),
        backdrop=str(doc.get("backdrop") or ""),
        hero=str(doc.get("hero") or ""),
        episode_id=(str(doc["episode_id"]) if doc.get("episode_id") else None),
        progress=_progress(doc.get("progress")),
        maturity=str(doc.get("maturity") or ""),
        synopsis=str(doc.get("synopsis") or ""),
    )


def parse_rows(doc: Mapping[str, Any]) -> list[Row]:
    rows = []
    for r in _req(doc, "rows", "rows") or ():
        items = tuple(parse_tile(t) for t in r.get("items") or ())
        if items:
            rows.append(Row(id=str(r.get("id") or r.get("title")), title=str(r.get("title") or ""),
                            kind=str(r.get("kind") or ""), items=items))
    return rows


def _artwork(doc: Mapping[str, Any], kind: str) -> str:
    if doc.get(kind):
        return str(doc[kind])
    art = doc.get("artwork")
    if isinstance(art, Mapping):
        val = art.get(kind) or art.get(kind + "s")
        if isinstance(val, Sequence) and not isinstance(val, str):
            return str(val[0]) if val else ""
        return str(val or "")
    return ""


def parse_title(doc: Mapping[str, Any]) -> TitleDetail:
    seasons: list[Season] = []
    for s in doc.get("seasons") or ():
        eps = tuple(
            Episode(
                id=str(_req(e, "id", "episode")),
                number=int(e.get("number") or 0),
                title=str(e.get("title") or ""),
                synopsis=str(e.get("synopsis") or ""),
                runtime_s=int(e.get("runtime_s") or 0),
                progress=_progress(e.get("progress")),
                position_s=float(e.get("position_s") or
                                 (_progress(e.get("progress")) or 0.0) * int(e.get("runtime_s") or 0)),
            )
            for e in s.get("episodes") or ()
        )
        seasons.append(Season(number=int(s.get("number") or len(seasons) + 1), episodes=eps))
    raw_resume = doc.get("resume")
    resume: Mapping[str, Any] = raw_resume if isinstance(raw_resume, Mapping) else {}
    film_progress = _progress(doc.get("progress"))
    position = float(doc.get("position_s") or resume.get("position_s") or 0.0)
    if not position and film_progress and doc.get("runtime_s"):
        position = film_progress * int(doc["runtime_s"])
    return TitleDetail(
        id=str(_req(doc, "id", "title")),
        title=str(doc.get("title") or ""),
        kind=str(doc.get("kind") or "film"),
        year=int(doc.get("year") or 0),
        genres=tuple(str(g) for g in doc.get("genres") or ()),
        maturity=str(doc.get("maturity") or ""),
        synopsis=str(doc.get("synopsis") or ""),
        cast=tuple(str(c) for c in doc.get("cast") or ()),
        runtime_s=int(doc.get("runtime_s") or 0),
        poster=_artwork(doc, "poster"),
        backdrop=_artwork(doc, "backdrop"),
        hero=_artwork(doc, "hero"),
        seasons=tuple(seasons),
        position_s=position,
        progress=film_progress,
        in_my_list=bool(doc.get("in_my_list") or False),
        resume_episode_id=(str(resume["episode_id"]) if resume.get("episode_id") else None),
        resume_position_s=float(resume.get("position_s") or 0.0),
        more_like_this=tuple(parse_tile(t) for t in doc.get("more_like_this") or () if isinstance(t, Mapping)),
    )


def parse_playback(doc: Mapping[str, Any]) -> PlaybackInfo:
    ocas = tuple(
        OcaInfo(id=str(_req(o, "id", "oca")), base_url=str(_req(o, "base_url", "oca")), rank=int(o.get("rank") or 0),
                weight=float(o.get("weight") or 1.0), name=str(o.get("name") or ""))
        for o in doc.get("ocas") or ()
    )
    return PlaybackInfo(
        playback_id=str(doc.get("playback_id") or ""),
        title_id=str(_req(doc, "title_id", "playback")),
        media_id=str(doc.get("media_id") or ""),
        dash_url=str(doc.get("dash_url") or ""),
        hls_url=str(doc.get("hls_url") or ""),
        episode_id=(str(doc["episode_id"]) if doc.get("episode_id") else None),
        manifests=dict(doc.get("manifests") or {}),
        ocas=ocas,
        expires_at=float(doc.get("expires_at") or 0.0) if not isinstance(doc.get("expires_at"), str) else 0.0,
    )


def format_clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_runtime(seconds: int) -> str:
    """"1 h 32 min", "45 min"; seconds under a minute (the quick demo's titles last 16 s)."""
    if 0 < seconds < 60:
        return f"{seconds} s"
    minutes = max(0, round(seconds / 60))
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h else f"{m} min"
