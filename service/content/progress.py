"""Build progress: a bar on a terminal, plain lines otherwise. Thread-safe."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    """Weighted tasks, each reporting a fraction done; renders the overall fraction."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, width: int = 28,
                 step_percent: int = 10) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty() if tty is None else tty
        self._width = width
        self._steps = 100 // min(max(step_percent, 1), 100)  # lines per build when not a terminal
        self._weights: dict[str, float] = {}
        self._done: dict[str, float] = {}
        self._status: dict[str, str] = {}
        self._last_step = -1
        self._lock = threading.Lock()

    def add(self, task: str, weight: float) -> None:
        with self._lock:
            self._weights[task] = max(weight, 1e-6)
            self._done.setdefault(task, 0.0)

    def update(self, task: str, fraction: float, status: str | None = None) -> None:
        with self._lock:
            self._done[task] = min(max(fraction, self._done.get(task, 0.0)), 1.0)
            if status is not None:
                self._status[task] = status
            self._render()

    def _current_status(self) -> str:
        """The status of the first unfinished task (or the last one reported)."""
        for task, text in self._status.items():
            if self._done.get(task, 0.0) < 1.0:
                return text
        return next(reversed(self._status.values()), "")

    @property
    def fraction(self) -> float:
        total = sum(self._weights.values())
        if total <= 0:
            return 1.0
        return sum(self._weights[t] * self._done.get(t, 0.0) for t in self._weights) / total

    def _render(self) -> None:
        frac = self.fraction
        if self._tty:
            filled = int(frac * self._width)
            bar = "█" * filled + "░" * (self._width - filled)
            self._stream.write(f"\r  {bar} {frac * 100:5.1f}%  {self._current_status()[:48]:<48}")
            self._stream.flush()
            return
        step = int(frac * self._steps + 1e-9)  # 0.29 * 100 is 28.999...: no step skipped
        if step != self._last_step:
            self._last_step = step
            self._stream.write(f"content: {step * 100 // self._steps:3d}%  {self._current_status()}\n")
            self._stream.flush()

    def finish(self, message: str) -> None:
        with self._lock:
            if self._tty:
                self._stream.write("\r" + " " * (self._width + 60) + "\r")
            self._stream.write(message + "\n")
            self._stream.flush()


class NullProgress(Progress):
    def _render(self) -> None:
        pass

    def finish(self, message: str) -> None:
        pass
