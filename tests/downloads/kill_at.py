"""``python kill_at.py STEP marquee-args...``: run the ``marquee`` CLI and ``kill -9`` itself
at STEP of ``download add``: ``before_request`` (the license asked for, not answered),
``after_license`` (the license issued, before the journal row) or ``after_first_file``
(the first batch of fetched files recorded). A real SIGKILL: no ``finally`` runs."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    step, argv = sys.argv[1], sys.argv[2:]
    from downloads.journal import Journal
    from downloads.online import OnlineLink

    acquire = OnlineLink.acquire
    if step == "before_request":
        def before(self: Any, *a: Any, **k: Any) -> Any:
            die()

        OnlineLink.acquire = before  # type: ignore[method-assign]
    elif step == "after_license":
        def after(self: Any, *a: Any, **k: Any) -> Any:
            acquire(self, *a, **k)
            die()

        OnlineLink.acquire = after  # type: ignore[method-assign]
    elif step == "after_first_file":
        mark = Journal.mark_done_many

        def marked(self: Any, did: str, done: Any) -> None:
            mark(self, did, done)
            if any(item[3] is not None for item in done):  # a fetched file (in the pack), not a manifest
                die()

        Journal.mark_done_many = marked  # type: ignore[method-assign, assignment]
    else:
        raise SystemExit(f"unknown step {step!r}")
    from app.cli import main as marquee_main

    return marquee_main(argv)


if __name__ == "__main__":
    sys.exit(main())
