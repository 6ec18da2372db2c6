"""Drive the real app end to end (run as a subprocess under Xvfb with QT_QPA_PLATFORM=xcb).

Starts the embedded service (on ``--content`` or the built content of MARQUEE_HOME, or
uses ``--service``), opens the window, picks the first profile, waits for the rows,
opens a film, presses Play, waits until mpv's playhead advances, checks the video area
is not black, and saves screenshots. ``--downloads`` then downloads the film from its
page and plays it from the Downloads page through the offline path. Every wait is a
condition with a deadline (no sleeps as synchronisation). Prints one JSON line with
what it saw; exit 0 when every step passed.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/ui/e2e_driver.py --out /tmp/shots
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _points(curve: Any) -> int:
    xs = curve.getData()[0]
    return 0 if xs is None else len(xs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--service", default="")
    ap.add_argument("--content", default="", help="content folder for the embedded service")
    ap.add_argument("--no-play", action="store_true")
    ap.add_argument("--downloads", action="store_true", help="also download the film and play it offline")
    ap.add_argument("--series", action="store_true", help="also take a screenshot of a series' page")
    ap.add_argument("--timeout", type=float, default=60.0, help="deadline of each waiting step (s)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, Any]] = []
    t_start = time.monotonic()

    from PySide6.QtCore import QEventLoop, QSize, Qt, QTimer
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from marquee import paths
    from ui.app import create_context, create_window, ensure_application
    from ui.downloads_service import service_opener
    from ui.playback import default_engine_factory
    from ui.service_client import ApiCatalog

    from tests.ui.e2e_common import PlayheadAdvances, brightness

    embedded = None
    url = args.service
    if not url:
        from marquee.embedded import start_embedded_service

        embedded = start_embedded_service(Path(args.content) if args.content else None)
        url = embedded.url
    app = ensure_application()
    source = ApiCatalog.connect(url, offline_cache=paths.cache_dir() / "ui-offline")
    ctx = create_context(source, engine_factory=default_engine_factory,
                         downloads_opener=service_opener(url) if args.downloads else None)
    win = create_window(ctx)
    win.resize(1440, 900)
    win.show()

    def pump(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(pred: Callable[[], bool], timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if pred():
                return True
            pump(50)
        return bool(pred())

    def step(name: str, ok: bool, **info: object) -> bool:
        steps.append({"step": name, "ok": ok, "t": round(time.monotonic() - t_start, 1), **info})
        return ok

    def settled() -> bool:
        """Artwork loaded and nothing left to do on the task pool."""
        return ctx.artwork.pending() == 0 and ctx.tasks.pending() == 0

    def shot(name: str, widget: Any = None) -> None:
        QApplication.processEvents()
        (widget or win).grab().save(str(out / f"{name}.png"))

    def play_and_check(label: str, timeout_s: float) -> bool:
        player = win.player
        advancing = PlayheadAdvances(player)
        ok = step(f"{label}: position advances", wait_until(advancing, timeout_s),
                  position=player.bridge.last.position_s, state=str(player.bridge.last.state),
                  message=player.bridge.last.message)
        if not ok:
            return False
        video = player.video
        frames = getattr(video, "frames", -1)
        if frames >= 0:  # the render API draws: wait for a frame after the playhead moved
            wait_until(lambda: video.frames > frames, 10)
        img: QImage = video.grabFramebuffer() if hasattr(video, "grabFramebuffer") else video.grab().toImage()
        img.save(str(out / f"{label}-video-frame.png"))
        bright = brightness(img)
        return step(f"{label}: video not black", bright > 40, max_channel=bright, frames=getattr(video, "frames", -1))

    ok = step("profiles", wait_until(lambda: bool(win.picker.buttons), args.timeout))
    shot("profile-picker")
    if ok:
        QTest.keyClick(win.picker.buttons[0], Qt.Key.Key_Return)
        ok = step("rows", wait_until(lambda: len(win.home.row_views) > 0, args.timeout), rows=len(win.home.row_views))
    tiles = [t for v in win.home.row_views for t in v.model().tiles()] if ok else []
    if ok:
        wait_until(lambda: ctx.artwork.requests >= 8 and settled(), 20)
        shot("home")
        film = next((t for t in tiles if t.kind == "film"), tiles[0])
        win.open_title(film)
        ok = step("title", wait_until(lambda: win.title_page.detail is not None, args.timeout), title=film.title)
    if ok and args.series:
        series = next((t for t in tiles if t.kind == "series"), None)
        if series is not None:
            win.open_title(series)
            wait_until(lambda: win.title_page.detail is not None and win.title_page.detail.id == series.title_id
                       and settled(), args.timeout)
            shot("title-series")
            win.go_back()
            win.open_title(film)
            wait_until(lambda: win.title_page.detail is not None and win.title_page.detail.id == film.title_id,
                       args.timeout)
    if ok:
        backdrop = win.title_page.backdrop

        def backdrop_loaded() -> bool:
            r, dpr = backdrop.backdrop_rect(), backdrop.devicePixelRatioF()
            size = QSize(round(r.width() * dpr), round(r.height() * dpr))
            return settled() and ctx.artwork.pixmap(backdrop.url, size) is not None

        wait_until(backdrop_loaded, 20)
        shot("title")
    if ok and not args.no_play:
        page = win.title_page
        (page.restart_button if page.restart_button.isVisible() else page.play_button).click()
        ok = step("player", wait_until(lambda: win.player is not None, 10),
                  engine=getattr(win.player.bridge, "description", "") if win.player else "",
                  prepared=bool(getattr(win.player, "prepared", False)) if win.player else False)
    if ok and not args.no_play:
        player = win.player
        ok = play_and_check("stream", args.timeout)
        if ok:
            player.show_controls(sticky=True)
            shot("player")
            player.toggle_stats()
            wait_until(lambda: player.stats is not None and _points(player.stats.buffer_curve) >= 3,
                       10)
            shot("player-stats")
            player.toggle_stats()
        win.go_back()
    if ok and args.downloads:
        page = win.title_page
        service = ctx.downloads
        assert service is not None
        target = page.download_target()
        did = (target[1] or target[0]) if target else ""
        ok = step("download button", wait_until(lambda: page.download_button.isEnabled(), args.timeout),
                  text=page.download_button.text().strip(), error=service.error)
        if ok:
            page.download_button.click()
            ok = step("download completes",
                      wait_until(lambda: did in service.items and service.items[did].state == "completed",
                                 args.timeout),
                      state=service.items[did].state if did in service.items else "", error=service.error)
        if ok:
            wait_until(lambda: page.download_button.text().strip().startswith("Downloaded"), 10)
            shot("title-downloaded")
            win.open_downloads()
            rows = win.downloads.rows
            wait_until(lambda: did in rows and rows[did].name.text() != rows[did].info.title_id and settled(), 20)
            shot("downloads")
            rows[did].play_button.click()
            ok = play_and_check("offline", args.timeout)
            if ok:
                shot("player-offline")
            win.go_back()
    from ui.views.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ctx.settings, ctx.abr_catalog, win)
    dlg.resize(760, 900)
    dlg.show()
    wait_until(dlg.isVisible, 5)
    shot("settings", dlg)
    from PySide6.QtWidgets import QScrollArea

    area = dlg.findChild(QScrollArea)
    if area is not None:
        area.ensureWidgetVisible(dlg.editors["qa.abr_params"])
        shot("settings-qa", dlg)
    dlg.reject()
    result = {"ok": all(s["ok"] for s in steps), "steps": steps, "seconds": round(time.monotonic() - t_start, 1)}
    print(json.dumps(result), flush=True)
    win.close()
    ctx.artwork.shutdown()
    source.close()
    if embedded is not None:
        embedded.stop()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
