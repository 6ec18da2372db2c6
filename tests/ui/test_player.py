from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from player.events import PlaybackSnapshot, PlaybackState
from tests.ui.fakes import FakeEngine
from ui.bridge import PlaybackBridge
from ui.catalog import Tile
from ui.playback import EngineParts, make_request
from ui.catalog import PlaybackInfo
from marquee import settings as S


def _playing(qtbot, window, engines, title="t101"):  # type: ignore[no-untyped-def]
    ctx, win = window()
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(Tile(title, "x"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    win.title_page.play_button.click()
    qtbot.waitUntil(lambda: bool(engines) and any(c[0] == "play" for c in engines[0].calls), timeout=5000)
    qtbot.waitUntil(lambda: win.player.bridge.last.state == PlaybackState.PLAYING, timeout=5000)
    return ctx, win, win.player, engines[0]


def test_play_builds_request_from_playback_api_and_settings(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    req = next(c[1] for c in eng.calls if c[0] == "play")
    assert req.manifest_url.endswith("manifest.mpd")
    assert req.start_s == 754.0  # resume point of the fake film
    assert [o.id for o in req.ocas] == ["oca-1"] and req.manifest_path == "manifest.mpd"
    assert req.audio_language == "en" and req.abr_algorithm == "default"
    assert win.current() is player
    assert not player.card.isVisible()


def test_keyboard_shortcuts_send_intents(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    player.setFocus()
    qtbot.keyClick(player, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.bridge.last.paused)
    assert player.controls_visible()  # paused: controls stay
    qtbot.keyClick(player, Qt.Key.Key_Right)
    assert ("seek", 764.0) in eng.calls
    qtbot.keyClick(player, Qt.Key.Key_Left)
    qtbot.keyClick(player, Qt.Key.Key_M)
    assert ("muted", True) in eng.calls
    qtbot.keyClick(player, Qt.Key.Key_Down)
    assert ("volume", 95) in eng.calls
    qtbot.keyClick(player, Qt.Key.Key_C)
    assert ("subtitles", "en") in eng.calls
    qtbot.keyClick(player, Qt.Key.Key_H)
    assert player.help.isVisible()
    qtbot.keyClick(player, Qt.Key.Key_Escape)
    assert not player.help.isVisible()
    with qtbot.waitSignal(player.fullscreenRequested) as sig:
        qtbot.keyClick(player, Qt.Key.Key_F)
    assert sig.args == [True]
    qtbot.keyClick(player, Qt.Key.Key_Escape)  # leaves fullscreen first
    assert win.current() is player
    qtbot.keyClick(player, Qt.Key.Key_Escape)  # then back to the title page
    assert win.current() is win.title_page
    assert ("stop",) in eng.calls


def test_error_state_shows_plain_words_and_retry(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    eng._publish(state=PlaybackState.ERROR, message="The video server stopped answering.", position_s=800.0)
    qtbot.waitUntil(player.card.isVisible)
    assert player.card_text.text() == "The video server stopped answering."
    assert player.retry_button.isVisible()
    player.retry_button.click()
    plays = [c[1] for c in eng.calls if c[0] == "play"]
    assert len(plays) == 2 and plays[-1].start_s == 800.0  # retry resumes where it failed


def test_controls_hide_after_inactivity(qtbot, window, engines, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    player._hide_timer.setInterval(50)
    player.show_controls()
    qtbot.waitUntil(lambda: not player.controls_visible(), timeout=2000)
    qtbot.mouseMove(player.overlay)
    player.show_controls()
    assert player.controls_visible()


def test_quality_and_audio_menus_list_tracks(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    qtbot.waitUntil(lambda: bool(player.bridge.tracks()), timeout=5000)
    player._refresh_menus()
    actions = [a for a in player.quality_menu.actions() if not a.isSeparator()]
    labels = [a.text() for a in actions]
    assert labels[0].startswith("Auto") and labels[1].startswith("1080p")
    actions[1].trigger()
    assert ("quality", 4) in eng.calls
    actions[0].trigger()
    assert ("quality", None) in eng.calls
    audio = [a.text() for a in player.subs_menu.actions() if a.isCheckable()]
    assert "Français" in audio and "Off" in audio


def test_next_episode_countdown_autoplays(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win = window()
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(Tile("t004", "x"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    win.title_page.play_button.click()  # resumes S1:E2
    qtbot.waitUntil(lambda: bool(engines) and win.player.bridge.last.state == PlaybackState.PLAYING, timeout=5000)
    player, eng = win.player, engines[0]
    assert player.next_button.isVisibleTo(player)
    player._tick.setInterval(10)
    eng._publish(state=PlaybackState.ENDED)
    qtbot.waitUntil(lambda: player.next_card.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: player.episode is not None and player.episode.id == "t004-s1e03", timeout=3000)
    qtbot.waitUntil(lambda: len([c for c in eng.calls if c[0] == "play"]) == 2, timeout=3000)


def test_bridge_delivers_engine_callbacks_on_the_ui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    holder = {}

    def factory(on_snapshot, on_event):  # type: ignore[no-untyped-def]
        holder["engine"] = FakeEngine(on_snapshot, on_event)
        return EngineParts(holder["engine"])

    bridge = PlaybackBridge(factory)
    seen = []
    bridge.snapshot.connect(lambda s: seen.append((s.state, threading.current_thread() is threading.main_thread())))
    with qtbot.waitSignal(bridge.stateChanged) as sig:
        holder["engine"]._publish(state=PlaybackState.BUFFERING)
    assert sig.args == ["buffering"]
    assert seen == [(PlaybackState.BUFFERING, True)]
    bridge.close()
    holder["engine"].on_snapshot(PlaybackSnapshot(state=PlaybackState.PLAYING))
    qtbot.wait(50)
    assert len(seen) == 1  # nothing relayed after close


def test_bridge_clamps_seeks_and_volume(qtbot) -> None:  # type: ignore[no-untyped-def]
    holder = {}

    def factory(on_snapshot, on_event):  # type: ignore[no-untyped-def]
        holder["engine"] = FakeEngine(on_snapshot, on_event)
        return EngineParts(holder["engine"])

    bridge = PlaybackBridge(factory)
    eng = holder["engine"]
    with qtbot.waitSignal(bridge.snapshot):
        eng._publish(duration_s=100.0, position_s=95.0)
    bridge.seek_relative(30)
    bridge.seek(-5)
    bridge.set_volume(250)
    assert ("seek", 99.5) in eng.calls and ("seek", 0.0) in eng.calls and ("volume", 100) in eng.calls


def test_quality_setting_caps_the_bitrate_of_the_request() -> None:
    info = PlaybackInfo(playback_id="p", title_id="t1", media_id="m0", dash_url="http://o/manifest.mpd",
                        hls_url="", manifests={"dash": "manifest.mpd"}, ocas=())
    caps = {q: make_request(info, "x", 0.0, S.defaults().replace({"playback.quality_cap": q})).max_bitrate_kbps
            for q in ("auto", "data_saver", "hd", "max")}
    assert caps["auto"] is None and caps["max"] is None
    assert 1400 <= caps["data_saver"] < 2800 <= caps["hd"] < 5000  # our ladder: 480p 1.4M, 720p 2.8M, 1080p 5M


def test_qa_settings_go_into_the_next_request() -> None:
    info = PlaybackInfo(playback_id="p", title_id="t1", media_id="m0", dash_url="http://o/manifest.mpd",
                        hls_url="", manifests={"dash": "manifest.mpd"}, ocas=())
    s = S.defaults().replace({"qa.abr_algorithm": "bola", "qa.abr_params": "buffer_target_s=20", "qa.throttle": "3g"},
                             S.default_abr_catalog())
    req = make_request(info, "x", 0.0, s)
    assert (req.abr_algorithm, req.abr_params, req.throttle) == ("bola", {"buffer_target_s": "20"}, "3g")


def test_engine_is_prepared_when_the_player_is_created(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    qtbot.waitUntil(lambda: player.prepared, timeout=5000)
    assert eng.calls[0] == ("prepare",)


def test_quality_menu_comes_from_the_tracks_event(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    qtbot.waitUntil(lambda: len(player.bridge.tracks()) == 8, timeout=5000)
    eng.emit_event("tracks", tracks=[{"kind": "video", "id": "v0", "language": "", "label": "144p",
                                      "bitrate_kbps": 200.0, "height": 144}])
    qtbot.waitUntil(lambda: len(player.bridge.tracks()) == 1, timeout=5000)
    player._refresh_menus()
    labels = [a.text() for a in player.quality_menu.actions() if not a.isSeparator()]
    assert labels[-1].startswith("144p") and any(t.startswith("Auto") for t in labels)


def test_stats_overlay_plots_history(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    ctx, win, player, eng = _playing(qtbot, window, engines)
    player.toggle_stats()
    assert player.stats is not None and player.stats.isVisible()
    for i in range(5):
        eng._publish(buffer_s=10.0 + i, bitrate_kbps=1000.0 * (i + 1), throughput_kbps=4000.0)
    eng.emit_event("switch", from_kbps=1000, to_kbps=2000, reason="throughput up")
    qtbot.waitUntil(lambda: "throughput up" in player.stats.values["Last switch"].text())
    qtbot.waitUntil(lambda: player.stats.values["Buffer"].text() == "14.0 s")
    xs, ys = player.stats.buffer_curve.getData()
    assert len(xs) >= 5 and ys[-1] == 14.0
    player.toggle_stats()
    assert not player.stats.isVisible()


class WatchingSource:
    """The fake service, with positions: ``report_position`` moves the film's resume point."""

    def __init__(self) -> None:
        from tests.ui.fakes import FakeSource

        self.inner = FakeSource()
        self.positions: dict[str, float] = {}

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def report_position(self, profile_id, title_id, position_s, duration_s, episode_id=None):  # type: ignore[no-untyped-def]
        self.positions[title_id] = position_s

    def title(self, title_id, profile_id):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        detail = self.inner.title(title_id, profile_id)
        return replace(detail, position_s=self.positions.get(title_id, detail.position_s))


def test_leaving_the_player_shows_the_new_resume_point_and_refreshes_the_rows(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    source = WatchingSource()
    ctx, win = window(source)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(Tile("t101", "x"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
    assert "Resume from 12:34" in win.title_page.play_button.text()
    win.title_page.play_button.click()
    qtbot.waitUntil(lambda: bool(engines) and win.player.bridge.last.state == PlaybackState.PLAYING, timeout=5000)
    engines[0].seek(2000.0)  # watched on to 33:20
    qtbot.waitUntil(lambda: win.player.bridge.last.position_s == 2000.0, timeout=5000)
    rows_before = sum(1 for c in source.inner.calls if c[0] == "rows")
    win.go_back()
    assert win.current() is win.title_page
    qtbot.waitUntil(lambda: "Resume from 33:20" in win.title_page.play_button.text(), timeout=5000)
    qtbot.waitUntil(lambda: sum(1 for c in source.inner.calls if c[0] == "rows") > rows_before, timeout=5000)


def test_back_from_the_player_to_the_downloads_page_reloads_it(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    """A download's first play starts its viewing window: its card must say so on return."""
    ctx, win = window()
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_downloads()
    reloads: list[int] = []
    win.downloads.reload = lambda: reloads.append(1)  # type: ignore[method-assign]
    win._ensure_player()
    win.show_page(win.player)  # as play_download does
    win.go_back()
    assert win.current() is win.downloads and reloads == [1]


def test_a_start_that_raises_leaves_starting_for_a_plain_error(qtbot, make_ctx, home) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: the engine lost the exception of a failed start; the UI said "Starting…" forever."""
    from player.engine import PlaybackEngine
    from tests.ui.fakes import FakeSource
    from ui.app import create_context, create_window

    made: list[PlaybackEngine] = []

    def broken_output(on_output_event):  # type: ignore[no-untyped-def]
        raise RuntimeError("no video output")

    def factory(on_snapshot, on_event):  # type: ignore[no-untyped-def]
        engine = PlaybackEngine(broken_output, on_snapshot=on_snapshot, on_event=on_event)
        made.append(engine)
        return EngineParts(engine, None, "real engine, broken output")

    ctx = create_context(FakeSource(), engine_factory=factory, artwork_dir=home / "artwork",
                         settings_path=home / "settings.toml", state_path=home / "ui-state.json")
    win = create_window(ctx)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
        win.picker.buttons[0].click()
        win.open_title(Tile("t101", "x"))
        qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)
        win.title_page.play_button.click()
        qtbot.waitUntil(lambda: win.player.card_text.text() == "Playback failed unexpectedly.", timeout=5000)
        assert win.player.retry_button.isVisible()
        assert win.player.bridge.last.state == PlaybackState.ERROR
    finally:
        ctx.artwork.shutdown()
        ctx.tasks.wait_idle(3000)
        win.player.bridge.close()


def test_stats_overlay_shows_the_rung_on_screen_apart_from_the_rung_fetched(qtbot, window, engines) -> None:  # type: ignore[no-untyped-def]
    """The README screenshot said "Rung 6/6, 426×240" over a 240p frame: fetching and showing differ."""
    ctx, win, player, eng = _playing(qtbot, window, engines)
    player.toggle_stats()
    eng._publish(rung=5, rung_count=6, bitrate_kbps=5000.0, fetch_resolution=(1920, 1080),
                 shown_rung=0, shown_bitrate_kbps=400.0, resolution=(426, 240))
    qtbot.waitUntil(lambda: player.stats.values["Fetching"].text() == "rung 6/6 · 1920×1080 · 5,000 kb/s")
    assert player.stats.values["On screen"].text() == "rung 1/6 · 426×240 · 400 kb/s"
