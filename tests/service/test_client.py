"""``marquee.api``: the typed client against a live service (sync and async)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from marquee import paths
from marquee.api import AsyncServiceClient, ServiceClient, ServiceRequestError, load_device_id
from marquee.clock import FakeClock
from marquee.errors import NetworkError, ServiceError
from service.config import ServiceConfig
from service.server import ServiceThread


def test_sync_client_flow(live: ServiceThread) -> None:
    with ServiceClient(live.url, device_id="dev-client") as client:
        session = client.login()
        assert session.device_id == "dev-client"
        profiles = client.profiles()
        assert len(profiles) >= 4
        rows = client.rows(profiles[0].id)
        assert rows[0].kind == "continue_watching" and rows[0].items[0].progress is not None
        assert client.search("quiet")[0].title == "Quiet Harbor"
        info = client.playback(profiles[0].id, "t003")
        assert info.episode_id and info.ocas[0].rank == 1 and info.dash_url.startswith(info.ocas[0].base_url)
        assert httpx.get(info.dash_url).status_code == 200
        assert client.title("t003", profiles[0].id)["kind"] == "series"
        tile = rows[1].items[0]
        client.add_history(profiles[0].id, tile.title_id, 100, 1000,
                           episode_id=client.title(tile.title_id)["seasons"][0]["episodes"][0]["id"]
                           if tile.kind == "series" else None)
        assert client.get_bytes(f"{live.url}/artwork/t001/poster-1.jpg").startswith(b"\xff\xd8")


def test_errors_are_translated(live: ServiceThread) -> None:
    with ServiceClient(live.url, device_id="d") as client:
        with pytest.raises(ServiceRequestError) as info:
            client.login(password="nope")
        assert info.value.status == 401 and info.value.code == "invalid_credentials"
        assert info.value.user_message == "The e-mail address or password is wrong."
        with pytest.raises(ServiceError, match="not signed in"):
            client.profiles()
        client.login()
        with pytest.raises(ServiceRequestError) as info:
            client.playback("nope", "t001")
        assert info.value.status == 404
    with ServiceClient("http://127.0.0.1:9", device_id="d", timeout=2) as client:
        with pytest.raises(NetworkError) as net:
            client.catalog()
        assert "Cannot reach" in net.value.user_message


def test_refresh_on_401(tmp_path: Path, catalog_file: Path, content_dir: Path) -> None:
    clock = FakeClock()
    config = ServiceConfig(content_dir=content_dir, catalog_path=catalog_file, db_path=tmp_path / "db.sqlite3", ocas=1)
    with ServiceThread(config, clock) as svc, ServiceClient(svc.url, device_id="d1") as client:
        first = client.login()
        clock.advance(1000)  # the service sees the access token expired; the client does not know yet
        assert client.profiles()
        assert client.session is not None and client.session.access_token != first.access_token
        # Refresh token gone too (31 days): the client signs in again with the remembered credentials.
        clock.advance(31 * 86400)
        assert client.profiles()


def test_async_client(live: ServiceThread) -> None:
    async def main() -> None:
        async with AsyncServiceClient(live.url, device_id="dev-async") as client:
            await client.login()
            profiles = await client.profiles()
            rows = await client.rows(profiles[1].id)
            assert rows
            info = await client.playback(profiles[1].id, "t001")
            assert len(info.ocas) == 3

    asyncio.run(main())


def test_device_id_is_persisted() -> None:
    first = load_device_id()
    assert first == load_device_id() and first.startswith("dev-")
    assert (paths.data_dir() / "device_id").read_text().strip() == first
