"""Resume-position merge rule (pure) and the progress API (in-process app on a fake clock)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from marquee.clock import FakeClock
from service.progress import ProgressUpdate, corrected_time, decide, history_position
from tests.service.conftest import login


def upd(pos: float, t: float, device: str = "A", seq: int | None = 1, dur: float = 1000.0,
        state: str = "playing") -> ProgressUpdate:
    return ProgressUpdate("p", "t003", "t003-s1e01", pos, dur, t, device, seq, t, t, 0.0, state)


# ------------------------------------------------------------------ pure rule
def test_first_report_is_kept() -> None:
    assert decide(None, upd(10, 100)) == "first"


def test_newer_event_from_another_device_wins_and_older_loses() -> None:
    assert decide(upd(500, 100, "A"), upd(200, 150, "B")) == "newer"  # rewatch earlier on B, later in time
    assert decide(upd(200, 150, "B"), upd(500, 100, "A")) == "older"  # late offline report from A


def test_same_device_orders_by_sequence_not_clock() -> None:
    # A's clock jumped back between reports: its own order still holds
    assert decide(upd(100, 200, "A", seq=1), upd(120, 150, "A", seq=2)) == "newer"
    assert decide(upd(120, 150, "A", seq=2), upd(100, 200, "A", seq=1)) == "older"
    assert decide(upd(120, 150, "A", seq=2), upd(120, 150, "A", seq=2)) == "duplicate"


def test_exact_time_ties_are_deterministic() -> None:
    a, b = upd(10, 100, "A"), upd(20, 100, "B")
    assert decide(a, b) == "newer" and decide(b, a) == "older"


def test_clock_correction_and_clamp() -> None:
    # offset measured by the client
    assert corrected_time(1000.0, 50.0, None, 2000.0) == (1050.0, 50.0)
    # no offset: the request's own (received - sent)
    assert corrected_time(1000.0, None, 1010.0, 1070.0) == (1060.0, 60.0)
    # a clock far ahead cannot put an event after its arrival
    assert corrected_time(9e9, 0.0, None, 2000.0)[0] == 2000.0


def test_history_position_applies_watched_and_minimum_rules() -> None:
    assert history_position(upd(950, 1, dur=1000)) == 1000  # >= 90 %: watched
    assert history_position(upd(3, 1, dur=1000)) == 0  # under the minimum
    assert history_position(upd(400, 1, dur=1000)) == 400
    assert history_position(upd(100, 1, dur=1000, state="ended")) == 1000


reports = st.lists(st.tuples(st.sampled_from("ABC"), st.floats(0, 1000), st.floats(0, 10_000)), min_size=1,
                   max_size=12)


@settings(max_examples=200, deadline=None)
@given(reports, st.randoms())
def test_any_delivery_order_converges_to_the_newest_event(raw: list[tuple[str, float, float]], rnd: Any) -> None:
    per_device: dict[str, int] = {}
    updates = []
    for device, pos, t in sorted(raw, key=lambda r: r[2]):  # each device's seq follows its events
        per_device[device] = per_device.get(device, 0) + 1
        updates.append(upd(pos, t, device, per_device[device]))
    shuffled = list(updates)
    rnd.shuffle(shuffled)
    kept: ProgressUpdate | None = None
    for u in shuffled:
        if decide(kept, u) in ("first", "newer"):
            kept = u
    assert kept is not None
    newest = max(updates, key=lambda u: (u.event_time, u.device_id, u.seq))
    assert kept.event_time == newest.event_time


# ------------------------------------------------------------------ API
def report(title: str, pos: float, dur: float, client_time: float, seq: int, episode: str | None = None,
           **extra: Any) -> dict[str, Any]:
    out = {"title_id": title, "position_s": pos, "duration_s": dur, "client_time": client_time, "seq": seq,
           "offset_s": 0.0, **extra}
    if episode:
        out["episode_id"] = episode
    return out


def _pid(client: Any, headers: dict[str, str]) -> str:
    return client.get("/v1/profiles", headers=headers).json()["profiles"][0]["id"]


def _continue_row(client: Any, pid: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    rows = client.get(f"/v1/profiles/{pid}/rows", headers=headers).json()["rows"]
    return next((r["items"] for r in rows if r["id"] == "continue"), [])


def test_two_devices_late_offline_report_does_not_clobber(app_client: Any, fake_clock: FakeClock) -> None:
    a, b = login(app_client, "dev-A"), login(app_client, "dev-B")
    pid = _pid(app_client, a)
    now = fake_clock.wall()
    # A watched to 1200 s at now-600 but was offline; B watched later to 300 s and reported at once
    r = app_client.post(f"/v1/profiles/{pid}/progress", headers=b,
                        json={"reports": [report("t001", 300, 5400, now - 60, 1)], "sent_at": now})
    assert r.status_code == 200 and r.json()["results"][0]["accepted"]
    r = app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                        json={"reports": [report("t001", 1200, 5400, now - 600, 7)], "sent_at": now})
    res = r.json()["results"][0]
    assert res["verdict"] == "older" and res["current"]["position_s"] == 300 and res["current"]["device_id"] == "dev-B"
    got = app_client.get(f"/v1/profiles/{pid}/progress", params={"title_id": "t001"}, headers=a).json()
    assert got["progress"][0]["position_s"] == 300
    # the playback API and Continue Watching resume where B stopped
    assert app_client.post("/v1/playback", headers=a, json={"profile_id": pid, "title_id": "t001"}).json()[
        "start_position_s"] == 300
    assert any(i["title_id"] == "t001" and i["position_s"] == 300 for i in _continue_row(app_client, pid, a))


def test_client_offset_corrects_a_skewed_clock(app_client: Any, fake_clock: FakeClock) -> None:
    a, b = login(app_client, "dev-A"), login(app_client, "dev-B")
    pid = _pid(app_client, a)
    now = fake_clock.wall()
    # B's clock is 1 h slow; it knows (offset +3600), so its report 10 s ago beats A's 100 s ago
    app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                    json={"reports": [report("t002", 900, 5400, now - 100, 1)]})
    r = app_client.post(f"/v1/profiles/{pid}/progress", headers=b,
                        json={"reports": [{**report("t002", 400, 5400, now - 3610, 1), "offset_s": 3600.0}]})
    assert r.json()["results"][0]["accepted"]
    # without an offset the request's sent_at is used
    r = app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                        json={"reports": [{**report("t002", 950, 5400, now - 3605, 2), "offset_s": None}],
                              "sent_at": now - 3600})
    assert r.json()["results"][0]["accepted"] and abs(r.json()["results"][0]["event_time"] - (now - 5)) < 1e-6


def test_rewatch_from_start_is_honoured(app_client: Any, fake_clock: FakeClock) -> None:
    a = login(app_client, "dev-A")
    pid = _pid(app_client, a)
    now = fake_clock.wall()
    app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                    json={"reports": [report("t001", 3000, 5400, now - 100, 1),
                                      report("t001", 0, 5400, now - 50, 2, state="seek"),
                                      report("t001", 600, 5400, now - 10, 3)]})
    got = app_client.get(f"/v1/profiles/{pid}/progress", params={"title_id": "t001"}, headers=a).json()
    assert got["progress"][0]["position_s"] == 600  # went backwards: not a forward-only max
    assert app_client.post("/v1/playback", headers=a, json={"profile_id": pid, "title_id": "t001"}).json()[
        "start_position_s"] == 600


def test_watched_threshold_moves_continue_watching_to_next_episode(app_client: Any, fake_clock: FakeClock) -> None:
    a = login(app_client, "dev-A")
    pid = _pid(app_client, a)
    now = fake_clock.wall()
    app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                    json={"reports": [report("t003", 600, 1500, now - 20, 1, "t003-s1e01")]})
    items = [i for i in _continue_row(app_client, pid, a) if i["title_id"] == "t003"]
    assert items and items[0]["episode_id"] == "t003-s1e01" and items[0]["position_s"] == 600
    app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                    json={"reports": [report("t003", 1380, 1500, now - 10, 2, "t003-s1e01")]})  # 92 %
    items = [i for i in _continue_row(app_client, pid, a) if i["title_id"] == "t003"]
    assert items and items[0]["episode_id"] == "t003-s1e02" and items[0]["position_s"] == 0
    play = app_client.post("/v1/playback", headers=a, json={"profile_id": pid, "title_id": "t003"}).json()
    assert play["episode_id"] == "t003-s1e02" and play["start_position_s"] == 0
    detail = app_client.get("/v1/titles/t003", params={"profile_id": pid}, headers=a).json()
    assert detail["resume"]["episode_id"] == "t003-s1e02"


def test_too_early_keeps_no_resume_point(app_client: Any, fake_clock: FakeClock) -> None:
    a = login(app_client, "dev-A")
    pid = _pid(app_client, a)
    now = fake_clock.wall()
    app_client.post(f"/v1/profiles/{pid}/progress", headers=a,
                    json={"reports": [report("t002", 120, 5400, now - 5, 1)]})  # 2 %
    assert app_client.post("/v1/playback", headers=a, json={"profile_id": pid, "title_id": "t002"}).json()[
        "start_position_s"] == 0
    assert not any(i["title_id"] == "t002" for i in _continue_row(app_client, pid, a))


def test_bad_reports_are_refused(app_client: Any) -> None:
    a = login(app_client, "dev-A")
    pid = _pid(app_client, a)
    url = f"/v1/profiles/{pid}/progress"
    assert app_client.post(url, headers=a, json={"reports": []}).status_code == 400
    assert app_client.post(url, headers=a, json={"reports": [report("nope", 1, 2, 1, 1)]}).status_code == 404
    assert app_client.post(url, headers=a, json={"reports": [report("t003", 1, 2, 1, 1)]}).status_code == 400
    assert app_client.post(url, headers=a, json={"reports": [report("t001", 1, 2, 1, -1)]}).status_code == 400
    assert app_client.post(url, headers=a, json={"reports": [report("t001", 1, 2, 1, 1, state="x")]}).status_code == 400
    assert app_client.post(url, json={"reports": [report("t001", 1, 2, 1, 1)]}).status_code == 401
    assert app_client.get("/v1/time").json()["server_time"] > 0


def test_legacy_history_post_goes_through_the_merge(app_client: Any, fake_clock: FakeClock) -> None:
    a = login(app_client, "dev-A")
    pid = _pid(app_client, a)
    r = app_client.post(f"/v1/profiles/{pid}/history", headers=a,
                        json={"title_id": "t004", "position_s": 1000, "duration_s": 5400})
    assert r.status_code == 201
    got = app_client.get(f"/v1/profiles/{pid}/progress", params={"title_id": "t004"}, headers=a).json()
    assert got["progress"][0]["position_s"] == 1000 and got["progress"][0]["seq"] is None
