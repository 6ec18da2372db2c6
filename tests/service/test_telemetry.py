"""QoE collector: gzip batches stored once, validation, fault switch, summary and dashboard."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

from service.telemetry_store import fold_sessions, metrics, percentile
from telemetry.schema import make_data

DAY1, DAY2 = 1_800_000_000.0, 1_800_000_000.0 + 86400


def event(sid: str, seq: int, kind: str, ts: float, **data: Any) -> dict[str, Any]:
    return {"kind": kind, "session_id": sid, "seq": seq, "ts": ts, "t": float(seq), "data": make_data(kind, **data)}


def session(title: str, oca: str, startup: float, stall_ms: float, played: float, ts: float,
            switches: int = 0, failovers: int = 0, kbps: float = 3000.0) -> list[dict[str, Any]]:
    sid = uuid.uuid4().hex
    evs = [event(sid, 1, "attempt", ts, title_id=title, episode_id=None, start_s=0.0, protocol="dash", network=""),
           event(sid, 2, "startup", ts + 1, startup_ms=startup)]
    for i in range(3):
        evs.append(event(sid, 3 + i, "segment", ts + 2 + i, rung=3, bytes=10_000, download_ms=50.0, oca=oca,
                         throughput_kbps=9000.0, bitrate_kbps=kbps))
    evs.append(event(sid, 6, "session_end", ts + 10, startup_ms=startup, played_s=played, stall_count=1,
                     stall_ms=stall_ms, switches=switches, avg_bitrate_kbps=kbps, failovers=failovers, errors=0,
                     ok=True, reason="stopped"))
    return evs


def batch(events: list[dict[str, Any]], batch_id: str | None = None) -> dict[str, Any]:
    return {"schema": 1, "batch_id": batch_id or uuid.uuid4().hex, "installation_id": "5" * 32, "sent_at": DAY2,
            "app": "marquee/0.1", "dropped_total": 2, "rejected_total": 0, "events": events}


def post(client: Any, doc: Any, raw: bytes | None = None) -> Any:
    body = raw if raw is not None else gzip.compress(json.dumps(doc).encode())
    return client.post("/v1/telemetry/batches", content=body,
                       headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


def test_batches_are_stored_once_and_bad_ones_refused(app_client: Any) -> None:
    doc = batch(session("t001", "oca-1", 300, 0, 60, DAY1))
    r1, r2 = post(app_client, doc), post(app_client, doc)
    assert r1.status_code == 200 and r1.json()["stored"] is True
    assert r2.status_code == 200 and r2.json()["stored"] is False
    assert post(app_client, None, b"not gzip").status_code == 400
    assert post(app_client, None, gzip.compress(b"{nope")).status_code == 400
    leak = batch([event(uuid.uuid4().hex, 1, "error", DAY1, category="network", code="x", recoverable=True)])
    leak["events"][0]["data"]["code"] = "alex@example.com"
    assert post(app_client, leak).json()["error"]["code"] == "invalid_batch"
    assert post(app_client, {**doc, "schema": 2}).status_code == 400
    bomb = gzip.compress(b" " * (20 << 20))
    assert post(app_client, None, bomb).status_code == 413
    summary = app_client.get("/v1/telemetry/summary").json()
    assert summary["collector"]["batches"] == 1 and summary["collector"]["client_dropped"] == 2


def test_fault_switch_is_admin_only_and_works(app_client: Any) -> None:
    assert app_client.put("/v1/admin/telemetry/faults", json={"status": 200}).status_code == 400
    assert app_client.put("/v1/admin/telemetry/faults", json={"status": 500}).status_code == 200
    doc = batch(session("t001", "oca-1", 300, 0, 60, DAY1))
    assert post(app_client, doc).status_code == 500
    app_client.put("/v1/admin/telemetry/faults", json={"status_after_store": 503})
    assert post(app_client, doc).status_code == 503  # stored, answer lost
    app_client.delete("/v1/admin/telemetry/faults")
    assert post(app_client, doc).json()["stored"] is False  # the retry is a duplicate
    counters = app_client.get("/v1/admin/telemetry/faults").json()["counters"]
    assert counters == {"requests": 3, "stored": 1, "duplicates": 1, "rejected": 0, "faulted": 2}


def test_summary_per_oca_title_day(app_client: Any) -> None:
    events = (session("t001", "oca-1", 200, 1000, 99, DAY1, switches=2)
              + session("t001", "oca-1", 400, 0, 100, DAY1)
              + session("t002", "oca-2", 1000, 5000, 45, DAY2, failovers=1, kbps=1000))
    post(app_client, batch(events[:10]))
    post(app_client, batch(events[10:]))
    s = app_client.get("/v1/telemetry/summary").json()
    o1, o2 = s["by_oca"]["oca-1"], s["by_oca"]["oca-2"]
    assert o1["sessions"] == 2 and o1["startup_ms"]["p50"] == 300.0 and o2["failovers"] == 1
    assert abs(o1["rebuffer_ratio"] - 1 / 200) < 1e-4  # 1 s stalled over 199 s played + 1 s
    assert o1["switches_per_hour"] == round(2 / (199 / 3600), 2)
    assert s["by_title"]["t002"]["avg_bitrate_kbps"] == 1000.0
    assert list(s["by_day"]) == ["2027-01-15", "2027-01-16"]
    assert s["overall"]["sessions"] == 3
    day2 = app_client.get("/v1/telemetry/summary", params={"since": "2027-01-16"}).json()
    assert day2["overall"]["sessions"] == 1
    assert app_client.get("/v1/telemetry/summary", params={"since": "yesterday"}).status_code == 400
    page = app_client.get("/v1/telemetry/dashboard")
    assert page.status_code == 200 and page.text.count("data:image/png;base64,") >= 3 and "oca-2" in page.text


def test_fold_without_session_end_uses_raw_events() -> None:
    sid = uuid.uuid4().hex
    rows = [{"session_id": sid, "kind": e["kind"], "day": "d", "data": {"t": 0, **e["data"]}} for e in [
        event(sid, 1, "attempt", DAY1, title_id="t9", episode_id=None, start_s=10.0, protocol="dash", network=""),
        event(sid, 2, "exit_before_start", DAY1, waited_ms=900.0, reason="stopped"),
        event(sid, 3, "stall_end", DAY1, stall_ms=250.0, buffer_s=1.0, throughput_kbps=100.0),
        event(sid, 4, "heartbeat", DAY1, position_s=70.0, buffer_s=3.0, bitrate_kbps=800.0, state="playing", oca="a"),
    ]]
    (rec,) = fold_sessions(rows)
    assert rec.exit_before_start and rec.played_s == 60.0 and rec.stall_ms == 250.0 and rec.title_id == "t9"
    assert metrics([rec])["exits_before_start"] == 1
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([], 0.5) is None
