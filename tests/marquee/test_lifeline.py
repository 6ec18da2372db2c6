"""``marquee.lifeline``: a child guarded by its stdin stops when its parent is gone, and the
watcher never crashes a child that finished its work with its stdin still open (it used to
abort with "Fatal Python error: _enter_buffered_busy", exit 134, at interpreter shutdown)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _child(body: str, *, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    code = textwrap.dedent("""
        import sys, time
        from marquee.lifeline import interrupt_main_thread, on_stdin_eof
    """) + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            preexec_fn=_ignore_sigint if sigint_ignored else None)


def test_a_child_that_finishes_with_its_stdin_open_exits_cleanly() -> None:
    proc = _child("""
        on_stdin_eof(interrupt_main_thread)
        time.sleep(0.2)
        print("done", flush=True)
    """)
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    assert proc.wait(timeout=30) == 0, proc.stderr.read()  # its stdin is still open
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdin.close()
    assert out.strip() == "done"
    assert "Fatal Python error" not in err and "Traceback" not in err


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-ignored"])
def test_a_child_blocked_in_a_system_call_stops_when_its_parent_goes(sigint_ignored: bool) -> None:
    """Also when SIGINT was ignored at start, as in a shell's background job (CI runs so)."""
    if sigint_ignored and sys.platform == "win32":
        pytest.skip("POSIX signal dispositions")
    proc = _child("""
        import os
        on_stdin_eof(interrupt_main_thread)
        r, w = os.pipe()
        try:
            print("ready", flush=True)  # inside the try: the interrupt may come at once
            os.read(r, 1)  # blocks forever: nothing writes to w
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """, sigint_ignored=sigint_ignored)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.stdin.close()  # what the parent's death does to the pipe
    assert proc.wait(timeout=30) == 130
    assert proc.stdout.read().strip() == "interrupted"


def test_a_child_that_ignores_the_stop_is_ended_after_the_grace_period() -> None:
    proc = _child("""
        on_stdin_eof(lambda: None, grace_s=0.2, exit_code=7)
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    """)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.stdin.close()
    assert proc.wait(timeout=10) == 7


def test_no_stdin_at_all_is_not_an_error() -> None:
    proc = subprocess.run([sys.executable, "-c", "from marquee.lifeline import on_stdin_eof;"
                           "import sys; sys.stdin.close(); on_stdin_eof(lambda: None).join(1)"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=30)
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_serve_with_its_stdin_open_exits_cleanly_on_sigterm_and_on_eof(tmp_path: Path,
                                                                     quick_content: Path) -> None:
    env = {**os.environ, "MARQUEE_HOME": str(tmp_path / "home")}
    for ending in ("sigterm", "eof"):
        proc = subprocess.Popen([sys.executable, "-m", "marquee", "serve", "--port", "0", "--ocas", "1",
                                 "--content", str(quick_content), "--watch-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("http://")
        if ending == "sigterm":
            proc.send_signal(signal.SIGTERM)
        else:
            proc.stdin.close()
        started = time.monotonic()
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
        assert time.monotonic() - started < 10
        err = proc.stderr.read()
        assert "Fatal Python error" not in err and "Traceback" not in err, err
        if ending == "sigterm":
            proc.stdin.close()
