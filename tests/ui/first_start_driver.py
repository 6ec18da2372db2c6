"""Drive a new user's first start through the real ``marquee`` command (run as a subprocess
under Xvfb with QT_QPA_PLATFORM=xcb, from an empty MARQUEE_HOME).

It calls ``app.cli.main([])``, the function behind the ``marquee`` console script that
``./run`` starts, with nothing faked: the first-start window runs the real content build in a
child process, the embedded service starts, the app's window replaces the build window. The
only addition is an observer: a timer installed on the QApplication when the app creates it,
which looks at the top-level windows every 100 ms and acts as the user would (pick a profile,
open a film, press Play). Every wait has a deadline. When done it closes the window, the app
returns, and one JSON line says what was seen:

    {"ok": ..., "exit_code": ..., "build_exit": ..., "steps": [...], "seconds": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.ui.e2e_common import PlayheadAdvances, brightness  # noqa: E402

TICK_MS = 100


class Observer:
    """A user's script as a generator: each ``yield`` waits one tick; ``wait`` yields until a
    condition holds or its deadline passes."""

    def __init__(self, out: Path, deadline_s: float) -> None:
        self.out = out
        self.deadline_s = deadline_s
        self.t0 = time.monotonic()
        self.steps: list[dict[str, Any]] = []
        self.build_exit: int | None = None
        self.progress_seen: set[int] = set()
        self.done = False

    def step(self, name: str, ok: bool, **info: object) -> bool:
        self.steps.append({"step": name, "ok": ok, "t": round(time.monotonic() - self.t0, 1), **info})
        print(f"[first-start] {name}: {'ok' if ok else 'FAILED'} {info or ''}", file=sys.stderr, flush=True)
        return ok

    def wait(self, pred: Callable[[], bool], timeout_s: float) -> Iterator[None]:
        end = time.monotonic() + timeout_s
        while not pred() and time.monotonic() < end:
            yield None

    def top(self, cls_name: str) -> Any:
        from PySide6.QtWidgets import QApplication

        for w in QApplication.topLevelWidgets():
            if type(w).__name__ == cls_name and w.isVisible():
                return w
        return None

    def script(self) -> Iterator[None]:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        yield from self.wait(lambda: self.top("FirstRunWindow") is not None, 20)
        build = self.top("FirstRunWindow")
        if not self.step("build window", build is not None):
            return
        build.process.finished.connect(lambda code, _status: setattr(self, "build_exit", code))
        shot_taken = False
        while self.top("Shell") is None and time.monotonic() - self.t0 < self.deadline_s:
            window = self.top("FirstRunWindow")
            if window is not None:
                self.progress_seen.add(window.bar.value())
                if window.retry.isVisible():  # the failure screen
                    self.step("build", False, screen=window.step.text(), output=window.error.text()[-800:])
                    return
                if not shot_taken and window.bar.value() >= 30:
                    window.grab().save(str(self.out / "first-start-build.png"))
                    shot_taken = True
            yield None
        self.step("build progress shown", len([p for p in self.progress_seen if 0 < p < 100]) >= 3,
                  values=sorted(self.progress_seen)[:5] + ["…"] + sorted(self.progress_seen)[-3:])
        win = self.top("Shell")
        if not self.step("app window replaces the build window", win is not None and self.top("FirstRunWindow") is None):
            return
        yield from self.wait(lambda: bool(win.picker.buttons), 30)
        if not self.step("profiles", bool(win.picker.buttons)):
            return
        win.grab().save(str(self.out / "first-start-profiles.png"))
        QTest.keyClick(win.picker.buttons[0], Qt.Key.Key_Return)
        yield from self.wait(lambda: len(win.home.row_views) > 0, 30)
        if not self.step("rows", len(win.home.row_views) > 0, rows=len(win.home.row_views)):
            return
        ctx = win.ctx
        yield from self.wait(lambda: ctx.artwork.requests >= 8 and ctx.artwork.pending() == 0
                             and ctx.tasks.pending() == 0, 30)
        loaded = ctx.artwork.requests >= 8 and ctx.artwork.pending() == 0
        self.step("artwork", loaded, requests=ctx.artwork.requests)
        win.grab().save(str(self.out / "first-start-home.png"))
        tiles = [t for v in win.home.row_views for t in v.model().tiles()]
        film = next((t for t in tiles if t.kind == "film"), tiles[0])
        win.open_title(film)
        yield from self.wait(lambda: win.title_page.detail is not None, 30)
        if not self.step("title page", win.title_page.detail is not None, title=film.title):
            return
        page = win.title_page
        (page.restart_button if page.restart_button.isVisible() else page.play_button).click()
        yield from self.wait(lambda: win.player is not None, 10)
        if not self.step("player", win.player is not None):
            return
        player = win.player
        advancing = PlayheadAdvances(player)
        yield from self.wait(advancing, 40)
        if not self.step("playhead advances", advancing(), position=player.bridge.last.position_s,
                         state=str(player.bridge.last.state), message=player.bridge.last.message):
            return
        video = player.video
        frames = getattr(video, "frames", -1)
        if frames >= 0:
            yield from self.wait(lambda: video.frames > frames, 10)
        img = video.grabFramebuffer() if hasattr(video, "grabFramebuffer") else video.grab().toImage()
        img.save(str(self.out / "first-start-video-frame.png"))
        win.grab().save(str(self.out / "first-start-playing.png"))
        self.step("video not black", brightness(img) > 40, max_channel=brightness(img))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--deadline", type=float, default=150.0, help="seconds for the whole first start")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    observer = Observer(out, args.deadline)

    import ui.app
    from app import cli

    real_ensure = ui.app.ensure_application
    installed: list[Any] = []

    def ensure_application(argv: list[str] | None = None) -> Any:
        app = real_ensure(argv)
        if not installed:  # the first call: the build window's
            from PySide6.QtCore import QTimer

            script = observer.script()
            timer = QTimer(app)

            def tick() -> None:
                if time.monotonic() - observer.t0 > args.deadline:
                    observer.step("deadline", False, seconds=args.deadline)
                    observer.done = True
                if not observer.done:
                    try:
                        next(script)
                        return
                    except StopIteration:
                        observer.done = True
                timer.stop()
                for w in app.topLevelWidgets():  # what the user does last: close the window
                    w.close()
                app.exit(0)

            timer.timeout.connect(tick)
            timer.start(TICK_MS)
            installed.append(timer)
        return app

    ui.app.ensure_application = ensure_application
    try:
        code = cli.main([])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    steps = observer.steps
    result = {"ok": bool(steps) and all(s["ok"] for s in steps) and steps[-1]["step"] == "video not black",
              "exit_code": code, "build_exit": observer.build_exit, "steps": steps,
              "seconds": round(time.monotonic() - observer.t0, 1)}
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
