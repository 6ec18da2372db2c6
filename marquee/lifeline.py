"""A child that dies with its parent: the parent holds the child's stdin open and never writes;
when the parent exits, even by ``kill -9``, the pipe closes and the child sees end-of-file.
``marquee serve`` and ``marquee content build`` take ``--watch-stdin`` for this.

The watcher must never be able to crash the process it guards. It reads the raw file
descriptor with ``os.read``: ``sys.stdin.buffer.read`` holds the buffered reader's lock while
it blocks, and a daemon thread holding that lock at interpreter shutdown aborts the process
("Fatal Python error: _enter_buffered_busy", exit 134) after its work was done.

Per platform:
- Linux and macOS: ``os.read`` on the pipe returns ``b""`` when the parent is gone. The main
  thread is then interrupted with a real SIGINT aimed at it (``pthread_kill``), so a blocking
  system call there (a read of ffmpeg's output, a ``wait``) returns at once with
  ``KeyboardInterrupt`` instead of when it would have returned anyway.
- Windows: ``os.read`` on the pipe fails with ``BrokenPipeError`` or returns ``b""`` when the
  parent is gone; ``pthread_kill`` does not exist, so ``_thread.interrupt_main`` raises
  ``KeyboardInterrupt`` at the main thread's next bytecode.

Should the guarded process still be alive ``grace_s`` after the stop was asked for (its main
thread stuck in something that does not return), it exits with ``os._exit``: a process whose
parent is gone must not linger.
"""

from __future__ import annotations

import _thread
import logging
import os
import signal
import sys
import threading
from typing import Callable

log = logging.getLogger("marquee.lifeline")

GRACE_S = 10.0


def interrupt_main_thread() -> None:
    """Raise ``KeyboardInterrupt`` in the main thread, waking it from a blocking system call
    where the platform can (POSIX)."""
    pthread_kill = getattr(signal, "pthread_kill", None)
    main = threading.main_thread().ident
    if pthread_kill is not None and main is not None and callable(signal.getsignal(signal.SIGINT)):
        pthread_kill(main, signal.SIGINT)  # Python's handler runs in the main thread: KeyboardInterrupt
    else:
        _thread.interrupt_main()


def on_stdin_eof(then: Callable[[], object], *, grace_s: float = GRACE_S,
                 exit_code: int = 130) -> threading.Thread:
    """Call ``then`` (from a daemon thread) once stdin reaches end-of-file; if the process has
    not ended ``grace_s`` later, end it with ``exit_code``."""
    if threading.current_thread() is threading.main_thread() and not callable(signal.getsignal(signal.SIGINT)):
        # A shell's background job inherits SIGINT ignored, and Python then leaves it ignored:
        # the interrupt above would do nothing. This process's life is the lifeline's to end.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # no stdin at all: nothing can tell us
        fd = -1

    def watch() -> None:
        if fd < 0:
            return
        try:
            while os.read(fd, 4096):
                pass
        except OSError:  # Windows: the pipe's writer is gone
            pass
        log.info("stdin closed: the parent process is gone; stopping")
        try:
            then()
        except Exception:  # the process is on its way out anyway: never a traceback from here
            log.debug("stop callback failed", exc_info=True)
        timer = threading.Timer(grace_s, os._exit, args=(exit_code,))
        timer.daemon = True
        timer.start()

    thread = threading.Thread(target=watch, name="stdin-watch", daemon=True)
    thread.start()
    return thread
