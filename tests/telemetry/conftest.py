"""A real collector (the reference service in-process, no OCAs) with switches for its faults."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from service.config import ServiceConfig
from service.server import ServiceThread
from tests.service.fakes import make_catalog, make_content


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path / "home"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collector:
    """The service on a fixed port: ``faults(...)`` (500 / slow / lost answer), ``down()``/``up()``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        catalog = root / "catalog.json"
        catalog.write_text(json.dumps(make_catalog()))
        self.config = ServiceConfig(content_dir=make_content(root / "content"), catalog_path=catalog,
                                    db_path=root / "service.sqlite3", ocas=0, port=free_port())
        self.svc = ServiceThread(self.config).start()
        self.url = self.svc.url
        self.http = httpx.Client(base_url=self.url, timeout=5, headers=self.svc.admin_headers)

    def faults(self, **spec: Any) -> None:
        r = self.http.put("/v1/admin/telemetry/faults", json=spec)
        assert r.status_code == 200, r.text

    def clear(self) -> None:
        self.http.delete("/v1/admin/telemetry/faults")

    def down(self) -> None:
        self.svc.call(lambda: self.svc.server.listener.stop(abort=True))

    def up(self) -> None:
        self.svc.call(lambda: self.svc.server.listener.start())

    @property
    def store(self) -> Any:
        return self.svc.runtime.store

    def close(self) -> None:
        self.http.close()
        self.svc.stop()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path / "collector")
    yield c
    c.close()
