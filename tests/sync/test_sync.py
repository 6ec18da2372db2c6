"""Two devices against the real service: offline queue, late reports, skewed clocks,
rewatch, watched threshold, and the local record surviving ``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from player.events import PlaybackSnapshot, PlaybackState, Seek
from service.server import ServiceThread
from sync.client import ProgressSync
from sync.store import ContentKey, LocalStore
from marquee.backoff import Backoff
from tests.sync.conftest import Device, SkewedClock

WORKER = Path(__file__).with_name("position_worker.py")


def make_sync(tmp_path: Path, name: str, device: Device, clock: Any = None) -> ProgressSync:
    return ProgressSync(device.transport, store=LocalStore(tmp_path / f"{name}.sqlite3"), clock=clock,
                        backoff=Backoff(base_s=0.05, cap_s=0.2))


def service_position(device: Device, pid: str, title: str) -> dict[str, Any]:
    return device.client.progress(pid, title)["progress"][0]


def test_two_devices_converge_and_a_late_offline_report_does_not_clobber(service: ServiceThread,
                                                                          tmp_path: Path) -> None:
    # A's clock is an hour fast and A has never synced: the service corrects with the request's offset
    a = Device(service.url, "dev-A", SkewedClock(3600))
    b = Device(service.url, "dev-B")
    pid = a.client.profiles()[0].id
    key = ContentKey(pid, "t005")
    sa, sb = make_sync(tmp_path, "a", a, SkewedClock(3600)), make_sync(tmp_path, "b", b)
    try:
        a.online = False
        sa.record_now(key, 2400.0, 5400.0, "stopped")  # watched on the train, offline
        assert not sa.flush(2) and sa.store.pending_count() == 1
        time.sleep(0.05)
        sb.record_now(key, 700.0, 5400.0, "stopped")  # later, at home
        assert sb.flush(5)
        a.online = True  # A comes back: its queued (older) report must not win
        assert sa.flush(5) and sa.store.pending_count() == 0
        for dev in (a, b):
            pos = service_position(dev, pid, "t005")
            assert pos["position_s"] == 700.0 and pos["device_id"] == "dev-B"
        assert sa.store.offset_s() is not None and abs(sa.store.offset_s() + 3600) < 5  # measured at the sync
        # A watches again (newer): now A's position wins everywhere, backwards is fine too
        sa.record_now(key, 650.0, 5400.0, "paused")
        assert sa.flush(5)
        assert service_position(b, pid, "t005")["position_s"] == 650.0
    finally:
        sa.close()
        sb.close()


def test_offline_reports_flush_in_order_when_the_service_returns(service: ServiceThread, tmp_path: Path) -> None:
    a = Device(service.url, "dev-C")
    pid = a.client.profiles()[1].id
    key = ContentKey(pid, "t003", "t003-s1e02")
    s = make_sync(tmp_path, "c", a)
    try:
        a.online = False
        for pos in (100.0, 200.0, 300.0, 50.0):  # the last one is a rewatch from near the start
            s.record_now(key, pos, 1500.0, "paused")
            time.sleep(0.01)
        assert not s.flush(1) and s.store.pending_count() == 4
        a.online = True
        assert s.flush(5)
        assert service_position(a, pid, "t003")["position_s"] == 50.0  # the newest, not the largest
    finally:
        s.close()


def test_engine_observer_path_and_watched_threshold_moves_to_next_episode(service: ServiceThread,
                                                                          tmp_path: Path) -> None:
    from player.control import ContentRef, PlayRequest

    a = Device(service.url, "dev-D")
    pid = a.client.profiles()[2].id
    s = make_sync(tmp_path, "d", a)
    try:
        s.start(PlayRequest(manifest_url="http://x/m.mpd", content=ContentRef(pid, "t006", "t006-s1e01")))
        snap = PlaybackSnapshot(state=PlaybackState.PLAYING, position_s=600.0, duration_s=1000.0)
        s.on_snapshot(snap)
        s.on_event(Seek(1.0, from_s=600.0, to_s=930.0))
        s.on_snapshot(PlaybackSnapshot(state=PlaybackState.PAUSED, position_s=930.0, duration_s=1000.0))
        assert s.flush(5)
        assert service_position(a, pid, "t006")["watched"] is True
        rows = a.client.rows(pid)
        cont = next(r for r in rows if r.id == "continue")
        item = next(i for i in cont.items if i.title_id == "t006")
        assert item.episode_id == "t006-s1e02"
        s.end()
    finally:
        s.close()


def test_last_local_record_survives_kill_9_and_is_sent_at_next_start(service: ServiceThread, tmp_path: Path) -> None:
    a = Device(service.url, "dev-E")
    pid = a.client.profiles()[3].id
    db = tmp_path / "e.sqlite3"
    proc = subprocess.Popen([sys.executable, str(WORKER), str(db), pid], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "playing"
    time.sleep(4.5)
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    store = LocalStore(db)
    last = store.position(ContentKey(pid, "t004"))
    assert last is not None and killed_at - last["client_time"] <= 3.5  # at most a few seconds old
    assert store.pending_count() <= 1  # the first report (due 3 s in) waits in the outbox: no network
    store.close()
    s = ProgressSync(a.transport, store=LocalStore(db))  # next start: recovers and sends it
    try:
        assert s.flush(5)
        assert service_position(a, pid, "t004")["position_s"] == last["position_s"]
    finally:
        s.close()
