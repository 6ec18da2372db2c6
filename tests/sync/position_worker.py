"""A player process for the crash test: plays t004 (fake snapshots, 10 a second, real time)
with no network, recording positions locally until it is killed.

    python tests/sync/position_worker.py DB PROFILE_ID
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.control import ContentRef, PlayRequest  # noqa: E402
from player.events import PlaybackSnapshot, PlaybackState  # noqa: E402
from sync.client import ProgressSync  # noqa: E402
from sync.store import LocalStore  # noqa: E402


def main() -> int:
    db, pid = sys.argv[1], sys.argv[2]
    sync = ProgressSync(None, store=LocalStore(db))
    sync.start(PlayRequest(manifest_url="http://x/m.mpd", content=ContentRef(pid, "t004")))
    print("playing", flush=True)
    started = time.monotonic()
    while True:
        position = 600.0 + (time.monotonic() - started)
        sync.on_snapshot(PlaybackSnapshot(state=PlaybackState.PLAYING, position_s=position, duration_s=5400.0))
        time.sleep(0.1)


if __name__ == "__main__":
    raise SystemExit(main())
