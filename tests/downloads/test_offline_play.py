"""Offline playback through the real engine and mpv (vo=null) with the service stopped:
round trip, resume position + seek + audio language + subtitles, a damaged file, and a
license that runs out mid-play."""

from __future__ import annotations

import threading
import time

import pytest

from downloads.offline import prepare_playback
from downloads.offline_transport import OFFLINE_ORIGIN
from drm.crypto import HEADER_SIZE
from drm.errors import DAMAGED_MESSAGE
from marquee.clock import FakeClock
from player.engine import PlaybackEngine
from player.events import PlaybackState, PlayerEvent
from player.mpv_adapter import MpvPlayer
from player.session import SessionSettings
from tests.downloads.conftest import FILM, flip_stored_byte

pytestmark = [pytest.mark.mpv, pytest.mark.slow]


def downloaded(svc, make_downloads, **kw):
    d = make_downloads(svc, **kw)
    d.add(FILM, quality="max", audio=["en", "fr"], subtitles=["en"])
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed"
    svc.stop()  # network off: the service and every OCA are gone
    return d


class Play:
    def __init__(self, prepared, settings: SessionSettings | None = None) -> None:
        self.events: list[PlayerEvent] = []
        self.lock = threading.Lock()
        self.engine = PlaybackEngine(lambda fwd: MpvPlayer(fwd, mode="headless"), on_event=self._on_event,
                                     transports={OFFLINE_ORIGIN: prepared.transport},
                                     settings=settings or SessionSettings())
        self.engine.play(prepared.request)

    def _on_event(self, event: PlayerEvent) -> None:
        with self.lock:
            self.events.append(event)

    def wait_position(self, seconds: float, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.engine.snapshot()
            if snap.position_s >= seconds and snap.state == PlaybackState.PLAYING:
                return snap
            time.sleep(0.05)
        raise AssertionError(f"did not reach {seconds} s: {self.engine.snapshot()}")

    def finish(self, timeout: float = 40.0):
        summary = self.engine.wait(timeout)
        snap = self.engine.snapshot()
        self.engine.close()
        assert summary is not None, "playback did not end"
        return summary, snap


def test_round_trip_plays_to_the_end_with_the_network_off(svc, make_downloads):
    d = downloaded(svc, make_downloads)
    prepared = prepare_playback(d, FILM)  # tries the service, finds it gone, plays offline
    play = Play(prepared)
    summary, snap = play.finish()
    assert summary.ok, summary.errors
    assert summary.played_s == pytest.approx(16.0, abs=0.8)
    assert summary.stall_count == 0 and snap.state == PlaybackState.ENDED
    segments = [e for e in play.events if e.kind == "segment"]
    assert len(segments) == 8
    assert {e.data["oca"] for e in segments} == {"this device"}  # what the stats and telemetry say
    assert d.info(FILM).license.playback_remaining_s == pytest.approx(48 * 3600, abs=120)  # the window started


def test_resume_position_seek_audio_and_subtitles(svc, make_downloads):
    d = downloaded(svc, make_downloads)
    d.journal.set_position(FILM, 6.0, d.clock.wall())
    prepared = prepare_playback(d, FILM, audio="fr", subtitles="en")
    assert prepared.request.start_s == 6.0
    play = Play(prepared)
    snap = play.wait_position(6.5)
    assert snap.audio_language == "fr"
    deadline = time.monotonic() + 5
    while play.engine.snapshot().subtitle_language != "en":
        assert time.monotonic() < deadline, "subtitles not loaded"
        time.sleep(0.05)
    play.engine.seek(12.0)
    summary, snap = play.finish()
    assert summary.ok, summary.errors
    assert [e for e in play.events if e.kind == "seek"]
    assert snap.state == PlaybackState.ENDED
    assert summary.played_s < 9.0  # 6 -> ~7, then 12 -> 16


def test_a_damaged_segment_stops_with_the_redownload_message(svc, make_downloads):
    d = downloaded(svc, make_downloads)
    victim = next(f for f in d.journal.files(FILM, done=True) if f.path.endswith("-3.m4s") and f.kind == "media")
    flip_stored_byte(d, FILM, victim.path, HEADER_SIZE + 100, 0x80)
    play = Play(prepare_playback(d, FILM, online=False))
    summary, snap = play.finish()
    assert not summary.ok
    assert DAMAGED_MESSAGE in summary.errors
    assert snap.state == PlaybackState.ERROR and snap.message == DAMAGED_MESSAGE
    errors = [e for e in play.events if e.kind == "error" and not e.data["recoverable"]]
    assert errors[-1].data["code"] == "download_damaged"


def test_a_license_running_out_mid_play_stops_with_a_clear_message(svc, make_downloads):
    clock = FakeClock(start_wall=time.time())
    d = downloaded(svc, make_downloads, clock=clock)
    play = Play(prepare_playback(d, FILM, online=False), settings=SessionSettings(max_buffer_s=4.0))
    play.wait_position(1.0)
    clock.advance(31 * 86400)  # past license_duration (30 days)
    summary, snap = play.finish()
    assert not summary.ok and snap.state == PlaybackState.ERROR
    assert "license has expired" in snap.message
    assert summary.played_s < 10
