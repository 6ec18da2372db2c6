"""``marquee content build --watch-stdin``: the build stops when the process that started it is
gone (its end of the stdin pipe closed), ffmpeg included, and leaves no build.json."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_build_stops_when_its_stdin_closes(tmp_path: Path) -> None:
    out = tmp_path / "content"
    proc = subprocess.Popen([sys.executable, "-m", "marquee", "content", "build", "--quick", "--out", str(out),
                             "--watch-stdin"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MARQUEE_HOME": str(tmp_path / "home")})
    assert proc.stdin is not None and proc.stderr is not None
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and time.monotonic() < deadline:  # ffmpeg is encoding
        time.sleep(0.05)
    encoder = _children(proc.pid)
    assert encoder, "the build never started ffmpeg"
    proc.stdin.close()  # what the app's death does to the pipe
    assert proc.wait(timeout=30) == 130
    assert "stopped" in proc.stderr.read()
    assert not (out / "build.json").exists()
    for pid in encoder:
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
