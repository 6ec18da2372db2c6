"""One playback in virtual time: the real session, pipeline, fetcher and remuxer, fake OCAs
(``MockTransport``) and the fake mpv, all on one ``FakeClock``.

A scenario is a coroutine run beside the playback (``at``/``until`` wait on the clock),
so "kill the serving OCA at 3 s" is exact and costs no wall time.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import replace
from typing import Any, Awaitable, Callable

import httpx

from marquee.clock import FakeClock
from player.control import OcaCandidate, PlayRequest
from player.events import PlaybackSnapshot, PlaybackSummary, PlayerEvent
from player.mpv_fake import FakeMpvPlayer
from player.session import PlaybackSession, SessionSettings
from tests.player.fake_ocas import FakeOcas

Script = Callable[["VirtualRun"], Awaitable[None]]


class VirtualRun:
    def __init__(self, root: Any, *, settings: SessionSettings | None = None, ocas: int = 3,
                 **request_options: Any) -> None:
        self.clock = FakeClock(start_monotonic=0.0)
        self.ocas = FakeOcas(root, self.clock, names=tuple(f"oca-{i + 1}" for i in range(ocas)))
        self.settings = replace(settings or SessionSettings(max_buffer_s=4.0), remux_in_worker=False)
        self.request_options = request_options
        self.events: list[PlayerEvent] = []
        self.snapshots: list[PlaybackSnapshot] = []
        self.mpv_errors: list[str] = []
        self.sizes: list[tuple[float, tuple[int, int]]] = []  # (position, size) as mpv showed them
        self.session: PlaybackSession | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ queries
    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]

    @property
    def snap(self) -> PlaybackSnapshot:
        assert self.session is not None
        return self.session.snap

    def request(self) -> PlayRequest:
        bases = self.ocas.bases()
        ocas = tuple(OcaCandidate(name, url, rank=i) for i, (name, url) in enumerate(bases.items()))

        def refresh() -> PlayRequest:
            fresh = self.ocas.fresh_bases()
            return replace(request, ocas=tuple(OcaCandidate(o.id, fresh[o.id], rank=o.rank) for o in ocas))

        request = PlayRequest(bases["oca-1"] + "manifest.mpd", title="virtual", ocas=ocas,
                              manifest_path="manifest.mpd", refresh=refresh, **self.request_options)
        return request

    # ------------------------------------------------------------ scripts
    async def at(self, t: float) -> None:
        await self.clock.sleep(t - self.clock.monotonic())

    async def until(self, done: Callable[[], bool], step: float = 0.05) -> None:
        while not done():
            await self.clock.sleep(step)

    async def until_position(self, seconds: float) -> None:
        await self.until(lambda: self.snap.position_s >= seconds and bool(self.snap.oca))

    def serving_oca(self) -> str:
        return self.snap.oca

    # --------------------------------------------------------------- run
    def play(self, script: Script | None = None, *, limit_s: float = 300.0) -> PlaybackSummary:
        return asyncio.run(self._play(script, limit_s))

    async def _play(self, script: Script | None, limit_s: float) -> PlaybackSummary:
        loop = asyncio.get_running_loop()
        client = httpx.AsyncClient(transport=self.ocas.transport())
        holder: list[PlaybackSession] = []

        def on_mpv(event: Any) -> None:  # the fake mpv's thread
            if event.kind == "log" and event.value[0] in ("error", "fatal"):
                self.mpv_errors.append(str(event.value))
            if holder and event.kind == "video-size" and event.value:
                self.sizes.append((holder[0].snap.position_s, tuple(event.value)))
            if holder:
                loop.call_soon_threadsafe(holder[0].on_output_event, event)

        output = FakeMpvPlayer(on_mpv, speed=1.0, clock=self.clock)
        session = PlaybackSession(self.request(), client=client, output=output, clock=self.clock,
                                  on_event=self.events.append, on_snapshot=self.snapshots.append,
                                  settings=self.settings, rng=random.Random(7))
        self.session = session
        holder.append(session)

        async def both() -> None:
            playing = asyncio.ensure_future(session.run())
            if script is not None:
                scripted = asyncio.ensure_future(script(self))
                await asyncio.wait([playing, scripted], return_when=asyncio.FIRST_COMPLETED)
                if scripted.done():
                    scripted.result()  # a failed assertion inside the script
                else:
                    scripted.cancel()
            await playing

        try:
            await self.clock.run(both(), limit_s=limit_s)
        finally:
            output.close()
            await client.aclose()
        return session.stats.summary()
