"""One process downloads per MARQUEE_HOME: the background worker and every foreground
``add/resume --wait`` take the same lock file (``downloads.lock``). The worker is started
detached with the client's service configuration passed explicitly (``--service URL``),
never left to guess it. ``license_lock`` serialises the short window of ``download add``
between asking for a license and recording it, against the reconciliation of orphans."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from marquee import paths
from marquee.errors import ConfigError


class WorkerLock:
    """``blocking=False``: ``acquired`` says whether it was free; ``wait_s``: wait that long."""

    def __init__(self, name: str = "downloads.lock", *, wait_s: float = 0.0) -> None:
        self.path = paths.data_dir() / name
        self.wait_s = wait_s
        self.acquired = False
        self._fh: Any = None

    def __enter__(self) -> "WorkerLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fh = open(self.path, "a+")
        except OSError:  # a full disk cannot create it: no one else could have either
            self.acquired = not self.path.exists()
            return self
        try:
            import fcntl
        except ImportError:  # Windows: no flock; one worker is the user's business
            self.acquired = True
            return self
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.acquired = True
                self._note_pid()
                return self
            except OSError:
                if time.monotonic() >= deadline:
                    return self
                time.sleep(0.05)

    def _note_pid(self) -> None:
        """Who holds it (for the user, and the tests that watch the worker); not on a full disk."""
        try:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.write(f"{os.getpid()}\n")
            self._fh.flush()
        except OSError:
            pass

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the lock


@contextlib.contextmanager
def license_lock(wait_s: float = 60.0) -> Iterator[None]:
    with WorkerLock("licenses.lock", wait_s=wait_s) as lock:
        if not lock.acquired:
            raise ConfigError("another `marquee download add` holds the license lock",
                              user_message="Another download is being added; try again in a moment.")
        yield


def worker_command(service_url: str | None) -> list[str]:
    """The worker's command line: the service it must use is on it, not guessed."""
    return [sys.executable, "-m", "marquee", *(["--service", service_url] if service_url else []), "download", "run"]


def spawn_worker(service_url: str | None, log_path: Path | None = None) -> None:
    """Start ``marquee download run`` in the background (it exits by itself when the queue
    is empty). ``service_url``: the one this command uses (from ``--service``, the environment
    or the settings), passed on explicitly."""
    env = dict(os.environ)
    if service_url:
        env["MARQUEE_SERVICE"] = service_url
    with open(log_path or paths.log_dir() / "downloads-worker.log", "ab") as log:
        subprocess.Popen(worker_command(service_url), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, env=env)
