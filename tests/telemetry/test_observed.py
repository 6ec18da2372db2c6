"""ObservedEngine tells observers when playback starts and ends, and forwards the rest."""

from __future__ import annotations

from typing import Any

from player.control import ContentRef, PlayRequest
from telemetry.observed import ObservedEngine


class FakeEngine:
    def __init__(self) -> None:
        self.listeners: list[tuple[Any, Any]] = []
        self.calls: list[str] = []
        self.played: list[PlayRequest] = []

    def add_listener(self, on_snapshot: Any, on_event: Any) -> None:
        self.listeners.append((on_snapshot, on_event))

    def play(self, request: PlayRequest) -> None:
        self.played.append(request)

    def stop(self) -> None:
        self.calls.append("stop")

    def close(self) -> None:
        self.calls.append("close")

    def pause(self) -> None:
        self.calls.append("pause")


class Recorder:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    def start(self, request: PlayRequest) -> PlayRequest:
        self.log.append(f"{self.name}.start")
        if self.fail:
            raise RuntimeError("boom")
        return PlayRequest(**{**request.__dict__, "title": request.title + "+" + self.name})

    def on_snapshot(self, snap: Any) -> None: ...
    def on_event(self, ev: Any) -> None: ...

    def end(self) -> None:
        self.log.append(f"{self.name}.end")


def test_lifecycle_and_forwarding() -> None:
    log: list[str] = []
    engine = FakeEngine()
    closed: list[bool] = []
    obs = ObservedEngine(engine, [Recorder("a", log), Recorder("b", log, fail=True)], on_close=lambda: closed.append(True))
    assert len(engine.listeners) == 2
    obs.play(PlayRequest(manifest_url="u", title="x", content=ContentRef("p", "t001")))
    assert engine.played[0].title == "x+a"  # a failing observer never stops playback
    obs.pause()
    obs.stop()
    obs.close()
    assert engine.calls == ["pause", "stop", "close"] and closed == [True]
    assert log == ["a.end", "a.start", "b.end", "b.start", "a.end", "b.end", "a.end", "b.end"]
