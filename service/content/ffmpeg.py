"""The ffmpeg binary of the ``imageio-ffmpeg`` wheel: find it, check it, run it.

The only module that starts ffmpeg. Failures become ``MediaError`` with a message a
person can act on; progress is read from ``-progress pipe:1``.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from marquee.errors import MediaError

log = logging.getLogger("marquee.content.ffmpeg")

REQUIRED_ENCODERS = ("libx264", "aac")
REQUIRED_FILTERS = ("drawtext", "scale", "split", "testsrc2", "gradients", "life", "cellauto", "aevalsrc")
REQUIRED_MUXERS = ("dash",)


@dataclass(frozen=True)
class FfmpegInfo:
    exe: str
    version: str
    encoders: frozenset[str]
    filters: frozenset[str]
    muxers: frozenset[str]

    def missing(self) -> list[str]:
        out = [f"encoder {e}" for e in REQUIRED_ENCODERS if e not in self.encoders]
        out += [f"filter {f}" for f in REQUIRED_FILTERS if f not in self.filters]
        out += [f"muxer {m}" for m in REQUIRED_MUXERS if m not in self.muxers]
        return out


def _fail(message: str) -> MediaError:
    return MediaError(message, user_message="The demo videos cannot be built: " + message, code="ffmpeg_unusable")


def find_ffmpeg() -> str:
    """Path of the wheel's ffmpeg (``IMAGEIO_FFMPEG_EXE`` overrides, as imageio-ffmpeg documents)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a dependency
        raise _fail("the imageio-ffmpeg package is not installed (pip install imageio-ffmpeg)") from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise _fail(f"imageio-ffmpeg has no ffmpeg binary for this platform ({exc})") from exc


def _list(exe: str, what: str) -> str:
    try:
        r = subprocess.run([exe, "-hide_banner", what], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _fail(f"cannot run {exe}: {exc}") from exc
    if r.returncode != 0:
        raise _fail(f"{exe} {what} failed with exit code {r.returncode}: {r.stderr.strip()[-300:]}")
    return r.stdout


def _names(listing: str, pattern: str) -> frozenset[str]:
    return frozenset(m.group(1) for m in re.finditer(pattern, listing, re.MULTILINE))


def probe(exe: str | None = None) -> FfmpegInfo:
    """Run the binary and check it can do the build; raises ``MediaError`` if not."""
    exe = exe or find_ffmpeg()
    if not Path(exe).is_file():
        raise _fail(f"ffmpeg binary not found at {exe}")
    version_line = (_list(exe, "-version").splitlines() or [""])[0]
    version = version_line.split(" Copyright")[0].removeprefix("ffmpeg version ").strip()
    info = FfmpegInfo(
        exe=exe,
        version=version,
        encoders=_names(_list(exe, "-encoders"), r"^\s*[VAS][\w.]{5}\s+(\S+)"),
        filters=_names(_list(exe, "-filters"), r"^\s*[T.][S.C.]?\s*(\S+)\s+\S+->\S+"),
        muxers=_names(_list(exe, "-muxers"), r"^\s*D?E\s+(\S+)"),
    )
    missing = info.missing()
    if missing:
        raise _fail(f"{exe} ({version}) lacks " + ", ".join(missing))
    return info


def run(exe: str, args: Sequence[str], *, cwd: Path, duration_s: float,
        on_progress: Callable[[float], None] | None = None) -> None:
    """Run ffmpeg with ``args``; report the fraction of ``duration_s`` done; raise on failure."""
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y", *args]
    log.debug("ffmpeg %s", " ".join(cmd))
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise _fail(f"cannot start {exe}: {exc}") from exc
    err_chunks: list[str] = []
    drain = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read() if proc.stderr else ""),
                             daemon=True)
    drain.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("out_time_us=") and on_progress is not None:
                value = line.split("=", 1)[1].strip()
                if value.lstrip("-").isdigit():
                    on_progress(min(max(int(value) / 1e6 / duration_s, 0.0), 1.0))
        rc = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    drain.join(timeout=5)
    if rc != 0:
        tail = "".join(err_chunks).strip()[-1500:]
        raise MediaError(f"ffmpeg failed (exit {rc}): {tail}", user_message="Encoding the demo videos failed.",
                         code="ffmpeg_failed")
