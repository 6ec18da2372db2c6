"""Tools of the downloads fault-injection suite: a small disk (a tmpfs where the test may mount
one), a disk filled to 0 bytes, a byte counter on the OCAs, the CLI as a subprocess, the
service's view of this device's licenses, and a process's CPU time."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
KILL_AT = Path(__file__).with_name("kill_at.py")


@contextlib.contextmanager
def small_disk(path: Path, size_mb: int) -> Iterator[bool]:
    """Mount a ``size_mb`` tmpfs at ``path`` if this process may (root, ``mount`` allowed: CI
    containers often refuse); yields whether it did. Otherwise ``path`` is a plain folder and
    the caller uses the fault-injecting file layer instead."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") and sys.platform.startswith("linux"):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(path)],
                           capture_output=True, timeout=10)
        mounted = r.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)


def fill(folder: Path, keep_bytes: int = 0) -> Path:
    """Write a ballast file until the disk has ``keep_bytes`` (or nothing) left."""
    ballast = folder / "ballast.bin"
    chunk = b"\0" * (1 << 20)
    with open(ballast, "ab") as fh:
        while True:
            free = shutil.disk_usage(folder).free
            if free <= keep_bytes:
                break
            try:
                fh.write(chunk[: max(4096, min(len(chunk), free - keep_bytes))])
                fh.flush()
            except OSError:
                break
    if keep_bytes == 0:  # small leftovers (a block here and there): take them too
        with contextlib.suppress(OSError), open(folder / "ballast-2.bin", "ab") as fh:
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
    return ballast


def env_for(home: Path, service_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MARQUEE_HOME=str(home), MARQUEE_KEY_PASSPHRASE="pass phrase",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", PYTHONPATH=str(ROOT))
    env.pop("MARQUEE_LICENSE_PUBKEY", None)
    env.pop("MARQUEE_SERVICE", None)
    if service_url:
        env["MARQUEE_SERVICE"] = service_url
    return env


def marquee(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "marquee", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def journal_rows(home: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{home / 'data' / 'downloads.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def done_paths(home: Path, did: str) -> set[str]:
    try:
        return {r[0] for r in journal_rows(home, "SELECT path FROM files WHERE download_id=? AND done=1", (did,))}
    except sqlite3.Error:
        return set()


def wait_for(cond: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)


class OcaBytes:
    """Counts the body bytes every OCA sends, per stored path (``/c/<token>/<media>/<path>``)."""

    def __init__(self, svc: Any) -> None:
        self.bytes: Counter[str] = Counter()
        self.fetches: Counter[str] = Counter()
        for node in svc.runtime.ocas:
            node._handle = self._spy(node._handle)

    def _spy(self, original: Any) -> Any:
        async def spy(scope: Any, receive: Any, send: Any) -> None:
            path = scope["path"].split("/", 4)[-1]
            self.fetches[path] += 1

            async def counted(message: Any) -> None:
                if message.get("type") == "http.response.body":
                    self.bytes[path] += len(message.get("body", b""))
                await send(message)

            await original(scope, receive, counted)

        return spy

    def reset(self) -> None:
        self.bytes.clear()
        self.fetches.clear()


def active_licenses(svc: Any, device_id: str) -> list[dict[str, Any]]:
    """The service's active licenses of ``device_id`` (read from its store)."""
    rows = svc.runtime.store._rows("SELECT id, content_id, state, device_id FROM licenses")
    return [dict(r) for r in rows if r["device_id"] == device_id and r["state"] == "active"]


def issued(svc: Any, content_id: str) -> int:
    return len(svc.runtime.store._rows("SELECT id FROM licenses WHERE content_id=?", (content_id,)))


def device_id(home: Path) -> str:
    return (home / "data" / "device_id").read_text().strip()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(home: Path) -> int | None:
    try:
        text = (home / "data" / "downloads.lock").read_text().strip()
        return int(text) if text and Path(f"/proc/{text}").exists() else None
    except (OSError, ValueError):
        return None
