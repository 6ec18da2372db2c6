"""Resume-position sync: ``POST/GET /v1/profiles/{pid}/progress`` and ``GET /v1/time``.

The merge rule and the clock-skew handling are in ``service/progress.py``; the device
id comes from the access token (a client cannot report for another device).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api.common import ApiError, authenticate, field_number, field_str, json_body, own_profile, runtime
from service.catalog import Catalog
from service.progress import ProgressUpdate, corrected_time
from service.runtime import Runtime

MAX_REPORTS = 500
STATES = ("playing", "paused", "stopped", "ended", "seek")


def check_content(catalog: Catalog, title_id: str | None, episode_id: str | None) -> str:
    """Validate a (title, episode) pair like the history API does; returns the title id."""
    title = catalog.title(title_id or "")
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {title_id!r}")
    if title.kind == "series":
        ep = catalog.episode(episode_id or "")
        if ep is None or ep.title_id != title.id:
            raise ApiError(400 if episode_id is None else 404, "unknown_episode",
                           f"series {title.id} needs a valid 'episode_id'")
    elif episode_id is not None:
        raise ApiError(400, "invalid_field", f"{title.id} is a film; it has no episodes")
    return title.id


def _optional_number(body: Mapping[str, Any], key: str) -> float | None:
    if body.get(key) is None:
        return None
    return field_number(body, key, lo=-1e12, hi=1e12)


def parse_report(rt: Runtime, profile_id: str, device_id: str, raw: Any, sent_at: float | None,
                 received_at: float) -> ProgressUpdate:
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_field", "each report must be an object")
    title_id = check_content(rt.catalog, field_str(raw, "title_id", max_len=64),
                             field_str(raw, "episode_id", required=False, max_len=64))
    duration = field_number(raw, "duration_s", hi=1e6)
    if duration <= 0:
        raise ApiError(400, "invalid_field", "'duration_s' must be positive")
    position = min(field_number(raw, "position_s", hi=1e6), duration)
    client_time = field_number(raw, "client_time", lo=0.0, hi=1e11)
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**62:
        raise ApiError(400, "invalid_field", "'seq' must be a non-negative integer")
    state = raw.get("state", "playing")
    if state not in STATES:
        raise ApiError(400, "invalid_field", f"'state' must be one of {', '.join(STATES)}")
    offset = _optional_number(raw, "offset_s")
    event_time, offset_used = corrected_time(client_time, offset, sent_at, received_at)
    return ProgressUpdate(profile_id, title_id, raw.get("episode_id"), position, duration, event_time, device_id,
                          seq, received_at, client_time, offset_used, state, bool(raw.get("credits", False)))


async def post_progress(request: Request) -> JSONResponse:
    profile = own_profile(request, request.path_params["pid"])
    device_id = authenticate(request).device_id
    body = await json_body(request)
    rt = runtime(request)
    received_at = rt.clock.wall()
    reports = body.get("reports")
    if not isinstance(reports, list) or not reports:
        raise ApiError(400, "invalid_field", "'reports' must be a non-empty list")
    if len(reports) > MAX_REPORTS:
        raise ApiError(413, "too_many_reports", f"send at most {MAX_REPORTS} reports per request")
    sent_at = _optional_number(body, "sent_at")
    updates = [parse_report(rt, profile.id, device_id, raw, sent_at, received_at) for raw in reports]
    results = []
    for update in updates:  # in the order sent: a device's queue is flushed oldest first
        verdict, kept = rt.store.merge_progress(update)
        results.append({"seq": update.seq, "verdict": verdict, "accepted": verdict in ("first", "newer"),
                        "event_time": round(update.event_time, 3), "current": kept.to_json()})
    return JSONResponse({"server_time": rt.clock.wall(), "received_at": received_at, "results": results})


async def get_progress(request: Request) -> JSONResponse:
    profile = own_profile(request, request.path_params["pid"])
    rt = runtime(request)
    title_id = request.query_params.get("title_id") or None
    return JSONResponse({"server_time": rt.clock.wall(),
                         "progress": [p.to_json() for p in rt.store.progress(profile.id, title_id)]})


async def server_time(request: Request) -> JSONResponse:
    now = runtime(request).clock.wall()
    assert math.isfinite(now)
    return JSONResponse({"server_time": now})


def routes() -> list[Route]:
    return [Route("/v1/time", server_time, methods=["GET"]),
            Route("/v1/profiles/{pid}/progress", post_progress, methods=["POST"]),
            Route("/v1/profiles/{pid}/progress", get_progress, methods=["GET"])]
