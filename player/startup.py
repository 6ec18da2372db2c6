"""Startup: from a ``PlayRequest`` to a parsed presentation and a fetcher for its OCAs.

The manifest is raced across the OCAs with hedged requests (the first good answer wins
and measures that OCA's latency); the other OCAs are probed once playback runs, so a
later failover goes to one known to answer. mpv is opened before any of this (by the
session), so its start-up overlaps ours.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Callable

import httpx

from marquee.clock import Clock
from marquee.errors import ManifestError, MediaError, NetworkError
from player import net
from player.control import PlayRequest
from player.events import PlayerEvent
from player.fetch import Fetcher, OcaPool
from player.manifest.loader import load_manifest
from player.manifest.protection import refusal
from player.manifest.model import Presentation, Representation
from player.oca.ranking import OcaRanker, OcaStats
from player.oca.store import origin_of
from player.shaping import LinkSchedule, TraceShaper, resolve_throttle

log = logging.getLogger("marquee.session")


@dataclass(frozen=True)
class Origins:
    """Where the segments come from: base URL and display name per OCA, best first."""

    bases: dict[str, str]
    names: dict[str, str]
    order: list[str]
    winner: tuple[str, float] | None = None  # (OCA, seconds) that answered the manifest first


async def load(client: httpx.AsyncClient, request: PlayRequest, clock: Clock,
               hedge_after_s: float) -> tuple[Presentation, Origins]:
    if request.ocas:
        bases = {o.id: o.base_url for o in request.ocas}
        names = {o.id: o.name or o.id for o in request.ocas}
        order = [o.id for o in sorted(request.ocas, key=lambda o: o.rank)]
        presentation, winner = await race_manifest(client, order, bases, request.manifest_path or "manifest.mpd",
                                                   clock, hedge_after_s)
        origins = Origins(bases, names, order, winner)
    else:
        token = net.following_user_url(True)  # the user's own URL may redirect anywhere (then trusted)
        try:
            presentation = await load_manifest(client, request.manifest_url)
        except NetworkError as exc:
            said = exc.user_message if exc.code == "manifest_timeout" else "The stream could not be reached."
            raise NetworkError(exc.message, user_message=said, code=exc.code) from exc
        finally:
            net.stop_following_user_url(token)
        ordered = sorted(presentation.base_urls or (), key=lambda b: (b.priority, -b.weight))
        label = request.source_name or "origin"
        bases = {(b.service_location or (label if len(ordered) == 1 else f"{label}-{i + 1}")): b.url
                 for i, b in enumerate(ordered)}
        if not bases:
            bases = {label: request.manifest_url.rsplit("/", 1)[0] + "/"}
        origins = Origins(bases, {k: k for k in bases}, list(bases))
    check_playable(presentation)
    return presentation, origins


def check_playable(presentation: Presentation) -> None:
    """Refuse, in plain words, what the engine cannot play yet rather than play it wrong and
    report success: live, encrypted, and several periods (it would play the first one only)."""
    if presentation.is_live:
        raise ManifestError(
            "live streams are not supported yet",
            user_message="This is a live stream; Marquee plays on-demand titles only for now.",
        )
    systems = [name for period in presentation.periods for track in period.tracks
               for rep in track.representations if rep.encrypted for name in (rep.protection or ("CENC",))]
    if systems:
        raise MediaError(f"encrypted stream ({', '.join(dict.fromkeys(systems))})", code="encrypted",
                         user_message=refusal(systems))
    if len(presentation.periods) > 1:
        raise ManifestError(
            f"{len(presentation.periods)} periods: only single-period presentations are supported yet",
            user_message=f"This stream is made of {len(presentation.periods)} parts (periods); Marquee plays "
                         "streams of one part only for now.",
        )


async def race_manifest(client: httpx.AsyncClient, order: list[str], bases: dict[str, str], path: str,
                        clock: Clock, hedge_after_s: float) -> tuple[Presentation, tuple[str, float]]:
    """Hedged requests: ask the first OCA for the manifest; if it has not answered within
    ``hedge_after_s`` (or failed), ask the next one too, and so on; the first good answer
    wins. A dead or slow OCA costs at most the hedge delay, and a healthy start costs one
    request, not one per OCA (CPU the first segment needs on a busy machine)."""
    started = clock.monotonic()
    errors: list[str] = []

    async def one(oca: str) -> tuple[str, Presentation]:
        return oca, await load_manifest(client, bases[oca] + path)

    waiting = list(order)
    pending: dict[asyncio.Task[tuple[str, Presentation]], str] = {}
    try:
        while waiting or pending:
            if waiting:
                oca = waiting.pop(0)
                pending[asyncio.create_task(one(oca))] = oca
            hedge = asyncio.ensure_future(clock.sleep(hedge_after_s)) if waiting else None
            try:
                done, _ = await asyncio.wait([*pending, *([hedge] if hedge else [])],
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                if hedge is not None:
                    hedge.cancel()
            for task in done:
                if task is hedge:
                    continue
                oca = pending.pop(task)  # type: ignore[arg-type]
                try:
                    winner, presentation = task.result()  # type: ignore[misc]
                except ManifestError:
                    raise  # the same bytes on every OCA: a broken manifest is not a network fault
                except NetworkError as exc:
                    log.warning("manifest from %s failed: %s", oca, exc.message)
                    errors.append(f"{oca}: {exc.message}")
                    continue
                return presentation, (winner, clock.monotonic() - started)
    finally:
        for task in pending:
            task.cancel()
    raise NetworkError(
        "no OCA served the manifest: " + "; ".join(errors),
        user_message="None of the servers could deliver this title. Check your connection and retry.",
    )


def make_fetcher(client: httpx.AsyncClient, request: PlayRequest, origins: Origins, clock: Clock,
                 emit: Callable[[PlayerEvent], None], history: dict[str, OcaStats], rng: random.Random,
                 session_t0: float) -> Fetcher:
    known = {k: history[origin_of(b)] for k, b in origins.bases.items() if origin_of(b) in history}
    ranker = OcaRanker(origins.order, history=known)
    if origins.winner is not None:
        oca, seconds = origins.winner
        ranker.record_success(oca, 0, seconds, seconds, clock.monotonic())
    shaper = TraceShaper(LinkSchedule(resolve_throttle(request.throttle)), clock) if request.throttle else None
    refresh = None
    if request.refresh is not None:
        ask = request.refresh

        async def refresh_tokens() -> dict[str, str]:
            fresh = await asyncio.get_running_loop().run_in_executor(None, ask)
            return {o.id: o.base_url for o in fresh.ocas}

        refresh = refresh_tokens
    return Fetcher(client, OcaPool(origins.bases, origins.names), ranker, clock, emit, rng=rng, shaper=shaper,
                   refresh=refresh, session_t0=session_t0, extra_headers=request.extra_headers,
                   extra_query=request.extra_query)


async def probe_ocas(client: httpx.AsyncClient, fetcher: Fetcher, lowest: Representation,
                     winner: tuple[str, float] | None, clock: Clock, budget_s: float) -> None:
    """Measure the other top candidates in parallel within a small budget, so a failover
    later goes to an OCA known to answer rather than just the next one listed."""
    ranker = fetcher.ranker
    candidates = [c for c in list(ranker.candidates)[:4] if not winner or c != winner[0]]
    if len(candidates) < 1 or len(ranker.candidates) < 2:
        return
    target = lowest.init or (lowest.segments[0] if lowest.segments else None)
    if target is None:
        return

    async def probe(oca: str) -> None:
        start = clock.monotonic()
        try:
            url = fetcher.pool.url(oca, target.url)
            response = await client.get(url, headers={"Range": "bytes=0-16383"}, timeout=budget_s)
            if response.status_code >= 500 or response.status_code in (404, 410):
                raise httpx.HTTPStatusError("probe", request=response.request, response=response)
            elapsed = clock.monotonic() - start
            ranker.record_success(oca, len(response.content), elapsed, elapsed, clock.monotonic())
        except httpx.HTTPError as exc:
            ranker.record_failure(oca, f"probe failed: {type(exc).__name__}", clock.monotonic())

    await asyncio.gather(*(probe(o) for o in candidates))
