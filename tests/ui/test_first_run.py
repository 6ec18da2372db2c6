"""The first-start window: the content build's progress, its failure, and closing it."""

from __future__ import annotations

import io
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from service.content.progress import Progress
from ui.app import ensure_application
from ui.first_run import BUILT, QUIT, SKIPPED, FirstRunWindow, describe, run_first_build


def script(body: str) -> list[str]:
    """A stand-in for ``marquee content build``: a Python child running ``body``."""
    return [sys.executable, "-c", textwrap.dedent(body)]


SUCCEEDS = script("""
    import sys, time
    for pct, status in ((0, "encoding m0 (Prism), 6 rungs"), (40, "encoding m1 (Dunes), 6 rungs"),
                        (97, "artwork 12/40"), (100, "artwork 40/40")):
        print(f"content: {pct:3d}%  {status}", file=sys.stderr, flush=True)
        time.sleep(0.05)
    print("content: built 2 media x 6 rungs and artwork for 40 titles in 0.2 s -> /x", file=sys.stderr)
""")


def window(qtbot, command: list[str]) -> FirstRunWindow:  # type: ignore[no-untyped-def]
    ensure_application()
    w = FirstRunWindow(command)
    qtbot.addWidget(w)
    return w


def test_build_status_lines_read_as_a_viewer_would() -> None:
    assert describe("encoding m0 (Prism), 6 rungs") == "Encoding “Prism” in 6 qualities"
    assert describe("artwork 3/40") == "Drawing the artwork (3 of 40)"
    assert describe("m1 cached") == "Reusing what an earlier start encoded"
    assert describe("something new") == "something new"


def test_progress_moves_the_bar_and_the_window_ends_when_the_build_succeeds(qtbot) -> None:  # type: ignore[no-untyped-def]
    w = window(qtbot, SUCCEEDS)
    steps: list[str] = []
    w.step.setText = lambda text: (steps.append(text), type(w.step).setText(w.step, text))  # type: ignore[method-assign]
    with qtbot.waitSignal(w.ended, timeout=15000) as ended:
        w.start()
    assert ended.args == [BUILT] and w.outcome == BUILT
    assert w.bar.value() == 100
    assert "Encoding “Dunes” in 6 qualities" in steps and "Drawing the artwork (40 of 40)" in steps
    assert not w.retry.isVisible()


def test_a_failed_build_shows_its_output_and_try_again_recovers(qtbot) -> None:  # type: ignore[no-untyped-def]
    w = window(qtbot, script("""
        import sys
        print("content:  20%  encoding m0 (Prism), 6 rungs", file=sys.stderr)
        print("marquee content build: ffmpeg was not found", file=sys.stderr)
        sys.exit(3)
    """))
    w.show()
    w.start()
    qtbot.waitUntil(w.retry.isVisible, timeout=15000)
    assert w.outcome is None and w.skip.isVisible()
    assert w.step.text() == ("The demo library could not be built while encoding “Prism” in 6 qualities. "
                             "ffmpeg was not found")
    assert "ffmpeg was not found" in w.error.text()
    w.command = SUCCEEDS
    with qtbot.waitSignal(w.ended, timeout=15000) as ended:
        w.retry.click()
    assert ended.args == [BUILT]


def test_open_without_the_videos_after_a_failure(qtbot) -> None:  # type: ignore[no-untyped-def]
    w = window(qtbot, [sys.executable, "-c", "raise SystemExit(1)"])
    w.show()
    w.start()
    qtbot.waitUntil(w.skip.isVisible, timeout=15000)
    with qtbot.waitSignal(w.ended) as ended:
        w.skip.click()
    assert ended.args == [SKIPPED]


