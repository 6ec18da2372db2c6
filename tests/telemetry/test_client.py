"""Telemetry client units: schema, CMCD, policy, queue caps and drop counter, opt-out,
uploads against the real collector (idempotency, 4xx does not block), playback observer."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from marquee.clock import FakeClock
from player.control import ContentRef, OcaCandidate, PlayRequest
from player.events import PlaybackSnapshot, PlaybackState, Failover, SegmentFetched, Startup
from telemetry import cmcd
from telemetry.client import Telemetry, http_upload
from telemetry.identity import installation_id, reset_installation_id
from telemetry.playback import PlaybackTelemetry
from marquee.backoff import Backoff, classify
from telemetry.policy import BatchPolicy
from telemetry.queue import DurableQueue
from telemetry.schema import SchemaError, make_data, privacy_violations, scrub, validate_batch, validate_event
from tests.telemetry.conftest import Collector

SID = "ab" * 16


def ev(seq: int, kind: str = "startup", **data: Any) -> dict[str, Any]:
    return {"kind": kind, "session_id": SID, "seq": seq, "ts": 1_800_000_000.0 + seq, "t": seq / 10,
            "data": make_data(kind, **(data or {"startup_ms": 100.0 + seq}))}


# --------------------------------------------------------------------- schema
def test_schema_accepts_exactly_its_fields() -> None:
    validate_event(ev(1))
    with pytest.raises(SchemaError):
        make_data("startup", startup_ms=1.0, user="alex")
    with pytest.raises(SchemaError):
        make_data("nope")
    with pytest.raises(SchemaError):
        validate_event({**ev(1), "profile_id": "p1"})
    with pytest.raises(SchemaError):
        validate_event({**ev(1), "data": {"startup_ms": "fast"}})


def test_personal_and_network_data_is_scrubbed_and_refused() -> None:
    reason = scrub("connection failed: http://127.0.0.1:8080/c/tok/m0/seg.m4s for alex@example.com at 10.0.0.7")
    assert "127.0.0.1" not in reason and "@" not in reason and "10.0.0.7" not in reason and "http" not in reason
    data = make_data("failover", from_oca="oca-1", to_oca="oca-2", reason="stalled at 192.168.1.4", cost_ms=5.0)
    assert "192.168" not in data["reason"]
    batch = {"schema": 1, "batch_id": "1" * 32, "installation_id": "2" * 32, "sent_at": 1.0, "app": "marquee/0.1",
             "dropped_total": 0, "rejected_total": 0, "events": [ev(1)]}
    validate_batch(batch)
    bad = json.loads(json.dumps(batch))
    bad["events"][0]["kind"] = "failover"
    bad["events"][0]["data"] = {"from_oca": "a", "to_oca": "b", "reason": "x@y.org", "cost_ms": 1.0}
    assert privacy_violations(bad)
    with pytest.raises(SchemaError):
        validate_batch(bad)


def test_installation_id_is_random_and_resettable(tmp_path: Path) -> None:
    path = tmp_path / "iid"
    first = installation_id(path)
    assert installation_id(path) == first and len(first) == 32
    assert reset_installation_id(path) != first
    assert installation_id(path) != first


# --------------------------------------------------------------------- CMCD
def test_cmcd_encoding_headers_and_query() -> None:
    data = cmcd.CmcdData(session_id="s1", object_type="v", bitrate_kbps=3200.4, buffer_ms=12_345,
                         duration_ms=4000, throughput_kbps=25_449, startup=True)
    assert cmcd.encode(data.pairs()) == 'bl=12300,br=3200,d=4000,mtp=25400,ot=v,sf=d,sid="s1",st=v,su'
    headers = cmcd.as_headers(data)
    assert headers == {"CMCD-Object": "br=3200,d=4000,ot=v", "CMCD-Request": "bl=12300,mtp=25400,su",
                       "CMCD-Session": 'sf=d,sid="s1",st=v'}
    query = cmcd.as_query(data)
    assert query.startswith("CMCD=bl%3D12300%2Cbr%3D3200")
    assert cmcd.decode(cmcd.encode(data.pairs()))["sid"] == "s1"
    assert cmcd.object_type("init v3", "") == "i" and cmcd.object_type("video 4 @ 2", "") == "v"
    assert cmcd.object_type("subtitles en", "") == "c" and cmcd.object_type("audio 3", "") == "a"


# --------------------------------------------------------------------- policy
def test_batch_policy_backoff_and_classification() -> None:
    p = BatchPolicy(max_events=512, max_wait_s=5.0)
    assert not p.due(0, None) and not p.due(10, 1.0) and p.due(512, 0.0) and p.due(1, 5.0) and p.due(1, 0.0, True)
    b, rng = Backoff(base_s=0.5, cap_s=8.0, floor_s=0.0), random.Random(1)
    for attempt in range(10):
        assert 0.0 <= b.delay(attempt, rng) <= min(8.0, 0.5 * 2**attempt)
    assert max(b.delay(9, rng) for _ in range(200)) > 4.0  # it grows, with jitter
    assert classify(200) == "ack" and classify(400) == "reject" and classify(413) == "reject"
    assert classify(429) == "retry" and classify(500) == "retry" and classify(None) == "retry"


# --------------------------------------------------------------------- queue
def test_queue_cap_drops_oldest_and_counts(tmp_path: Path) -> None:
    q = DurableQueue(tmp_path / "q.sqlite3", max_events=100, max_age_s=1000)
    q.append([ev(i) for i in range(1, 61)], 10.0)
    batch = q.next_batch(20, 10.0)
    assert batch is not None and [e["seq"] for e in batch.events] == list(range(1, 21))
    dropped = q.append([ev(i) for i in range(61, 151)], 11.0)
    stats = q.stats()
    assert dropped == 50 and stats.waiting == 100 and stats.dropped_total == 50
    nxt = q.next_batch(20, 11.0)  # the open batch was dropped whole: a new one from the oldest left
    assert nxt is not None and nxt.batch_id != batch.batch_id and nxt.events[0]["seq"] == 51
    # age cap
    dropped = q.append([ev(151)], 2000.0)
    assert dropped == 100 and q.stats().waiting == 1 and q.counters() == (150, 0)
    q.close()


def test_queue_survives_reopen_with_same_batch(tmp_path: Path) -> None:
    q = DurableQueue(tmp_path / "q.sqlite3")
    q.append([ev(i) for i in range(1, 11)], 1.0)
    first = q.next_batch(4, 1.0)
    q.close()
    q = DurableQueue(tmp_path / "q.sqlite3")
    again = q.next_batch(4, 2.0)
    assert again == first
    assert q.reject(first.batch_id) == 4 and q.counters() == (0, 4)
    q.close()


# --------------------------------------------------------------------- client + collector
def test_upload_is_idempotent_and_a_bad_batch_does_not_block(collector: Collector, tmp_path: Path) -> None:
    tele = Telemetry(http_upload(collector.url), path=tmp_path / "q.sqlite3", installation_id="3" * 32,
                     policy=BatchPolicy(max_events=5, max_wait_s=0.05))
    tele.record_durable([ev(i) for i in range(1, 13)])
    # a malformed event in the queue (e.g. from an older client): its batch gets a 400
    tele.queue.append([{"kind": "startup", "session_id": SID, "seq": 99, "ts": 1.0, "t": 0.0, "data": {}}], 2.0)
    assert tele.flush(10)
    rejected = tele.queue.counters()[1]
    tele.close()
    assert rejected == 3
    rows = collector.store.telemetry_events()
    assert sorted(r["seq"] for r in rows) == list(range(1, 11))  # the batch with seq 11, 12, 99 was refused
    counts = collector.store.telemetry_counts()
    assert counts["events"] == 10
    # the same batch twice is stored once
    doc = {"schema": 1, "batch_id": "9" * 32, "installation_id": "3" * 32, "sent_at": 1.0, "app": "t",
           "dropped_total": 0, "rejected_total": 3, "events": [ev(200)]}
    for _ in range(2):
        r = httpx.post(collector.url + "/v1/telemetry/batches", content=gzip.compress(json.dumps(doc).encode()),
                       headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        assert r.status_code == 200
    assert r.json()["stored"] is False
    assert collector.store.telemetry_counts()["events"] == 11
    assert collector.store.telemetry_counts()["client_rejected"] == 3


def test_opt_out_stops_collection_and_deletes_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    tele = Telemetry(None, path=path, installation_id="4" * 32)
    tele.record(ev(1))
    assert tele.wait_written(5) and path.exists()
    tele.opt_out()
    assert not path.exists() and not Path(str(path) + "-wal").exists()
    tele.record(ev(2))  # ignored
    assert not path.exists()
    off = Telemetry(None, path=path, enabled=False)
    off.record(ev(3))
    off.flush()
    assert not path.exists()


# --------------------------------------------------------------------- playback observer
def test_playback_observer_maps_engine_events(tmp_path: Path) -> None:
    clock = FakeClock()
    got: list[dict[str, Any]] = []
    obs = PlaybackTelemetry(got.append, clock=clock, heartbeat_s=10, cmcd="headers")
    req = PlayRequest(manifest_url="http://h/m.mpd", manifest_path="manifest.mpd", start_s=0.0,
                      content=ContentRef("p1", "t003", "t003-s1e01"),
                      ocas=(OcaCandidate("oca-1", "http://h/"),))
    req2 = obs.start(req)
    assert req2.extra_headers is not None
    obs.on_event(Startup(0.5, startup_ms=500.0))
    snap = PlaybackSnapshot(state=PlaybackState.PLAYING, position_s=1.0, duration_s=16, buffer_s=8.0,
                            bitrate_kbps=3000, throughput_kbps=20000, oca="oca-1")
    obs.on_snapshot(snap)
    obs.on_event(SegmentFetched(1.0, media="video", index=0, rung=3, bytes=1000, seconds=0.1, ttfb_s=0.0,
                                oca="oca-1", throughput_kbps=80.0, bitrate_kbps=3000.0, start_s=0.0, duration_s=4.0))
    obs.on_event(Failover(2.0, from_oca="oca-1", to_oca="oca-2", reason="connection failed: http://127.0.0.1:9/x",
                          cost_ms=40.0))
    clock.advance(11)
    obs.on_snapshot(snap)
    headers = req2.extra_headers(type("T", (), {"label": "video 1 @ 3", "url": "v/1.m4s"})())
    assert f'sid="{obs.session_id}"' in headers["CMCD-Session"] and "ot=v" in headers["CMCD-Object"]
    obs.end()
    kinds = [e["kind"] for e in got]
    assert kinds == ["attempt", "startup", "segment", "failover", "heartbeat", "session_end"]
    assert [e["seq"] for e in got] == list(range(1, 7)) and len({e["session_id"] for e in got}) == 1
    assert got[0]["data"]["title_id"] == "t003" and "127.0.0.1" not in got[3]["data"]["reason"]
    assert got[-1]["data"]["failovers"] == 1 and got[-1]["data"]["startup_ms"] == 500.0
    for e in got:
        validate_event(e)
    # a session that never started
    got.clear()
    obs.start(req)
    obs.end()
    assert [e["kind"] for e in got] == ["attempt", "exit_before_start", "session_end"]
