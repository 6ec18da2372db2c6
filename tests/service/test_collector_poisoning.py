"""The unauthenticated collector cannot be broken for good: bounded numbers and names, finite
aggregates even over rows older versions stored, mathtext-proof labels, bounded and cached
dashboard cost, a per-client rate limit."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest

from service.telemetry_store import dashboard_pngs, fold_sessions, plot_label, summary_json, top_names
from telemetry.schema import make_data
from tests.service.test_telemetry import DAY1, batch, event, post, session


def end_event(sid: str, played: float) -> dict[str, Any]:
    ev = event(sid, 9, "session_end", DAY1, startup_ms=300.0, played_s=1.0, stall_count=0, stall_ms=0.0,
               switches=0, avg_bitrate_kbps=3000.0, failovers=0, errors=0, ok=True, reason="stopped")
    ev["data"]["played_s"] = played
    return ev


def test_huge_played_seconds_are_refused_and_the_summary_stays_up(app_client: Any) -> None:
    for _ in range(2):
        r = post(app_client, batch([end_event(uuid.uuid4().hex, 1e308)]))
        assert r.status_code == 400 and "played_s" in r.json()["error"]["message"]
    assert app_client.get("/v1/telemetry/summary").status_code == 200


@pytest.mark.parametrize("field,value", [("ts", 1e300), ("ts", -1e18), ("seq", 2**70), ("t", 1e300)])
def test_envelope_numbers_out_of_range_are_refused(app_client: Any, field: str, value: Any) -> None:
    ev = end_event(uuid.uuid4().hex, 10.0)
    ev[field] = value
    assert post(app_client, batch([ev])).status_code == 400


def test_rows_an_older_version_stored_cannot_make_totals_infinite(app_client: Any) -> None:
    store = app_client.app.state.runtime.store
    sid = uuid.uuid4().hex
    rows = [(0, sid, 1, "attempt", DAY1, "2027-01-15", "t001", json.dumps({"t": 0, "title_id": "$\\foo{$", "start_s": 0})),
            (1, sid, 2, "segment", DAY1, "2027-01-15", None,
             json.dumps({"t": 1, "rung": 1, "bytes": 1, "download_ms": 1, "oca": "$\\foo{$", "throughput_kbps": 1,
                         "bitrate_kbps": 1e308})),
            (2, sid, 3, "session_end", DAY1, "2027-01-15", None,
             json.dumps({"t": 2, "startup_ms": None, "played_s": 1e308, "stall_count": 0, "stall_ms": float("inf"),
                         "switches": 0, "avg_bitrate_kbps": 1e308, "failovers": 0, "errors": 0, "ok": True,
                         "reason": "x"})),
            (3, uuid.uuid4().hex, 1, "session_end", DAY1, "2027-01-15", None, "{not json")]
    for i in range(2):
        store.add_telemetry_batch(uuid.uuid4().hex, "1" * 32, DAY1, 1, 0, 0, rows)
    r = app_client.get("/v1/telemetry/summary")
    assert r.status_code == 200
    overall = r.json()["overall"]
    assert all(math.isfinite(v) for v in (overall["played_s"], overall["avg_bitrate_kbps"], overall["rebuffer_ratio"]))
    assert "invalid" in r.json()["by_oca"] and "$\\foo{$" not in r.text
    assert app_client.get("/v1/telemetry/dashboard").status_code == 200


def test_names_that_reach_plots_allow_plain_characters_only(app_client: Any) -> None:
    sid = uuid.uuid4().hex
    ev = event(sid, 1, "segment", DAY1, rung=1, bytes=10, download_ms=1.0, oca="oca-1", throughput_kbps=1.0,
               bitrate_kbps=1.0)
    ev["data"]["oca"] = "$\\foo{$"
    r = post(app_client, batch([ev]))
    assert r.status_code == 400 and "oca" in r.json()["error"]["message"]
    assert plot_label("a$b$") == r"a\$b\$"


def test_the_client_clamps_and_cleans_instead_of_failing() -> None:
    data = make_data("segment", rung=3, bytes=10**15, download_ms=-5.0, oca="$\\foo{$", throughput_kbps=1e20,
                     bitrate_kbps=10.0)
    assert data["bytes"] == 10**13 and data["download_ms"] == 0.0 and data["throughput_kbps"] == 1e9
    assert "$" not in data["oca"] and "\\" not in data["oca"]


def test_two_thousand_oca_names_cost_a_bounded_dashboard(app_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    events = []
    for i in range(1000):
        sid = uuid.uuid4().hex
        for j, oca in enumerate((f"edge-{i}-a", f"edge-{i}-b")):
            events.append(event(sid, j + 1, "segment", DAY1, rung=1, bytes=10, download_ms=1.0, oca=oca,
                                throughput_kbps=1.0, bitrate_kbps=1.0))
    assert post(app_client, batch(events)).status_code == 200
    summary = app_client.get("/v1/telemetry/summary").json()
    assert len(summary["by_oca"]) == 1000  # the JSON keeps them all
    assert len(top_names(summary["by_oca"], 10)) == 10
    calls = []
    import service.api.telemetry as api

    real = api._render

    async def counting(request: Any, summary: Any) -> str:
        calls.append(1)
        return await real(request, summary)

    monkeypatch.setattr(api, "_render", counting)
    first = app_client.get("/v1/telemetry/dashboard")
    second = app_client.get("/v1/telemetry/dashboard")
    assert first.status_code == second.status_code == 200 and first.text == second.text
    assert calls == [1]  # cached until a new batch arrives
    assert "more not shown" in first.text


def test_plots_stay_small_whatever_the_names() -> None:
    records = fold_sessions([{"session_id": f"{i:032x}", "day": "2027-01-15", "kind": "segment",
                              "data": {"oca": f"n{i}", "bitrate_kbps": 1.0}} for i in range(300)])
    assert len(dashboard_pngs(summary_json(records, {}))) == 3


def test_a_client_sending_too_fast_is_told_to_wait(app_client: Any) -> None:
    limits = app_client.app.state  # the limiter lives with the collector's state
    post(app_client, batch(session("t001", "oca-1", 300, 0, 60, DAY1)))
    limits.telemetry_cache.limits.burst = 1.0
    limits.telemetry_cache.limits._buckets.clear()
    assert post(app_client, batch(session("t001", "oca-1", 300, 0, 60, DAY1))).status_code == 200
    r = post(app_client, batch(session("t001", "oca-1", 300, 0, 60, DAY1)))
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_batches" and "Retry-After" in r.headers
