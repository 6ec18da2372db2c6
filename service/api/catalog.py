"""Catalogue, title details, search and artwork (public; ``profile_id`` personalizes and needs auth)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from service.api.common import ApiError, artwork_urls, optional_profile, profile_level, runtime, tile
from service.catalog import Title
from service.rows import choose_artwork_variant, genre_affinity, more_like_this, resume_point
from service.search import search as search_titles
from service.strict import ParseError, parse_uint

ARTWORK = re.compile(r"^(poster|backdrop|hero)-([0-9]{1,2})\.jpg$")


def catalog_json(title: Title) -> dict[str, Any]:
    return {"id": title.id, "title": title.title, "kind": title.kind, "year": title.year,
            "genres": list(title.genres), "maturity": title.maturity,
            "episodes": [ep.id for ep in title.episodes]}


async def get_catalog(request: Request) -> JSONResponse:
    return JSONResponse({"titles": [catalog_json(t) for t in runtime(request).catalog.titles]})


def _variant(request: Request, profile_id: str | None) -> int:
    if not profile_id:
        return 0
    rt = runtime(request)
    profile = rt.store.profile(profile_id)
    if profile is None:
        return 0
    now = rt.clock.wall()
    affinity = genre_affinity(rt.catalog, rt.store.history(profile.id), profile.taste, now)
    return choose_artwork_variant(affinity, rt.catalog.artwork_tags)


async def get_title(request: Request) -> JSONResponse:
    rt = runtime(request)
    profile = optional_profile(request)
    title = rt.catalog.title(request.path_params["title_id"])
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {request.path_params['title_id']!r}")
    if title.level > profile_level(profile):
        raise ApiError(403, "maturity_restricted", f"{title.title} is rated {title.maturity}, above this profile's limit")
    variant = _variant(request, profile.id if profile else None)
    variants = rt.build.artwork_variants if rt.build else len(rt.catalog.artwork_tags)
    out: dict[str, Any] = {
        "id": title.id, "kind": title.kind, "title": title.title, "year": title.year, "genres": list(title.genres),
        "maturity": title.maturity, "synopsis": title.synopsis, "cast": list(title.cast), "added": title.added,
        "popularity": title.popularity, "artwork_variant": variant, **artwork_urls(request, title.id, variant),
        "artwork": [{"variant": v, "tag": rt.catalog.artwork_tags[v] if v < len(rt.catalog.artwork_tags) else None,
                     **artwork_urls(request, title.id, v)} for v in range(variants)],
    }
    out["more_like_this"] = [tile(request, t, variant) for t in more_like_this(rt.catalog, title, profile_level(profile))]
    history = rt.store.history(profile.id) if profile else []
    progress = {}
    for ev in history:
        if ev.title_id == title.id:
            progress[ev.episode_id] = round(ev.fraction, 4)
    if title.kind == "film":
        out.update(runtime_s=title.runtime_s)
        if profile:
            out["progress"] = progress.get(None)
    else:
        out["seasons"] = [{"number": num, "episodes": [
            {"id": ep.id, "number": ep.number, "title": ep.title, "synopsis": ep.synopsis, "runtime_s": ep.runtime_s,
             **({"progress": progress[ep.id]} if ep.id in progress else {})} for ep in eps]}
            for num, eps in title.seasons()]
    if profile:
        episode, position = resume_point(rt.catalog, history, title)
        out["resume"] = {"episode_id": episode.id if episode else None, "position_s": position}
    return JSONResponse(out)


async def search(request: Request) -> JSONResponse:
    rt = runtime(request)
    query = request.query_params.get("q", "")
    if len(query) > 200:
        raise ApiError(400, "invalid_query", "the query is longer than 200 characters")
    try:
        limit = parse_uint(request.query_params.get("limit", "20"), max_digits=6, what="'limit'")
    except ParseError:
        raise ApiError(400, "invalid_query", "'limit' must be an integer") from None
    profile = optional_profile(request)
    level = profile_level(profile)
    variant = _variant(request, profile.id if profile else None)
    allowed = [t for t in rt.catalog.titles if t.level <= level]
    hits = search_titles(allowed, query, limit=max(1, min(limit, 100)))
    return JSONResponse({"query": query, "results": [tile(request, h.title, variant, score=round(h.score, 3))
                                                     for h in hits]})


async def artwork(request: Request) -> Response:
    rt = runtime(request)
    title_id = request.path_params["title_id"]
    match = ARTWORK.match(request.path_params["name"])
    if rt.catalog.title(title_id) is None or match is None:
        raise ApiError(404, "not_found", "no such artwork")
    path = rt.artwork_root / title_id / match.group(0)
    if not path.is_file():
        raise ApiError(404, "not_found", "this artwork has not been built; run `marquee content build`")
    return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "public, max-age=86400"})


def routes() -> list[Route]:
    return [Route("/v1/catalog", get_catalog, methods=["GET"]),
            Route("/v1/titles/{title_id}", get_title, methods=["GET"]),
            Route("/v1/search", search, methods=["GET"]),
            Route("/artwork/{title_id}/{name}", artwork, methods=["GET", "HEAD"])]
