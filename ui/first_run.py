"""The first start with the built-in service: ffmpeg encodes the demo library (a few minutes on
two cores) before anything can play. A window says so at once, with the step and a progress
bar, instead of a silent wait behind a terminal the user may not be looking at. A failed build
says what went wrong and offers to try again or to open Marquee without the videos.

``run_first_build`` runs the QApplication's event loop until the build ends or the window is
closed; ``app.desktop`` then opens the app as usual, on the same QApplication, and the app's
window replaces this one. The build is
``marquee content build`` in a child process (its lines are echoed to this terminal too); an
interrupted build resumes where it stopped at the next start (each title is kept once encoded).
"""

from __future__ import annotations

import collections
import os
import re
import signal
import sys
from typing import Callable, Sequence

from PySide6.QtCore import QProcess, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

_PROGRESS = re.compile(r"content:\s*(\d+)%\s*(.*)")
_BUILD_ERROR = re.compile(r"marquee content build: (.+)")  # the build's own plain-words reason

BUILT, SKIPPED, QUIT = "built", "skipped", "quit"  # how the first start ended


def describe(status: str) -> str:
    """A build status line (``encoding m0 (Prism), 6 rungs``) in a viewer's words."""
    if m := re.fullmatch(r"encoding \S+ \((.+)\), (\d+) rungs", status):
        return f"Encoding “{m.group(1)}” in {m.group(2)} qualities"
    if m := re.fullmatch(r"artwork (\d+)/(\d+)", status):
        return f"Drawing the artwork ({m.group(1)} of {m.group(2)})"
    if status.endswith(" cached"):
        return "Reusing what an earlier start encoded"
    return status


def failure_headline(step: str, reason: str, code: int, crashed: bool) -> str:
    """What the window says when the build really failed: the step, in the build's words or ours."""
    what = f"The demo library could not be built while {step[:1].lower()}{step[1:]}." if step else \
        "The demo library could not be built."
    if reason:
        return f"{what} {reason}"
    if crashed or code < 0 or code > 128:
        return f"{what} The build process ended abnormally (code {code}); its last lines are below."
    return f"{what} The build stopped with code {code}; its last lines are below."