def test_a_command_that_cannot_start_is_a_failure_not_a_hang(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = window(qtbot, [str(tmp_path / "no-such-python")])
    w.show()
    w.start()
    qtbot.waitUntil(w.retry.isVisible, timeout=15000)
    assert "could not start" in w.step.text()


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_closing_the_window_stops_the_build_and_what_it_started(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pid_file = tmp_path / "ffmpeg.pid"
    w = window(qtbot, script(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # as ffmpeg would be
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("content:   5%  encoding m0 (Prism), 6 rungs", file=sys.stderr, flush=True)
        time.sleep(60)
    """))
    w.show()
    w.start()
    qtbot.waitUntil(lambda: pid_file.exists() and pid_file.read_text() != "" and w.bar.value() == 5, timeout=15000)
    grandchild = int(pid_file.read_text())
    with qtbot.waitSignal(w.ended) as ended:
        w.close()
    assert ended.args == [QUIT]
    assert w.process.state() == w.process.ProcessState.NotRunning
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        try:  # reaped by init once orphaned; a zombie still answers kill(0) until then
            if open(f"/proc/{grandchild}/stat").read().split(")")[-1].split()[0] == "Z":
                break
        except OSError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the build's child process survived the window")


def test_run_first_build_returns_when_the_build_is_done_and_leaves_its_window_up(qtbot) -> None:  # type: ignore[no-untyped-def]
    outcome, w = run_first_build(SUCCEEDS)
    qtbot.addWidget(w)
    assert outcome == BUILT
    assert w.isVisible() and w.step.text() == "Starting Marquee…"  # until the app's window replaces it
    w.close()
    assert w.outcome == BUILT  # closing it now is not a quit


def test_build_progress_lines_at_the_step_asked_for() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, step_percent=1)
    progress.add("a", 1.0)
    for i in range(101):
        progress.update("a", i / 100, "encoding m0 (Prism), 6 rungs")
    lines = out.getvalue().splitlines()
    assert len(lines) == 101 and lines[37] == "content:  37%  encoding m0 (Prism), 6 rungs"
    default = io.StringIO()
    coarse = Progress(default, tty=False)
    coarse.add("a", 1.0)
    for i in range(101):
        coarse.update("a", i / 100)
    assert len(default.getvalue().splitlines()) == 11


def test_closing_the_build_window_ends_the_app_command_cleanly(qtbot, monkeypatch, home) -> None:  # type: ignore[no-untyped-def]
    import argparse

    import shiboken6

    from app.desktop import run_app

    ensure_application()
    w = FirstRunWindow(SUCCEEDS)
    monkeypatch.setattr("marquee.embedded.content_ready", lambda: False)
    monkeypatch.setattr("ui.first_run.run_first_build", lambda command, updating, content_ready: (QUIT, w))
    monkeypatch.setattr("marquee.embedded.SupervisedService", lambda *a: pytest.fail("no service after a quit"))
    assert run_app(argparse.Namespace(service=None)) == 0
    assert not shiboken6.isValid(w)  # deleted while the application lives, not at interpreter exit


def test_the_app_window_replaces_the_build_window(qtbot, monkeypatch, home) -> None:  # type: ignore[no-untyped-def]
    import argparse

    import shiboken6

    from app.desktop import run_app

    class Service:
        url = "http://127.0.0.1:9"
        stopped = False

        def __init__(self, start) -> None:  # type: ignore[no-untyped-def]
            pass

        def stop(self) -> None:
            Service.stopped = True

    class Source:
        def close(self) -> None:
            pass

    ensure_application()
    w = FirstRunWindow(SUCCEEDS)
    opened: dict[str, object] = {}
    monkeypatch.setattr("marquee.embedded.content_ready", lambda: False)
    commands: list[list[str]] = []
    monkeypatch.setattr("ui.first_run.run_first_build", lambda command, updating, content_ready: (commands.append(command), (BUILT, w))[1])
    monkeypatch.setattr("marquee.embedded.SupervisedService", Service)
    monkeypatch.setattr("ui.service_client.ApiCatalog.connect", lambda url, offline_cache: Source())
    monkeypatch.setattr("ui.app.run", lambda source, engines, downloads, replaces=None: opened.update(
        url=url_of(engines), replaces=replaces) or 0)
    assert run_app(argparse.Namespace(service=None)) == 0
    assert opened == {"url": Service.url, "replaces": w}
    # one progress line per percent, and a build that stops with the app however the app ends
    assert commands[0][-3:] == ["--progress-step", "1", "--watch-stdin"] and commands[0][3:5] == ["content", "build"]
    assert Service.stopped and not shiboken6.isValid(w)


def url_of(engine_factory) -> str:  # type: ignore[no-untyped-def]
    return str(engine_factory.keywords["service_url"])


def test_an_unclean_exit_after_a_complete_build_is_a_success(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The content decides, not only the exit code: a build that finished its work and then
    aborted at exit (code 134, as the stdin watcher once made every build do) opens the app."""
    ensure_application()
    w = FirstRunWindow(script("""
        import sys
        print("content: 100%  artwork 40/40", file=sys.stderr)
        print("Fatal Python error: _enter_buffered_busy", file=sys.stderr)
        sys.exit(134)
    """), content_ready=lambda: True)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.ended, timeout=15000) as ended:
        w.start()
    assert ended.args == [BUILT] and not w.retry.isVisible()


def test_an_abnormal_end_without_a_reason_names_the_step_and_says_it_ended_abnormally(qtbot) -> None:  # type: ignore[no-untyped-def]
    ensure_application()
    w = FirstRunWindow(script("""
        import sys
        print("content:  50%  artwork 20/40", file=sys.stderr)
        sys.exit(134)
    """), content_ready=lambda: False)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(w.retry.isVisible, timeout=15000)
    assert w.step.text().startswith("The demo library could not be built while drawing the artwork (20 of 40).")
    assert "ended abnormally (code 134)" in w.step.text()
