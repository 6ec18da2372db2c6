"""Validate ``assets/catalog.json`` beyond what the service's parser needs.

``check_catalog(data)`` returns a list of problems (empty: valid); each names the
title or episode and the field. Also runnable as ``marquee content check`` or
``python -m service.content.catalog_check [PATH]``.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from pathlib import Path
from typing import Any, Mapping

from marquee.errors import ConfigError

GENRES = frozenset({"Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
                    "Fantasy", "Horror", "Mystery", "Romance", "Sci-Fi", "Thriller"})
MATURITY = frozenset({"G", "PG", "PG-13", "R", "TV-Y", "TV-PG", "TV-14", "TV-MA", "TV-G"})
ARTWORK_TAGS = ("default", "action", "drama", "comedy")
MIN_TITLES = 60
MEDIA_COUNT = 4  # masters of the full build: m0..m3 (a quick build maps m<k> to m<k mod n>)

_TITLE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "kind": str, "title": str, "year": int, "genres": list, "maturity": str, "synopsis": str,
    "cast": list, "added": str, "popularity": (int, float),
}
_EPISODE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "number": int, "title": str, "synopsis": str, "media": str, "runtime_s": int,
}
_MEDIA_RE = re.compile(r"^m(\d+)$")


def _fields(obj: Any, spec: Mapping[str, type | tuple[type, ...]], where: str, problems: list[str]) -> bool:
    if not isinstance(obj, Mapping):
        problems.append(f"{where}: must be an object")
        return False
    ok = True
    for key, typ in spec.items():
        value = obj.get(key)
        if key not in obj:
            problems.append(f"{where}: missing {key!r}")
            ok = False
        elif isinstance(value, bool) or not isinstance(value, typ):
            problems.append(f"{where}.{key}: wrong type {type(value).__name__}")
            ok = False
        elif isinstance(value, (str, list)) and not value:
            problems.append(f"{where}.{key}: empty")
            ok = False
    return ok


def _media(value: str, where: str, problems: list[str], media_count: int) -> None:
    m = _MEDIA_RE.match(value)
    if not m or int(m.group(1)) >= media_count:
        problems.append(f"{where}.media: {value!r} is not one of m0..m{media_count - 1}")


def check_catalog(data: Any, *, min_titles: int = MIN_TITLES, media_count: int = MEDIA_COUNT) -> list[str]:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        return ["catalogue: the top level must be an object"]
    if list(data.get("artwork_tags", [])) != list(ARTWORK_TAGS):
        problems.append(f"catalogue.artwork_tags: must be {list(ARTWORK_TAGS)}")
    titles = data.get("titles")
    if not isinstance(titles, list):
        return problems + ["catalogue.titles: must be a list"]
    if len(titles) < min_titles:
        problems.append(f"catalogue.titles: {len(titles)} titles, at least {min_titles} wanted")
    ids: set[str] = set()
    kinds = {"film": 0, "series": 0}
    for i, t in enumerate(titles):
        where = f"titles[{i}]" + (f" ({t.get('id')})" if isinstance(t, Mapping) else "")
        if not _fields(t, _TITLE_FIELDS, where, problems):
            continue
        if t["id"] in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(t["id"])
        if t["kind"] not in kinds:
            problems.append(f"{where}.kind: {t['kind']!r} is not film or series")
            continue
        kinds[t["kind"]] += 1
        if not 1900 <= t["year"] <= 2100:
            problems.append(f"{where}.year: {t['year']} out of range")
        bad = [g for g in t["genres"] if g not in GENRES]
        if bad or len(set(t["genres"])) != len(t["genres"]):
            problems.append(f"{where}.genres: unknown or repeated {bad or t['genres']}")
        if t["maturity"] not in MATURITY:
            problems.append(f"{where}.maturity: {t['maturity']!r} unknown")
        if not all(isinstance(c, str) and c.strip() for c in t["cast"]):
            problems.append(f"{where}.cast: names must be non-empty strings")
        try:
            datetime.date.fromisoformat(t["added"])
        except ValueError:
            problems.append(f"{where}.added: {t['added']!r} is not YYYY-MM-DD")
        if not 0.0 <= float(t["popularity"]) <= 1.0:
            problems.append(f"{where}.popularity: must be within 0..1")
        if t["kind"] == "film":
            if _fields(t, {"media": str, "runtime_s": int}, where, problems):
                _media(t["media"], where, problems, media_count)
                if t["runtime_s"] <= 0:
                    problems.append(f"{where}.runtime_s: must be positive")
            continue
        seasons = t.get("seasons")
        if not isinstance(seasons, list) or not 1 <= len(seasons) <= 3:
            problems.append(f"{where}.seasons: a series needs 1 to 3 seasons")
            continue
        for s_index, season in enumerate(seasons, start=1):
            swhere = f"{where} season {s_index}"
            if not _fields(season, {"number": int, "episodes": list}, swhere, problems):
                continue
            if season["number"] != s_index:
                problems.append(f"{swhere}.number: expected {s_index}")
            if len(season["episodes"]) < 2:
                problems.append(f"{swhere}: needs several episodes")
            for e_index, ep in enumerate(season["episodes"], start=1):
                ewhere = f"{swhere} episode {e_index}"
                if not _fields(ep, _EPISODE_FIELDS, ewhere, problems):
                    continue
                if ep["id"] in ids:
                    problems.append(f"{ewhere}: duplicate id {ep['id']}")
                ids.add(ep["id"])
                if ep["number"] != e_index:
                    problems.append(f"{ewhere}.number: expected {e_index}")
                if not ep["id"].startswith(t["id"] + "-"):
                    problems.append(f"{ewhere}.id: {ep['id']!r} should start with {t['id']}-")
                _media(ep["media"], ewhere, problems, media_count)
                if ep["runtime_s"] <= 0:
                    problems.append(f"{ewhere}.runtime_s: must be positive")
    if titles and (not kinds["film"] or not kinds["series"]):
        problems.append("catalogue: needs both films and series")
    if not problems:  # the service's own parser must accept it too
        from service.catalog import parse_catalog

        try:
            parse_catalog(data)
        except ConfigError as exc:
            problems.append(exc.message)
    return problems


def default_path() -> Path:
    from service.catalog import default_catalog_path

    return default_catalog_path()


def check_file(path: Path) -> list[str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path}: cannot read: {exc}"]
    return [f"{path}: {p}" for p in check_catalog(data)]


if __name__ == "__main__":
    found = check_file(Path(sys.argv[1]) if len(sys.argv) > 1 else default_path())
    print("\n".join(found) or "catalogue: ok")
    sys.exit(1 if found else 0)
