"""End to end under Xvfb: the real app, the embedded service, real mpv.

Runs ``tests/ui/e2e_driver.py`` in a subprocess with QT_QPA_PLATFORM=xcb (the test
session itself is offscreen) against the embedded service on the ``quick_content``
build (shared, cached by the builder's code). Needs a display (./test runs pytest under
xvfb-run) and libmpv. Besides streaming, it downloads the film from its page and plays
it from the Downloads page (offline path: license check, decrypting transport).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.display, pytest.mark.mpv]


def _missing() -> str | None:
    if not os.environ.get("DISPLAY"):
        return "no X display (run ./test, which uses xvfb-run)"
    if not (ROOT / "assets" / "catalog.json").exists():
        return "assets/catalog.json is not there yet"
    try:
        import service.content  # noqa: F401
    except ImportError:
        return "the content builder (service.content) is not there yet"
    try:
        import mpv  # noqa: F401
    except (ImportError, OSError):
        return "libmpv is not installed"
    return None


def test_pick_profile_open_title_play_and_see_video(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    content = request.getfixturevalue("quick_content")
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "xcb",
           "MARQUEE_KEY_PASSPHRASE": "e2e passphrase"}  # no OS keystore under Xvfb
    out = tmp_path / "shots"
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "ui" / "e2e_driver.py"), "--out", str(out),
                           "--content", str(content), "--downloads", "--timeout", "60"],
                          env=env, capture_output=True, text=True, timeout=280, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"driver printed no result; stderr:\n{proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    keep = os.environ.get("MARQUEE_E2E_SHOTS")
    if keep:
        shutil.copytree(out, keep, dirs_exist_ok=True)
    failed = [s for s in result["steps"] if not s["ok"]]
    assert result["ok"], f"failed steps: {failed}\nstderr:\n{proc.stderr[-3000:]}"
    names = [s["step"] for s in result["steps"]]
    assert "stream: video not black" in names and "offline: video not black" in names
    assert (out / "player.png").stat().st_size > 10_000
    assert (out / "stream-video-frame.png").exists() and (out / "offline-video-frame.png").exists()
