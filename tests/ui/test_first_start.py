"""A new user's first start, end to end, as ``./run`` runs it: the real ``marquee`` command from
an empty MARQUEE_HOME under Xvfb, with the quick demo content (``MARQUEE_DEMO_CONTENT=quick``).
The first-start window appears and shows progress, the real content build runs and exits 0,
the profile picker replaces the window, a profile opens the home with rows and artwork, and a
film plays through the engine with a picture that is not black. Nothing on the way may print a
Python traceback or fatal error (the stdin watcher's abort at exit once failed every first start).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.test_e2e import _missing

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.display, pytest.mark.mpv]


def test_first_start_from_an_empty_home_reaches_a_playing_title(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "xcb",
           "MARQUEE_DEMO_CONTENT": "quick"}
    env.pop("MARQUEE_SERVICE", None)
    out = tmp_path / "shots"
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "ui" / "first_start_driver.py"), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=280, cwd=ROOT)
    keep = os.environ.get("MARQUEE_E2E_SHOTS")
    if keep:
        shutil.copytree(out, keep, dirs_exist_ok=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"driver printed no result (exit {proc.returncode}); stderr:\n{proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    failed = [s for s in result["steps"] if not s["ok"]]
    assert result["ok"], f"failed steps: {failed}\nstderr:\n{proc.stderr[-3000:]}"
    assert result["build_exit"] == 0 and result["exit_code"] == 0, result
    for bad in ("Traceback (most recent call last)", "Fatal Python error"):
        assert bad not in proc.stderr, proc.stderr[-3000:]
    assert (out / "first-start-build.png").exists() and (out / "first-start-home.png").exists()
