"""The engine against the real reference service, its OCAs and real mpv (vo=null).

Each test plays 16 s of generated content in real time. A small buffer target keeps
the fetcher busy during the whole playback, so faults injected mid-stream hit it.
These are the few real-service, real-mpv checks; the engine's scenarios (failover of
every kind, corrupt segments, token refresh, all servers down, ladder switches, seeks)
run in virtual time in ``test_engine_virtual.py``, failover on real sockets (refused,
reset, stalled) in ``test_fetch.py``, and its cost in ``benchmarks/engine.py``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from marquee.api import ServiceClient
from player.engine import PlaybackEngine
from player.events import PlaybackSnapshot, PlayerEvent
from player.launch import request_for_title
from player.mpv_adapter import MpvPlayer
from player.session import SessionSettings
from service.config import ServiceConfig
from service.server import ServiceThread
from tests.service.fakes import make_catalog

pytestmark = [pytest.mark.mpv, pytest.mark.slow]


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine-cat") / "catalog.json"
    path.write_text(json.dumps(make_catalog()))
    return path


def start_service(tmp: Path, content: Path, catalog: Path, **overrides: object) -> ServiceThread:
    config = ServiceConfig(content_dir=content, catalog_path=catalog, db_path=tmp / "service.sqlite3", ocas=3,
                           **overrides)
    return ServiceThread(config).start()


@pytest.fixture
def service(tmp_path: Path, service_content: Path, catalog_path: Path) -> Iterator[ServiceThread]:
    svc = start_service(tmp_path, service_content, catalog_path)
    yield svc
    svc.stop()


class Run:
    """One playback with everything it emitted."""

    def __init__(self, svc: ServiceThread, settings: SessionSettings | None = None, **request_options: object):
        self.svc = svc
        self.events: list[PlayerEvent] = []
        self.mpv_errors: list[str] = []
        self.sizes: list[tuple[float, tuple[int, int]]] = []
        self.players: list[MpvPlayer] = []
        self.lock = threading.Lock()
        client = ServiceClient(svc.url)
        client.login()
        profile = client.profiles()[0]
        self.request = request_for_title(client, profile.id, "t001", start_s=0.0, **request_options)
        self.engine = PlaybackEngine(self._output, on_event=self._on_event,
                                     settings=settings or SessionSettings(max_buffer_s=4.0))

    def _output(self, forward: Callable) -> MpvPlayer:
        def on_mpv(event) -> None:
            if event.kind == "log" and event.value[0] in ("error", "fatal"):
                self.mpv_errors.append(str(event.value))
            if event.kind == "video-size" and event.value:
                snap = self.engine.snapshot()
                self.sizes.append((snap.position_s, tuple(event.value)))
            forward(event)

        player = MpvPlayer(on_mpv, mode="headless")
        self.players.append(player)
        return player

    def _on_event(self, event: PlayerEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: str) -> list[PlayerEvent]:
        with self.lock:
            return [e for e in self.events if e.kind == kind]

    def wait_position(self, seconds: float, timeout: float = 20.0) -> PlaybackSnapshot:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.engine.snapshot()
            if snap.position_s >= seconds and snap.oca:
                return snap
            time.sleep(0.05)
        raise AssertionError(f"playback did not reach {seconds} s: {self.engine.snapshot()}")

    def finish(self, timeout: float = 40.0):
        summary = self.engine.wait(timeout)
        self.engine.close()
        assert summary is not None, "playback did not end"
        return summary


def test_plays_to_the_end_with_startup_switches_and_no_decoder_error(service):
    run = Run(service)
    run.engine.play(run.request)
    summary = run.finish()
    assert summary.ok, summary.errors
    assert summary.startup_ms is not None and summary.startup_ms < 3000
    assert summary.played_s == pytest.approx(16.0, abs=0.6)
    assert summary.stall_count == 0
    assert len(run.of("segment")) == 8
    assert run.mpv_errors == []


def test_any_standard_manifest_url_plays_without_the_reference_service(service_content):
    import functools
    import http.server

    from player.control import PlayRequest

    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(service_content / "media" / "m0"))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        events: list[PlayerEvent] = []
        engine = PlaybackEngine(lambda cb: MpvPlayer(cb, mode="headless"), on_event=events.append)
        engine.play(PlayRequest(manifest_url=f"http://127.0.0.1:{server.server_port}/manifest.mpd"))
        summary = engine.wait(40)
        engine.close()
    finally:
        server.shutdown()
    assert summary is not None and summary.ok, summary
    assert summary.played_s == pytest.approx(16.0, abs=0.6)


def test_marquee_play_writes_the_summary_json(service, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "summary.json"
    log = tmp_path / "decisions.jsonl"
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "marquee", "--service", service.url, "play", "t001", "--headless",
         "--start", "4", "--stop-after", "3", "--summary-json", str(out), "--log", str(log), "--quiet"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(out.read_text())
    for key in ("startup_ms", "start_s", "played_s", "stall_count", "stall_ms", "switches",
                "avg_bitrate_kbps", "failovers", "errors"):
        assert key in summary
    assert summary["start_s"] == 4.0
    assert 2.5 <= summary["played_s"] <= 5.0
    assert summary["errors"] == []
    kinds = {json.loads(line)["kind"] for line in log.read_text().splitlines()}
    assert {"decision", "segment", "startup"} <= kinds


def test_marquee_play_fails_clearly_on_a_broken_manifest(tmp_path):
    import functools
    import http.server
    import subprocess
    import sys

    (tmp_path / "broken.mpd").write_text("<MPD><Period><AdaptationSet>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "summary.json"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "marquee", "play", f"http://127.0.0.1:{server.server_port}/broken.mpd",
             "--headless", "--quiet", "--summary-json", str(out)],
            capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "MARQUEE_HOME": str(tmp_path)},
        )
    finally:
        server.shutdown()
    assert proc.returncode != 0
    summary = json.loads(out.read_text())
    assert summary["errors"] and "Traceback" not in proc.stderr


def test_audio_language_and_subtitles_are_chosen_and_switched(tmp_path, quick_content):
    """On the demo build (en/fr audio, en/fr WebVTT): start in French with English subtitles,
    then switch the audio to English mid-stream."""
    from service.catalog import default_catalog_path

    svc = start_service(tmp_path, quick_content, default_catalog_path())
    try:
        run = Run(svc, settings=SessionSettings(max_buffer_s=4.0), audio_language="fr", subtitle_language="en")
        run.engine.play(run.request)
        run.wait_position(2.0)
        snap = run.engine.snapshot()
        assert (snap.audio_language, snap.subtitle_language) == ("fr", "en")
        (tracks,) = run.of("tracks")
        languages = {t["language"] for t in tracks.data["tracks"] if t["kind"] == "audio"}
        assert languages == {"en", "fr"}
        deadline = time.monotonic() + 10
        while not any(t[0] == "sub" and t[2] == "en" for t in run.players[0].tracks()):
            assert time.monotonic() < deadline, f"mpv has no English subtitle track: {run.players[0].tracks()}"
            time.sleep(0.1)
        run.engine.set_audio_language("en")
        deadline = time.monotonic() + 10
        while run.engine.snapshot().audio_language != "en":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        run.wait_position(run.engine.snapshot().position_s + 2.0)
        run.engine.stop()
        summary = run.finish()
    finally:
        svc.stop()
    assert not [e for e in run.of("error") if not e.data.get("recoverable")], run.of("error")
    assert run.mpv_errors == []
    assert summary.stall_count == 0
