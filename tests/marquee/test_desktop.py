from __future__ import annotations

import subprocess
import sys

from app.desktop import has_display


def test_display_detection() -> None:
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "darwin") and has_display({}, "win32")


def test_no_display_is_a_clear_message_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "MARQUEE_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "marquee"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no display found" in proc.stderr and "xvfb-run" in proc.stderr
    assert "Traceback" not in proc.stderr
