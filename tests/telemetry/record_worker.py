"""A client process for the crash tests: records COUNT telemetry events durably while its
uploader sends them to the collector; prints ``committed <seq>`` after each commit (so the
parent knows what counts as recorded), then ``done`` once everything is uploaded.

    python tests/telemetry/record_worker.py QUEUE URL SESSION_ID COUNT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from telemetry.client import Telemetry, http_upload  # noqa: E402
from marquee.backoff import Backoff  # noqa: E402
from telemetry.policy import BatchPolicy  # noqa: E402
from telemetry.schema import make_data  # noqa: E402

INSTALLATION = "0123456789abcdef0123456789abcdef"


def main() -> int:
    queue_path, url, session_id, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tele = Telemetry(http_upload(url, timeout=1.0), path=queue_path, installation_id=INSTALLATION,
                     policy=BatchPolicy(max_events=200, max_wait_s=0.2),
                     backoff=Backoff(base_s=0.05, cap_s=0.4, floor_s=0.02))
    group = 10
    for start in range(1, count + 1, group):
        events = [{"kind": "heartbeat", "session_id": session_id, "seq": seq, "ts": time.time(), "t": seq / 10,
                   "data": make_data("heartbeat", position_s=seq / 10, buffer_s=10.0, bitrate_kbps=3000.0,
                                     state="playing", oca="oca-1")}
                  for seq in range(start, min(start + group, count + 1))]
        tele.record_durable(events)
        print(f"committed {events[-1]['seq']}", flush=True)
        time.sleep(0.004)
    while not tele.flush(timeout=5.0):
        pass
    print("done", flush=True)
    tele.close(1.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