class FirstRunWindow(QWidget):
    ended = Signal(str)  # BUILT, SKIPPED (open without the videos) or QUIT (window closed)

    def __init__(self, command: Sequence[str], parent: QWidget | None = None, *, updating: bool = False,
                 content_ready: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.command = list(command)
        # Whether the content on disk is complete and current: what decides success. The exit
        # code alone once called a finished library "could not be built" (the build had done its
        # work, then crashed at exit).
        self.content_ready = content_ready
        self.outcome: str | None = None
        self._last_step = ""  # the step the build reported last, in a viewer's words
        self._reason = ""  # the build's own error line, if it printed one
        self._tail: collections.deque[str] = collections.deque(maxlen=8)  # shown when the build fails
        self._pending = b""
        self.setObjectName("ShellRoot")
        self.setWindowTitle("Marquee")
        self.resize(820, 480)

        wordmark = QLabel("MARQUEE", objectName="Wordmark")
        if updating:
            title = QLabel("Updating the demo library", objectName="PickerTitle")
            intro = QLabel("This version of Marquee makes part of its demo library differently, so it is "
                           "redoing that part: from seconds for the artwork to a few minutes for the videos. "
                           "The app opens by itself when it is done.", objectName="Muted")
        else:
            title = QLabel("Setting up the demo library", objectName="PickerTitle")
            intro = QLabel("Marquee is encoding its demo titles with ffmpeg, in every quality the player "
                           "can switch between. This happens once and takes a few minutes; the app opens "
                           "by itself when it is done.", objectName="Muted")
        intro.setWordWrap(True)
        self.bar = QProgressBar(objectName="DownloadBar")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setAccessibleName("Demo library build progress")
        self.step = QLabel("Starting…", objectName="StateText")
        self.percent = QLabel("0%", objectName="Muted")
        self.error = QLabel(objectName="Muted")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Try again", objectName="Primary")
        self.skip = QPushButton("Open without the videos", objectName="Ghost")
        self.retry.clicked.connect(self.start)
        self.skip.clicked.connect(lambda: self._end(SKIPPED))

        steps = QHBoxLayout()
        steps.addWidget(self.step, 1)
        steps.addWidget(self.percent)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry)
        buttons.addWidget(self.skip)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(56, 44, 56, 44)
        box.setSpacing(14)
        box.addStretch(1)
        for w in (wordmark, title, intro):
            box.addWidget(w)
        box.addSpacing(18)
        box.addWidget(self.bar)
        box.addLayout(steps)
        box.addWidget(self.error)
        box.addLayout(buttons)
        box.addStretch(1)
        self._show_failure(None)

        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        if sys.platform != "win32":  # its own process group: closing the window stops ffmpeg too
            self.process.setUnixProcessParameters(QProcess.UnixProcessFlag.CreateNewSession)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    # ---------------------------------------------------------------- the build
    def start(self) -> None:
        if self.process.state() != QProcess.ProcessState.NotRunning:
            return
        self._tail.clear()
        self._pending = b""
        self._last_step = self._reason = ""
        self._show_failure(None)
        self.step.setText("Starting…")
        self.process.start(self.command[0], self.command[1:])

    def feed(self, line: str) -> None:
        """One line of the build's output: progress moves the bar; every line is echoed."""
        line = line.rstrip()
        if not line:
            return
        self._tail.append(line)
        print(line, file=sys.stderr, flush=True)
        if m := _PROGRESS.match(line.strip()):
            self.bar.setValue(int(m.group(1)))
            self.percent.setText(f"{int(m.group(1))}%")
            if m.group(2):
                self._last_step = describe(m.group(2))
                self.step.setText(self._last_step)
        elif m := _BUILD_ERROR.match(line.strip()):
            self._reason = m.group(1)

    def _read(self) -> None:
        *lines, self._pending = (self._pending + bytes(self.process.readAllStandardOutput().data())).split(b"\n")
        for raw in lines:
            self.feed(raw.decode("utf-8", "replace"))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self._pending:
            self.feed(self._pending.decode("utf-8", "replace"))
            self._pending = b""
        if self.outcome is not None:  # the window was closed: the build was stopped on purpose
            return
        succeeded = status == QProcess.ExitStatus.NormalExit and code == 0
        if not succeeded and self.content_ready():
            print(f"marquee: the build ended with code {code}, but the demo library on disk is complete; "
                  "opening it", file=sys.stderr, flush=True)
            succeeded = True
        if succeeded:
            self.bar.setValue(100)
            self._end(BUILT)
        else:
            self._show_failure(failure_headline(self._last_step, self._reason, code,
                                                status == QProcess.ExitStatus.CrashExit))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._show_failure(f"The build could not start: {self.process.errorString()}")

    def _show_failure(self, headline: str | None) -> None:
        failed = headline is not None
        if failed:
            self.step.setText(headline or "")
            self.error.setText("\n".join(self._tail) or "(no output)")
        for w in (self.error, self.retry, self.skip):
            w.setVisible(failed)
        self.percent.setVisible(not failed)

    # ---------------------------------------------------------------- the end
    def _end(self, outcome: str) -> None:
        """Built, or skipped: the window stays up ("Starting Marquee…") until the app's own
        window replaces it, so the service's start is not a moment with no window at all."""
        if self.outcome is None:
            self.outcome = outcome
            self._show_failure(None)
            self.step.setText("Starting Marquee…")
            self.percent.setVisible(False)
            self.ended.emit(outcome)

    def stop_build(self) -> None:
        """Stop the build and what it started (ffmpeg), if it runs."""
        if self.process.state() == QProcess.ProcessState.NotRunning:
            return
        pid = self.process.processId()
        try:
            os.killpg(pid, signal.SIGTERM)  # type: ignore[attr-defined,unused-ignore]
        except (AttributeError, OSError):  # Windows, or already gone
            self.process.kill()
        if not self.process.waitForFinished(3000):
            self.process.kill()
            self.process.waitForFinished(1000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.outcome is None:
            self.outcome = QUIT
            self.stop_build()
            self.ended.emit(QUIT)
        super().closeEvent(event)


def run_first_build(command: Sequence[str], *, updating: bool = False,
                    content_ready: Callable[[], bool] = lambda: False) -> tuple[str, FirstRunWindow]:
    """Show the window and run ``command`` (``marquee content build`` with one progress line per
    percent); once it is over, BUILT, SKIPPED or QUIT, and the window (still shown unless QUIT:
    close it once the app's window is up). ``updating``: the content is there but was made by
    another version. ``content_ready``: whether the content on disk is complete and current
    (decides success when the build's exit was unclean)."""
    from ui.app import ensure_application

    app = ensure_application()
    window = FirstRunWindow(command, updating=updating, content_ready=content_ready)
    window.ended.connect(lambda _outcome: app.exit(0))  # exit, not quit: quit() closes every window
    window.show()
    window.start()
    app.exec()
    app.processEvents()  # paint "Starting Marquee…" now: the loop stopped before the repaint
    return window.outcome or QUIT, window
