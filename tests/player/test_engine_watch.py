"""Every coroutine posted to the engine's loop is watched: an exception is an event."""

from __future__ import annotations

from typing import Any

from player.control import PlayRequest
from player.engine import PlaybackEngine
from player.events import PlaybackSnapshot, PlaybackState, PlayerEvent


def _broken_output(on_output_event: Any) -> Any:
    raise RuntimeError("libmpv.so.2: cannot open shared object file")


def test_a_start_that_raises_ends_in_an_error_event_and_state() -> None:
    events: list[PlayerEvent] = []
    snaps: list[PlaybackSnapshot] = []
    engine = PlaybackEngine(_broken_output, on_event=events.append, on_snapshot=snaps.append)
    try:
        engine.play(PlayRequest("http://127.0.0.1:9/manifest.mpd", title="t"))
        summary = engine.wait(timeout=10)
    finally:
        engine.close()
    errors = [e for e in events if e.kind == "error"]
    assert len(errors) == 1 and errors[0].data["recoverable"] is False
    assert errors[0].data["message"] == "Playback failed unexpectedly."
    assert "libmpv" in errors[0].data["detail"]
    assert snaps[-1].state == PlaybackState.ERROR and snaps[-1].message == "Playback failed unexpectedly."
    assert summary is not None and not summary.ok and summary.errors == ["Playback failed unexpectedly."]


def test_an_intent_that_raises_is_reported_as_recoverable() -> None:
    events: list[PlayerEvent] = []

    class Output:
        def set_volume(self, volume: float) -> None:
            raise ValueError("volume out of range")

    engine = PlaybackEngine(lambda cb: Output(), on_event=events.append)  # type: ignore[arg-type,return-value]
    try:
        engine.prepare()
        try:
            engine._call(lambda: engine._output.set_volume(500), "setting the volume").result(timeout=5)  # type: ignore[union-attr]
        except ValueError:
            pass
    finally:
        engine.close()
    errors = [e for e in events if e.kind == "error"]
    assert len(errors) == 1 and errors[0].data["recoverable"] is True
    assert errors[0].data["message"] == "The player could not do that (setting the volume)."
