"""Fixtures for the reference service.

- ``catalog_file``, ``content_dir``: a small catalogue and fake built content (session scope).
- ``make_config(**overrides)``: a ``ServiceConfig`` on those, with a fresh database.
- ``app_client`` + ``fake_clock``: the Starlette app in-process (no sockets) on a FakeClock.
- ``live_service``: a ``ServiceThread`` (service + 3 OCAs on real loopback ports), shared by a module;
  faults are cleared after every test that uses it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import warnings

import pytest

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from marquee.clock import FakeClock
from service.app import create_app
from service.config import ServiceConfig
from service.faults import FaultSpec
from service.runtime import create_runtime
from service.server import ServiceThread
from tests.service.fakes import make_catalog, make_content


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog") / "catalog.json"
    path.write_text(json.dumps(make_catalog()))
    return path


@pytest.fixture(scope="session")
def content_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_content(tmp_path_factory.mktemp("content"))


@pytest.fixture
def make_config(tmp_path: Path, catalog_file: Path, content_dir: Path) -> Callable[..., ServiceConfig]:
    def make(**overrides: Any) -> ServiceConfig:
        base: dict[str, Any] = dict(content_dir=content_dir, catalog_path=catalog_file,
                                    db_path=tmp_path / "service.sqlite3", ocas=0)
        base.update(overrides)
        return ServiceConfig(**base)

    return make


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_client(make_config: Callable[..., ServiceConfig], fake_clock: FakeClock) -> Iterator[TestClient]:
    runtime = create_runtime(make_config(ocas=3), fake_clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False, base_url=LOCAL,
                    headers=admin_headers(runtime)) as client:
        yield client
    runtime.store.close()


LOCAL = "http://127.0.0.1"  # the Host the service accepts (TestClient's default 'testserver' is refused)


def admin_headers(runtime: Any) -> dict[str, str]:
    from marquee.private_files import ADMIN_HEADER

    return {ADMIN_HEADER: runtime.admin_secret}


def login(client: Any, device_id: str = "dev-test") -> dict[str, str]:
    r = client.post("/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                             "device_id": device_id, "device_name": "pytest"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory, catalog_file: Path, content_dir: Path) -> Iterator[ServiceThread]:
    db = tmp_path_factory.mktemp("live") / "service.sqlite3"
    config = ServiceConfig(content_dir=content_dir, catalog_path=catalog_file, db_path=db, ocas=3)
    with ServiceThread(config) as svc:
        yield svc


@pytest.fixture
def live(live_service: ServiceThread) -> Iterator[ServiceThread]:
    yield live_service
    for node in live_service.runtime.ocas:
        live_service.call(lambda node=node: node.set_faults(FaultSpec()))
        node.reset_counters()
