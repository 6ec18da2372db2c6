"""One variant played through the real engine and real mpv (vo=null, ao=null), with a
sampler that reads mpv's ``sub-text`` against its position while it plays."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from player.control import PlayRequest
from player.engine import PlaybackEngine
from player.events import PlayerEvent
from player.mpv_adapter import MpvPlayer
from player.remux import TS_OFFSET_S
from player.session import SessionSettings


@dataclass
class Played:
    summary: Any
    events: list[PlayerEvent]
    mpv_errors: list[str]
    # (content position, sub-text) each time the text on screen changed
    sub_changes: list[tuple[float, str]] = field(default_factory=list)

    def shown_at(self, text: str) -> list[float]:
        return [pos for pos, shown in self.sub_changes if shown == text]


def play(url: str, *, subtitles: str | None = None, seek: tuple[float, float] | None = None,
         switch: bool = False, timeout_s: float = 30.0) -> Played:
    """Play ``url`` to the end. ``seek=(when, to)``: once the position passes ``when``, seek
    to ``to``. ``switch``: start on the lowest rung and fix the next one once the first
    segment is chosen (a small buffer target leaves the later segments to the new rung)."""
    events: list[PlayerEvent] = []
    mpv_errors: list[str] = []
    players: list[MpvPlayer] = []

    def output(forward: Callable) -> MpvPlayer:
        def on_mpv(event: Any) -> None:
            if event.kind == "log" and event.value[0] in ("error", "fatal"):
                mpv_errors.append(str(event.value))
            forward(event)

        player = MpvPlayer(on_mpv, mode="headless")
        players.append(player)
        return player

    def on_event(event: PlayerEvent) -> None:
        events.append(event)
        if switch and event.kind == "decision" and event.data["index"] == 0:
            engine.set_quality_cap(1)

    settings = SessionSettings(max_buffer_s=1.0) if switch else SessionSettings()
    engine = PlaybackEngine(output, on_event=on_event, settings=settings)
    if switch:
        engine.set_quality_cap(0)
    engine.play(PlayRequest(manifest_url=url, subtitle_language=subtitles))
    played = Played(None, events, mpv_errors)
    stop = threading.Event()

    def sample() -> None:
        last: str | None = None
        sought = seek is None
        while not stop.is_set():
            if players:
                pos, text = players[0].get("time-pos"), players[0].get("sub-text")
                if pos is not None and text is not None and text != last:
                    played.sub_changes.append((float(pos) - TS_OFFSET_S, str(text)))
                    last = text
                if not sought and pos is not None and float(pos) - TS_OFFSET_S >= seek[0]:  # type: ignore[index]
                    sought = True
                    engine.seek(seek[1])  # type: ignore[index]
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        played.summary = engine.wait(timeout_s)
    finally:
        stop.set()
        sampler.join()
        engine.close()
    assert played.summary is not None, "playback did not end"
    return played
