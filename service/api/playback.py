"""``POST /v1/playback``: manifests on the top OCA and a ranked list of OCAs with signed URLs."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from contract import to_builtins
from contract.playback import Oca, Playback
from service.api.common import ApiError, authenticate, field_str, json_body, own_profile, profile_level, runtime
from service.ranking import rank_ocas
from service.rows import resume_point
from service.tokens import sign_oca_token

MANIFESTS = {"dash": "manifest.mpd", "hls": "master.m3u8"}


async def start_playback(request: Request) -> JSONResponse:
    body = await json_body(request)
    profile_id = field_str(body, "profile_id", max_len=64)
    profile = own_profile(request, profile_id)
    rt = runtime(request)
    title_id = field_str(body, "title_id", max_len=64)
    episode_id = field_str(body, "episode_id", required=False, max_len=64)
    title = rt.catalog.title(title_id or "")
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {title_id!r}")
    if title.level > profile_level(profile):
        raise ApiError(403, "maturity_restricted", f"{title.title} is rated {title.maturity}, above this profile's limit")
    start_s = 0.0
    if title.kind == "series":
        if episode_id is None:
            episode, start_s = resume_point(rt.catalog, rt.store.history(profile.id), title)
            assert episode is not None
        else:
            episode = rt.catalog.episode(episode_id)
            if episode is None or episode.title_id != title.id:
                raise ApiError(404, "unknown_episode", f"{title.id} has no episode {episode_id!r}")
        media = episode.media
        episode_id = episode.id
    else:
        if episode_id is not None:
            raise ApiError(400, "invalid_field", f"{title.id} is a film; it has no episodes")
        _, start_s = resume_point(rt.catalog, rt.store.history(profile.id), title)
        assert title.media is not None
        media = title.media
    if rt.build is None:
        raise ApiError(503, "content_missing", "the demo content is not built; run `marquee content build`")
    if not rt.ocas:
        raise ApiError(503, "no_ocas", "this service runs without OCAs")
    media_id = rt.build.resolve(media)
    device_id = authenticate(request).device_id
    expires_at = int(rt.clock.wall() + rt.config.playback_token_ttl_s)
    token = sign_oca_token(rt.secret, media_id, device_id, expires_at)
    host = rt.config.url_host  # never the request's Host header: it would go into signed URLs
    ocas: list[Oca] = []
    for ranked in rank_ocas([o.state() for o in rt.ocas]):
        node = rt.oca(ranked.id)
        assert node is not None
        ocas.append(Oca(id=node.id, name=node.name, rank=ranked.rank, weight=node.weight, score=ranked.score,
                        base_url=f"{node.scheme}://{host}:{node.port}/c/{token}/{media_id}/"))
    top = ocas[0].base_url
    return JSONResponse(to_builtins(Playback(
        playback_id=uuid.uuid4().hex, profile_id=profile.id, title_id=title.id, episode_id=episode_id,
        media_id=media_id, expires_at=expires_at, start_position_s=start_s, manifests=dict(MANIFESTS),
        dash_url=top + MANIFESTS["dash"], hls_url=top + MANIFESTS["hls"], ocas=tuple(ocas),
    )))


def routes() -> list[Route]:
    return [Route("/v1/playback", start_playback, methods=["POST"])]
