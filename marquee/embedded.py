"""Start the reference service and its OCAs as a child process for the app.

The child is ``python -m marquee serve --port 0 --watch-stdin``: it prints its URL
on the first line, and exits when its stdin closes, so it dies with us even on
``kill -9`` of the parent (the pipe closes with the parent's process). The app keeps it
running with ``SupervisedService``: a child that dies is started again on the same port.
"""

from __future__ import annotations

import collections
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import httpx

from marquee import paths
from marquee.errors import MarqueeError, ServiceError
from marquee.private_files import ADMIN_HEADER, ADMIN_SECRET_FILE, admin_secret_at

log = logging.getLogger("marquee.embedded")


class EmbeddedService:
    def __init__(self, process: subprocess.Popen[bytes], url: str, stderr_tail: collections.deque[str],
                 admin_secret_file: Path | None = None) -> None:
        self.process = process
        self.url = url
        self._stderr_tail = stderr_tail
        self.admin_secret_file = admin_secret_file

    @property
    def admin_url(self) -> str:
        return self.url + "/v1/admin"

    def admin_headers(self) -> dict[str, str]:
        """The header the admin API asks for: this installation's secret (a 0600 file only this
        user reads), so a web page or another local user cannot drive the admin plane."""
        path = self.admin_secret_file or paths.service_dir() / ADMIN_SECRET_FILE
        return {ADMIN_HEADER: admin_secret_at(path)}

    def stderr_tail(self) -> str:
        return "".join(self._stderr_tail)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            if self.process.stdin:
                self.process.stdin.close()  # the child's stdin watcher shuts it down cleanly
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "EmbeddedService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded_service(content_dir: Path | None = None, ocas: int = 3, *, timeout: float = 30.0,
                           extra_args: list[str] | None = None, env: dict[str, str] | None = None,
                           verbose: bool = False, port: int = 0) -> EmbeddedService:
    """Launch ``marquee serve`` on loopback (``port``, or a free one; the OCAs always on free
    ones); returns when ``/health`` answers 200. Its admin plane (for QA tools) answers only
    requests carrying this installation's secret (``EmbeddedService.admin_headers``)."""
    secret_file = paths.service_dir() / ADMIN_SECRET_FILE
    admin_secret_at(secret_file)  # created 0600 here first: the child and we read the same one
    cmd = [sys.executable, "-m", "marquee", *(["-v"] if verbose else []), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--ocas", str(ocas), "--admin", "--admin-secret-file", str(secret_file),
           "--watch-stdin"]
    if content_dir is not None:
        cmd += ["--content", str(content_dir)]
    cmd += extra_args or []
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    tail: collections.deque[str] = collections.deque(maxlen=40)
    assert process.stderr is not None and process.stdout is not None

    def pump_stderr() -> None:
        assert process.stderr is not None
        for line in iter(process.stderr.readline, b""):
            tail.append(line.decode("utf-8", "replace"))

    threading.Thread(target=pump_stderr, name="embedded-stderr", daemon=True).start()
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline().decode().strip()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    reader.join(timeout)
    service = EmbeddedService(process, first[0] if first else "", tail, secret_file)

    def fail(reason: str) -> ServiceError:
        service.stop(1.0)
        time.sleep(0.1)
        return ServiceError(f"the embedded service {reason}; its last output:\n{service.stderr_tail()}",
                            code="embedded_start_failed",
                            user_message=f"The built-in Marquee service could not start ({reason}).")

    if not service.url.startswith("http"):
        raise fail("did not print its URL" if process.poll() is None else f"exited with code {process.returncode}")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise fail(f"exited with code {process.returncode}")
        try:
            if httpx.get(service.url + "/health", timeout=2.0).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise fail(f"did not become healthy within {timeout:g} s")


class SupervisedService:
    """The embedded service, started again when it dies (a crash, an out-of-memory kill, a stray
    ``kill``), on the port it had: the app's URL stays valid, and its "offline" banner clears by
    itself, as the banner says it will. Clients lose nothing: positions and telemetry wait in
    their local queues, and the OCAs' new ports come with the next playback call. Restarts back
    off (1 s, doubling up to 30 s) so a service that cannot start does not spin."""

    def __init__(self, start: Callable[[int], EmbeddedService], *, check_every_s: float = 1.0) -> None:
        self._start = start
        self._check_every_s = check_every_s
        self.service = start(0)
        self.port = urlsplit(self.service.url).port or 0
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="embedded-watch", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return self.service.url

    def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping.wait(self._check_every_s):
            if self.service.alive():
                continue
            log.warning("the built-in service exited (code %s); starting it again on port %s. Its last output:\n%s",
                        self.service.process.returncode, self.port, self.service.stderr_tail())
            try:
                self.service = self._start(self.port)
                self.restarts += 1
                backoff = 1.0
            except MarqueeError as exc:
                log.warning("the built-in service did not start again: %s", exc.message)
                if self._stopping.wait(backoff):
                    return
                backoff = min(30.0, backoff * 2)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10.0)
        self.service.stop()


def content_ready() -> bool:
    """The demo content is built and current: a build by this code would change nothing. After
    an update that changes how the content is made, the next start rebuilds what changed
    (seconds for artwork, minutes for media)."""
    from marquee import paths
    from service.content.state import is_current

    return is_current(paths.content_dir())


def content_outdated() -> bool:
    """There is a complete build, made by another version of the code (``content_ready`` is False)."""
    from marquee import paths

    return (paths.content_dir() / "build.json").exists()


def build_command() -> list[str]:
    """``marquee content build`` as a command, keeping what is there (a ``--quick`` build stays quick).
    ``MARQUEE_DEMO_CONTENT=quick`` asks for the small build (2 titles' videos, under a minute)."""
    from marquee import paths
    from service.content.state import read_build_json

    quick = (bool((read_build_json(paths.content_dir()) or {}).get("quick"))
             or os.environ.get("MARQUEE_DEMO_CONTENT", "").strip().lower() == "quick")
    return [sys.executable, "-m", "marquee", "content", "build", *(["--quick"] if quick else [])]


def announce_build() -> bool:
    """Say on the terminal that the demo content is about to be built, or updated (True)."""
    updating = content_outdated()
    print(f"marquee: {'updating' if updating else 'building'} the demo content (once; up to a few minutes)…",
          file=sys.stderr, flush=True)
    return updating


def build_content() -> bool:
    """Run ``marquee content build`` in a child (its progress bar goes to this terminal)."""
    announce_build()
    rc = subprocess.call(build_command())
    if rc != 0:
        print(f"marquee: the demo content build failed (exit {rc}); titles will not play until it succeeds.",
              file=sys.stderr, flush=True)
    return rc == 0
