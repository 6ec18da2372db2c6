"""What the app shows, as plain immutable values (no Qt, no HTTP).

Profiles, tiles, rows and playback are the wire contract's types (``contract``);
the title page's view model is the UI's own. Parsers are tolerant of older or
sparser documents (a null or missing optional field gets its default, ``id`` for
``title_id``, progress as a fraction or a position), then validate against the
contract: a malformed document raises ServiceError with the field named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, TypeVar

from contract import ContractError, decode
from contract.catalog import Profile, Row, Tile
from contract.playback import Oca, Playback
from marquee.errors import ServiceError

# The wire types are the contract's (``contract``); the UI's own names for them.
OcaInfo = Oca
PlaybackInfo = Playback
__all__ = ["OcaInfo", "PlaybackInfo", "Profile", "Row", "Tile"]
T = TypeVar("T")


def initial(profile: Profile) -> str:
    """The letter on a profile's avatar."""
    return (profile.name[:1] or "?").upper()


def tile_subtitle(tile: Tile) -> str:
    """"2019  ·  Film  ·  Drama · Comedy" under a tile."""
    parts = [str(tile.year) if tile.year else "", "Series" if tile.kind == "series" else "Film"]
    if tile.genres:
        parts.append(" · ".join(tile.genres[:2]))
    return "  ·  ".join(p for p in parts if p)


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
class TitleDetail:
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
    def banner_art(self) -> str:
        """What to paint behind the app's own title text: the hero, else the backdrop."""
        return self.hero or self.backdrop

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


def _contract(doc: Any, kind: type[T]) -> T:
    try:
        return decode(doc, kind)
    except ContractError as exc:
        raise ServiceError(str(exc), user_message="The service sent a reply the app does not understand.") from None


def _present(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` without its null fields: a null optional field means its default."""
    return {k: v for k, v in doc.items() if v is not None}


def parse_profile(doc: Mapping[str, Any]) -> Profile:
    _req(doc, "id", "profile")
    return _contract({"name": "Profile", **_present(doc)}, Profile)


def parse_tile(doc: Mapping[str, Any]) -> Tile:
    if not isinstance(doc, Mapping) or not (doc.get("title_id") or doc.get("id")):
        raise ServiceError("tile: missing field 'title_id'", user_message="The service sent a reply the app does not understand.")
    fields = {k: v for k, v in _present(doc).items() if k in Tile.__struct_fields__}
    fields["title_id"] = str(doc.get("title_id") or doc.get("id"))
    fields["progress"] = _progress(doc.get("progress"))
    return _contract(fields, Tile)


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
    _req(doc, "title_id", "playback")
    return _contract(_present(doc), Playback)


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
