"""The hostile-input suite: the requests that broke the service (issue 18) and more, sent to the real
``marquee serve`` (API and OCAs) on loopback. Each must get its 4xx (or the documented answer), in
bounded time, with the service's peak RSS growing by at most 50 MB; nothing may answer 500 or hang,
nothing may reach the log as an unhandled error, and a slow client is dropped within 10 s."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from marquee.embedded import EmbeddedService, start_embedded_service
from service.probe import Probe, dropped_after

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")]
MAX_RSS_GROWTH_MB = 50.0
MAX_SECONDS = 10.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, content_dir: Path, catalog_file: Path) -> Iterator[EmbeddedService]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MARQUEE_HOME", str(tmp_path_factory.mktemp("hostile-home")))
        svc = start_embedded_service(content_dir, ocas=2, extra_args=["--catalog", str(catalog_file)])
        try:
            yield svc
        finally:
            svc.stop()


@pytest.fixture(scope="module")
def probe(service: EmbeddedService) -> Iterator[Probe]:
    assert service.admin_secret_file is not None
    p = Probe(service.url, service.admin_secret_file.read_text().strip())
    yield p
    p.close()


def test_every_hostile_request_gets_its_4xx_in_bounded_time_and_memory(service: EmbeddedService, probe: Probe) -> None:
    outcomes = [probe.run(case, service.process.pid) for case in probe.cases()]
    table = "\n".join(f"{o.name:<50} {o.status:>4} {o.seconds:6.2f}s {o.rss_growth_mb:6.1f}MB" for o in outcomes)
    assert all(o.expected for o in outcomes), table
    assert all(o.status < 500 for o in outcomes), table
    assert max(o.seconds for o in outcomes) <= MAX_SECONDS, table
    assert max(o.rss_growth_mb for o in outcomes) <= MAX_RSS_GROWTH_MB, table
    assert httpx.get(service.url + "/health").status_code == 200


def test_nothing_reached_the_log_as_an_unhandled_error(service: EmbeddedService, probe: Probe) -> None:
    for case in probe.cases()[-1:]:  # the client that leaves mid-body
        probe.run(case, None)
    time.sleep(0.5)
    assert "unhandled error" not in service.stderr_tail() and "Traceback" not in service.stderr_tail()


def _dropped_after(service: EmbeddedService, first: bytes, trickle: bytes) -> float:
    """Seconds until the service closes a connection that sends ``first`` then one byte of
    ``trickle`` a second (a slowloris never finishing its request)."""
    return dropped_after(int(service.url.rsplit(":", 1)[1]), first, trickle, every_s=1.0)


def test_a_slow_client_is_dropped_within_10_s(service: EmbeddedService) -> None:
    headers = _dropped_after(service, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-a: b\r\n")
    body = _dropped_after(service, b"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                          b"\r\nContent-Length: 1000\r\n\r\n{", b"x")
    assert headers <= 11.5 and body <= 11.5, (headers, body)
    assert httpx.get(service.url + "/health").status_code == 200


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_embedded_service_state_is_private(service: EmbeddedService) -> None:
    assert service.admin_secret_file is not None
    folder = service.admin_secret_file.parent
    assert folder.stat().st_mode & 0o077 == 0
    for name in ("admin.secret", "service.key", "service.sqlite3"):
        assert (folder / name).stat().st_mode & 0o077 == 0, name
