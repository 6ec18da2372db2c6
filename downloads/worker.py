"""One background download worker per MARQUEE_HOME (a lock file), started detached."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from marquee import paths


class WorkerLock:
    def __init__(self) -> None:
        self.path = paths.data_dir() / "downloads.lock"
        self.acquired = False
        self._fh: Any = None

    def __enter__(self) -> "WorkerLock":
        self._fh = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.acquired = True
        except ImportError:  # Windows: no flock; one worker is the user's business
            self.acquired = True
        except OSError:
            self.acquired = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the lock


def spawn_worker() -> None:
    """Start ``marquee download run`` in the background (it exits by itself when the queue is empty)."""
    log = open(paths.log_dir() / "downloads-worker.log", "ab")
    subprocess.Popen([sys.executable, "-m", "marquee", "download", "run"], stdin=subprocess.DEVNULL,
                     stdout=log, stderr=log, start_new_session=True, env=dict(os.environ))
    log.close()
