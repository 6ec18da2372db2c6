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


def test_flush_progress_waits_for_the_position_sync(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``attach`` wires the position sync's flush: after ``stop``, the last position is sent
    before ``flush_progress`` returns (the app then asks the service for the resume point)."""
    from sync.store import LocalStore
    from telemetry import attach as attach_mod

    sent: list[list[dict[str, Any]]] = []

    def transport(service_url: str, client: Any = None):  # type: ignore[no-untyped-def]
        def send(pid: str, reports: list[dict[str, Any]], sent_at: float) -> dict[str, Any]:
            sent.append(reports)
            return {"server_time": sent_at, "results": [{"ok": True} for _ in reports]}
        return send

    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    monkeypatch.setattr(attach_mod, "lazy_transport", transport)
    engine = FakeEngine()
    obs = attach_mod.attach(engine, service_url="http://service.invalid", telemetry_enabled=False)
    assert ObservedEngine(FakeEngine(), []).flush_progress(0.1) is True  # no sync: nothing to wait for
    try:
        obs.play(PlayRequest(manifest_url="u", title="x", content=ContentRef("p1", "t001")))
        from player.events import PlaybackSnapshot, PlaybackState

        for on_snapshot, _ in engine.listeners:
            on_snapshot(PlaybackSnapshot(state=PlaybackState.PLAYING, position_s=600.0, duration_s=5400.0))
        obs.stop()
        assert obs.flush_progress(5.0) is True
        assert any(r.get("position_s") == 600.0 for batch in sent for r in batch), sent
        assert LocalStore().pending_count() == 0
    finally:
        obs.close()
