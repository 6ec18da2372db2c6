"""A real reference service (in-process, no OCAs) and per-device clients for sync tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from marquee.api import ServiceClient
from marquee.errors import NetworkError
from service.config import ServiceConfig
from service.server import ServiceThread
from tests.service.fakes import make_catalog, make_content


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceThread]:
    root = tmp_path_factory.mktemp("sync-service")
    catalog = root / "catalog.json"
    catalog.write_text(json.dumps(make_catalog()))
    config = ServiceConfig(content_dir=make_content(root / "content"), catalog_path=catalog,
                           db_path=root / "service.sqlite3", ocas=0)
    with ServiceThread(config) as svc:
        yield svc


class SkewedClock:
    """The system clock with the wall clock off by ``skew_s`` (a badly set computer)."""

    def __init__(self, skew_s: float = 0.0) -> None:
        self.skew_s = skew_s

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time() + self.skew_s


class Device:
    """A signed-in client with a switch to go offline."""

    def __init__(self, url: str, device_id: str, clock: Any = None) -> None:
        self.client = ServiceClient(url, device_id=device_id, clock=clock)
        self.client.login()
        self.online = True

    def transport(self, pid: str, reports: list[dict[str, Any]], sent_at: float) -> dict[str, Any]:
        if not self.online:
            raise NetworkError("offline (test)", code="unreachable")
        return self.client.report_progress(pid, reports, sent_at)
