"""A child that dies with its parent: the parent holds the child's stdin open and never writes;
when the parent exits, even by ``kill -9``, the pipe closes and the child sees end-of-file.
``marquee serve`` and ``marquee content build`` take ``--watch-stdin`` for this."""

from __future__ import annotations

import sys
import threading
from typing import Callable


def on_stdin_eof(then: Callable[[], object]) -> None:
    """Call ``then`` (from a daemon thread) once stdin reaches end-of-file."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(1024):
                pass
        except (OSError, ValueError):
            pass
        then()

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()
