"""The service API in-process (Starlette TestClient, FakeClock): auth, profiles, rows, titles, playback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marquee.clock import FakeClock
from service.tokens import TokenError, verify_oca_token
from tests.service.conftest import LOCAL, login


def profiles(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/v1/profiles", headers=headers)
    assert r.status_code == 200
    return r.json()["profiles"]


def test_health(app_client: Any) -> None:
    r = app_client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_login_and_profiles(app_client: Any) -> None:
    headers = login(app_client)
    ps = profiles(app_client, headers)
    assert [p["name"] for p in ps] == ["Alex", "Sam", "Jo", "Kids"]
    assert set(ps[0]) == {"id", "name", "avatar_color", "maturity"}


@pytest.mark.parametrize("email,password", [("demo@marquee.test", "wrong"), ("nobody@x.test", "marquee")])
def test_bad_credentials(app_client: Any, email: str, password: str) -> None:
    r = app_client.post("/v1/auth/login", json={"email": email, "password": password, "device_id": "d"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"


def test_requires_auth(app_client: Any) -> None:
    assert app_client.get("/v1/profiles").status_code == 401
    r = app_client.get("/v1/profiles", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_token_expiry_and_refresh(app_client: Any, fake_clock: FakeClock) -> None:
    r = app_client.post("/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                                "device_id": "d1", "device_name": "t"})
    tokens = r.json()
    assert tokens["expires_in"] == 900
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    fake_clock.advance(899)
    assert app_client.get("/v1/profiles", headers=headers).status_code == 200
    fake_clock.advance(1)
    r = app_client.get("/v1/profiles", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    r = app_client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    fresh = r.json()
    assert fresh["device_id"] == "d1" and fresh["refresh_token"] != tokens["refresh_token"]
    assert app_client.get("/v1/profiles", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200
    # Refresh tokens rotate: the old one is spent.
    r = app_client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_refresh_token"
    # And expire.
    fake_clock.advance(31 * 86400)
    assert app_client.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}).status_code == 401


def test_rows_differ_per_profile(app_client: Any) -> None:
    headers = login(app_client)
    seen = {}
    for p in profiles(app_client, headers):
        r = app_client.get(f"/v1/profiles/{p['id']}/rows", headers=headers)
        assert r.status_code == 200
        body = r.json()
        rows = {row["id"]: row for row in body["rows"]}
        assert "continue" in rows and "top_picks" in rows and "trending" in rows and "new" in rows
        assert any(k.startswith("because:") for k in rows)
        tile = rows["top_picks"]["items"][0]
        assert {"title_id", "title", "kind", "year", "genres", "poster", "backdrop"} <= set(tile)
        assert tile["poster"].startswith("http://") and tile["poster"].endswith(f"poster-{body['artwork_variant']}.jpg")
        assert rows["continue"]["items"][0]["progress"] is not None
        seen[p["name"]] = tuple(i["title_id"] for i in rows["top_picks"]["items"])
    assert len(set(seen.values())) == 4


def test_new_profile_cold_start_and_history(app_client: Any) -> None:
    headers = login(app_client)
    r = app_client.post("/v1/profiles", headers=headers, json={"name": "Newbie"})
    assert r.status_code == 201
    pid = r.json()["id"]
    rows = app_client.get(f"/v1/profiles/{pid}/rows", headers=headers).json()["rows"]
    assert [row["kind"] for row in rows] == ["top_picks", "trending", "new"]
    assert all(len(row["items"]) == 10 for row in rows)
    # Watch a film halfway: it shows in Continue Watching and seeds "Because you watched".
    r = app_client.post(f"/v1/profiles/{pid}/history", headers=headers,
                        json={"title_id": "t001", "position_s": 2700, "duration_s": 5400})
    assert r.status_code == 201 and r.json()["progress"] == 0.5
    rows = app_client.get(f"/v1/profiles/{pid}/rows", headers=headers).json()["rows"]
    assert rows[0]["kind"] == "continue_watching" and rows[0]["items"][0]["title_id"] == "t001"
    assert any(row["id"] == "because:t001" for row in rows)
    assert app_client.get(f"/v1/profiles/{pid}/history", headers=headers).json()["history"][0]["title_id"] == "t001"


def test_other_accounts_profile_is_unknown(app_client: Any) -> None:
    headers = login(app_client)
    r = app_client.get("/v1/profiles/pnotmine/rows", headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_profile"


def test_catalog_title_search(app_client: Any) -> None:
    titles = app_client.get("/v1/catalog").json()["titles"]
    assert len(titles) == 24
    series = next(t for t in titles if t["kind"] == "series")
    assert series["episodes"] and all(e.startswith(series["id"]) for e in series["episodes"])
    detail = app_client.get(f"/v1/titles/{series['id']}").json()
    assert detail["seasons"][0]["episodes"][0]["id"] == series["episodes"][0]
    assert len(detail["artwork"]) == 4 and detail["poster"].endswith("poster-0.jpg")
    assert app_client.get("/v1/titles/nope").status_code == 404
    results = app_client.get("/v1/search", params={"q": "quite harbr"}).json()["results"]
    assert results[0]["title"] == "Quiet Harbor"


def test_title_for_profile_has_resume_and_maturity_gate(app_client: Any) -> None:
    headers = login(app_client)
    ps = profiles(app_client, headers)
    kids = next(p for p in ps if p["name"] == "Kids")
    r = app_client.get("/v1/titles/t002", params={"profile_id": kids["id"]}, headers=headers)  # rated R
    assert r.status_code == 403 and r.json()["error"]["code"] == "maturity_restricted"
    results = app_client.get("/v1/search", params={"q": "quiet harbor", "profile_id": kids["id"]},
                             headers=headers).json()["results"]
    assert all(r["title_id"] != "t002" for r in results)
    alex = ps[0]
    detail = app_client.get("/v1/titles/t003", params={"profile_id": alex["id"]}, headers=headers).json()
    assert "resume" in detail
    like = detail["more_like_this"]
    assert like and all(t["title_id"] != "t003" for t in like)
    assert all(set(t) >= {"title_id", "title", "kind", "poster", "backdrop"} for t in like)
    for t in app_client.get("/v1/catalog").json()["titles"]:
        kids_detail = app_client.get(f"/v1/titles/{t['id']}", params={"profile_id": kids["id"]}, headers=headers)
        if kids_detail.status_code == 200:
            kids_like = [t["maturity"] for t in kids_detail.json()["more_like_this"]]
            assert kids_like and not {"R", "TV-MA", "PG-13", "TV-14"} & set(kids_like)


def test_artwork(app_client: Any) -> None:
    r = app_client.get("/artwork/t001/poster-2.jpg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content.endswith(b"\x02")
    assert app_client.get("/artwork/t001/poster-2.png").status_code == 404
    assert app_client.get("/artwork/t001/..%2F..%2Fbuild.json").status_code == 404
    assert app_client.get("/artwork/t020/poster-0.jpg").status_code == 404  # not built


def test_playback_returns_signed_ranked_ocas(app_client: Any, fake_clock: FakeClock) -> None:
    headers = login(app_client, device_id="dev-42")
    pid = profiles(app_client, headers)[0]["id"]
    r = app_client.post("/v1/playback", headers=headers, json={"profile_id": pid, "title_id": "t003"})
    assert r.status_code == 200, r.text
    pb = r.json()
    assert pb["episode_id"].startswith("t003-") and pb["media_id"] in ("m0", "m1")
    assert [o["rank"] for o in pb["ocas"]] == [1, 2, 3]
    assert [o["id"] for o in pb["ocas"]] == ["oca-1", "oca-2", "oca-3"]  # by weight when all healthy
    assert pb["dash_url"] == pb["ocas"][0]["base_url"] + "manifest.mpd"
    assert pb["hls_url"] == pb["ocas"][0]["base_url"] + "master.m3u8"
    runtime = app_client.app.state.runtime
    token = pb["ocas"][0]["base_url"].split("/c/")[1].split("/")[0]
    claims = verify_oca_token(runtime.secret, token, pb["media_id"], fake_clock.wall())
    assert claims.device_id == "dev-42" and claims.expires_at == pb["expires_at"]
    assert pb["expires_at"] == int(fake_clock.wall()) + 6 * 3600
    with pytest.raises(TokenError, match="expired"):
        verify_oca_token(runtime.secret, token, pb["media_id"], fake_clock.wall() + 6 * 3600)
    with pytest.raises(TokenError):
        verify_oca_token(runtime.secret, token, "m9", fake_clock.wall())


def test_playback_ranking_reacts_to_weight_and_down(app_client: Any) -> None:
    headers = login(app_client)
    pid = profiles(app_client, headers)[0]["id"]
    runtime = app_client.app.state.runtime
    runtime.ocas[2].weight = 5.0
    runtime.ocas[0].error_ratio = 0.9
    pb = app_client.post("/v1/playback", headers=headers, json={"profile_id": pid, "title_id": "t001"}).json()
    assert [o["id"] for o in pb["ocas"]] == ["oca-3", "oca-2", "oca-1"]


def test_playback_errors(app_client: Any) -> None:
    headers = login(app_client)
    ps = profiles(app_client, headers)
    pid = ps[0]["id"]
    cases = [
        ({"profile_id": pid, "title_id": "nope"}, 404, "unknown_title"),
        ({"profile_id": pid, "title_id": "t003", "episode_id": "t001-s1e01"}, 404, "unknown_episode"),
        ({"profile_id": pid, "title_id": "t001", "episode_id": "t003-s1e01"}, 400, "invalid_field"),
        ({"profile_id": "zzz", "title_id": "t001"}, 404, "unknown_profile"),
        ({"title_id": "t001"}, 400, "missing_field"),
        ({"profile_id": ps[3]["id"], "title_id": "t002"}, 403, "maturity_restricted"),
    ]
    for body, status, code in cases:
        r = app_client.post("/v1/playback", headers=headers, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body


def test_down_oca_ranks_last(app_client: Any) -> None:
    headers = login(app_client)
    pid = profiles(app_client, headers)[0]["id"]
    runtime = app_client.app.state.runtime
    from service.faults import FaultSpec

    runtime.ocas[0].faults = FaultSpec(down=True)
    pb = app_client.post("/v1/playback", headers=headers, json={"profile_id": pid, "title_id": "t001"}).json()
    assert [o["id"] for o in pb["ocas"]] == ["oca-2", "oca-3", "oca-1"]
    assert pb["ocas"][2]["score"] == 0


def test_heroes_are_offered_when_the_content_has_them(tmp_path: Path, make_config: Any, fake_clock: Any,
                                                      content_dir: Path) -> None:
    """``hero`` (the backdrop's picture without lettering) is in every tile and title once the
    build drew it; a build from before heroes gets none, so no app asks for a missing file."""
    import json
    import shutil
    from urllib.parse import urlsplit

    from service.app import create_app
    from service.runtime import create_runtime
    from tests.service.conftest import TestClient

    content = tmp_path / "content"
    shutil.copytree(content_dir, content)
    build = json.loads((content / "build.json").read_text())
    (content / "build.json").write_text(json.dumps({**build, "artwork_kinds": ["poster", "backdrop", "hero"]}))
    for v in range(4):
        (content / "artwork" / "t001" / f"hero-{v}.jpg").write_bytes(b"\xff\xd8\xff\xe0hero" + bytes([v]))
    runtime = create_runtime(make_config(content_dir=content, ocas=3), fake_clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False, base_url=LOCAL) as client:
        headers = login(client)
        pid = profiles(client, headers)[0]["id"]
        title = client.get("/v1/titles/t001", params={"profile_id": pid}, headers=headers).json()
        assert title["hero"].endswith(f"/artwork/t001/hero-{title['artwork_variant']}.jpg")
        assert all(a["hero"].endswith(f"hero-{a['variant']}.jpg") for a in title["artwork"])
        rows = client.get(f"/v1/profiles/{pid}/rows", headers=headers).json()["rows"]
        assert all("hero" in tile for row in rows for tile in row["items"])
        got = client.get(urlsplit(title["hero"]).path)
        assert got.status_code == 200 and got.content.startswith(b"\xff\xd8\xff\xe0hero")
    runtime.store.close()
    with TestClient(create_app(create_runtime(make_config(ocas=3), fake_clock)), base_url=LOCAL) as client:  # no heroes
        headers = login(client)
        assert "hero" not in client.get("/v1/titles/t001", headers=headers).json()
