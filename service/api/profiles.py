"""Profiles, personalized rows and watch history."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api.common import (ApiError, authenticate, field_number, field_str, json_body, own_profile,
                                profile_level, runtime, tile)
from service.catalog import MATURITY_LEVELS
from service.progress import ProgressUpdate
from service.rows import ProfileView, build_rows

COLORS = ("#e50914", "#1f80e0", "#f5c518", "#2ecc71", "#9b59b6", "#e67e22")


async def list_profiles(request: Request) -> JSONResponse:
    claims = authenticate(request)
    profiles = runtime(request).store.profiles(claims.account_id)
    return JSONResponse({"profiles": [p.to_json() for p in profiles]})


async def create_profile(request: Request) -> JSONResponse:
    claims = authenticate(request)
    body = await json_body(request)
    name = field_str(body, "name", max_len=40)
    maturity = field_str(body, "maturity", required=False, max_len=8) or "TV-MA"
    if maturity.upper() not in MATURITY_LEVELS:
        raise ApiError(400, "invalid_field", f"'maturity' must be one of {', '.join(MATURITY_LEVELS)}")
    rt = runtime(request)
    existing = rt.store.profiles(claims.account_id)
    if len(existing) >= 8:
        raise ApiError(409, "too_many_profiles", "an account has at most 8 profiles")
    color = field_str(body, "avatar_color", required=False, max_len=16) or COLORS[len(existing) % len(COLORS)]
    assert name is not None
    profile = rt.store.create_profile(claims.account_id, name, color, maturity.upper(), (), rt.clock.wall())
    return JSONResponse(profile.to_json(), status_code=201)


async def rows(request: Request) -> JSONResponse:
    profile = own_profile(request, request.path_params["pid"])
    rt = runtime(request)
    now = rt.clock.wall()
    everyone = rt.store.history(since=now - 30 * 86400)
    mine = rt.store.history(profile.id)
    view = ProfileView(profile.id, profile.name, profile_level(profile), profile.taste)
    result = build_rows(rt.catalog, view, mine, everyone, now)
    out = []
    for row in result.rows:
        items = []
        for item in row.items:
            title = rt.catalog.by_id[item.title_id]
            items.append(tile(request, title, result.artwork_variant, episode_id=item.episode_id,
                              progress=item.progress, position_s=item.position_s))
        out.append({"id": row.id, "title": row.title, "kind": row.kind, "items": items})
    return JSONResponse({"profile_id": profile.id, "artwork_variant": result.artwork_variant, "rows": out})


async def add_history(request: Request) -> JSONResponse:
    profile = own_profile(request, request.path_params["pid"])
    body = await json_body(request)
    rt = runtime(request)
    title_id = field_str(body, "title_id", max_len=64)
    episode_id = field_str(body, "episode_id", required=False, max_len=64)
    title = rt.catalog.title(title_id or "")
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {title_id!r}")
    if title.kind == "series":
        ep = rt.catalog.episode(episode_id or "")
        if ep is None or ep.title_id != title.id:
            raise ApiError(400 if episode_id is None else 404, "unknown_episode",
                           f"series {title.id} needs a valid 'episode_id'")
    elif episode_id is not None:
        raise ApiError(400, "invalid_field", f"{title.id} is a film; it has no episodes")
    position = field_number(body, "position_s", hi=1e6)
    duration = field_number(body, "duration_s", hi=1e6)
    if duration <= 0:
        raise ApiError(400, "invalid_field", "'duration_s' must be positive")
    # Through the resume-position merge (service/progress.py): a report without a sequence
    # number, timed by the service's clock on arrival.
    now = rt.clock.wall()
    update = ProgressUpdate(profile.id, title.id, episode_id, min(position, duration), duration, now,
                            authenticate(request).device_id, None, now, now, 0.0, "playing")
    rt.store.merge_progress(update)
    return JSONResponse({"ok": True, "profile_id": profile.id, "title_id": title.id, "episode_id": episode_id,
                         "progress": round(update.fraction, 4)}, status_code=201)


async def get_history(request: Request) -> JSONResponse:
    profile = own_profile(request, request.path_params["pid"])
    events = runtime(request).store.history(profile.id)
    return JSONResponse({"history": [{"title_id": e.title_id, "episode_id": e.episode_id, "position_s": e.position_s,
                                      "duration_s": e.duration_s, "watched_at": e.watched_at} for e in events]})


def routes() -> list[Route]:
    return [Route("/v1/profiles", list_profiles, methods=["GET"]),
            Route("/v1/profiles", create_profile, methods=["POST"]),
            Route("/v1/profiles/{pid}/rows", rows, methods=["GET"]),
            Route("/v1/profiles/{pid}/history", add_history, methods=["POST"]),
            Route("/v1/profiles/{pid}/history", get_history, methods=["GET"])]
