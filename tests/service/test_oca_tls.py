"""https:// OCAs: the service serves TLS with this installation's self-signed certificate, and the
app's shared TLS context (marquee/tls.py) pins it; a client without the pin refuses it."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from marquee import paths
from marquee.tls import ssl_context
from service.oca_tls import ensure_certificate
from service.server import ServiceThread


@pytest.fixture
def tls_service(make_config: Callable[..., Any]) -> Iterator[ServiceThread]:
    ssl_context.cache_clear()
    config = make_config(ocas=1, oca_tls=True, db_path=paths.service_dir() / "service.sqlite3")
    with ServiceThread(config) as svc:
        yield svc
    ssl_context.cache_clear()


def test_ocas_serve_https_that_only_the_pinned_context_trusts(tls_service: ServiceThread) -> None:
    with httpx.Client(verify=ssl_context()) as client:
        r = client.post(tls_service.url + "/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                                                  "device_id": "d"})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        pid = client.get(tls_service.url + "/v1/profiles", headers=auth).json()["profiles"][0]["id"]
        playback = client.post(tls_service.url + "/v1/playback", json={"profile_id": pid, "title_id": "t001"},
                               headers=auth).json()
        base = playback["ocas"][0]["base_url"]
        assert base.startswith("https://127.0.0.1:")
        assert client.get(base + "v0/init.mp4").status_code == 200
    with pytest.raises(httpx.ConnectError), httpx.Client() as unpinned:  # certifi alone: not trusted
        unpinned.get(base + "v0/init.mp4")


def test_the_certificate_is_made_once_and_its_key_is_private(tmp_path: Path) -> None:
    cert, key = ensure_certificate(tmp_path, ("127.0.0.1",))
    first = cert.read_bytes()
    assert ensure_certificate(tmp_path, ("127.0.0.1",))[0].read_bytes() == first
    assert key.stat().st_mode & 0o077 == 0
    assert ensure_certificate(tmp_path, ("media.example",))[0].read_bytes() != first  # a new name: a new certificate
    ssl.create_default_context(cadata=cert.read_text())  # a loadable trust anchor
