"""Drive the real app end to end (run as a subprocess under Xvfb with QT_QPA_PLATFORM=xcb).

Starts the embedded service (or uses --service), opens the window, picks the first
profile, waits for the rows, opens a title, presses Play, waits until the playhead
advances, checks the video area is not black, and saves screenshots. Prints one
JSON line with what it saw; exit 0 when every step passed.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/ui/e2e_driver.py --out /tmp/shots
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--service", default="")
    ap.add_argument("--no-play", action="store_true")
    ap.add_argument("--timeout", type=float, default=45.0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"steps": []}

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest

    from marquee import paths
    from ui.app import create_context, create_window, ensure_application
    from ui.playback import default_engine_factory
    from ui.service_client import ApiCatalog

    embedded = None
    url = args.service
    if not url:
        from marquee.embedded import start_embedded_service

        embedded = start_embedded_service()
        url = embedded.url
    app = ensure_application()
    source = ApiCatalog.connect(url, offline_cache=paths.cache_dir() / "ui-offline")
    ctx = create_context(source, engine_factory=default_engine_factory)
    win = create_window(ctx)
    win.resize(1440, 900)
    win.show()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(pred, timeout_s: float, step_ms: int = 100) -> bool:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if pred():
                return True
            wait(step_ms)
        return bool(pred())

    def step(name: str, ok: bool, **info: object) -> bool:
        result["steps"].append({"step": name, "ok": ok, **info})  # type: ignore[union-attr]
        return ok

    def shot(name: str) -> None:
        wait(250)
        win.grab().save(str(out / f"{name}.png"))

    ok = step("profiles", wait_until(lambda: bool(win.picker.buttons), 20))
    shot("profile-picker")
    if ok:
        QTest.keyClick(win.picker.buttons[0], Qt.Key.Key_Return)
        ok = step("rows", wait_until(lambda: len(win.home.row_views) > 0, 20), rows=len(win.home.row_views))
    if ok:
        wait_until(lambda: ctx.artwork.memory.__len__() >= 8, 15)
        shot("home")
        tiles = [t for v in win.home.row_views for t in v.model().tiles()]
        film = next((t for t in tiles if t.kind == "film"), tiles[0])
        win.open_title(film)
        ok = step("title", wait_until(lambda: win.title_page.detail is not None, 15), title=film.title)
        wait(800)
        shot("title")
    if ok and not args.no_play:
        win.title_page.restart_button.click() if win.title_page.restart_button.isVisible() else \
            win.title_page.play_button.click()
        ok = step("player", wait_until(lambda: win.player is not None, 10), engine=getattr(win.player.bridge, "description", "") if win.player else "")
    if ok and not args.no_play:
        player = win.player
        first = {}

        def advancing() -> bool:
            pos = player.bridge.last.position_s
            first.setdefault("pos", pos if pos > 0 else None)
            if first.get("pos") is None and pos > 0:
                first["pos"] = pos
            return first.get("pos") is not None and pos >= (first["pos"] or 0) + 2.0

        ok = step("position advances", wait_until(advancing, args.timeout), position=player.bridge.last.position_s,
                  state=str(player.bridge.last.state), message=player.bridge.last.message)
        if ok:
            video = player.video
            img: QImage = video.grabFramebuffer() if hasattr(video, "grabFramebuffer") else video.grab().toImage()
            img.save(str(out / "video-frame.png"))
            small = img.scaled(64, 36)
            bright = max(max(small.pixelColor(x, y).red(), small.pixelColor(x, y).green(), small.pixelColor(x, y).blue())
                         for x in range(small.width()) for y in range(small.height()))
            ok = step("video not black", bright > 40, max_channel=bright, frames=getattr(video, "frames", -1))
            player.show_controls(sticky=True)
            shot("player")
            player.toggle_stats()
            wait(1500)
            shot("player-stats")
            player.toggle_stats()
        win.go_back()
    from ui.views.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ctx.settings, ctx.abr_catalog, win)
    dlg.resize(760, 900)
    dlg.show()
    wait(300)
    dlg.grab().save(str(out / "settings.png"))
    dlg.reject()
    result["ok"] = all(s["ok"] for s in result["steps"])  # type: ignore[union-attr]
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
