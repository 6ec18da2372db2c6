"""``marquee serve`` and ``marquee catalog`` as a user runs them, and the embedded launcher."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from marquee import paths
from marquee.embedded import start_embedded_service
from marquee.private_files import admin_headers
from marquee.errors import ServiceError


def test_serve_prints_url_first_and_is_healthy(tmp_path: Path, content_dir: Path, catalog_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "marquee", "-v", "serve", "--port", "0", "--ocas", "2",
                             "--content", str(content_dir), "--catalog", str(catalog_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        health = httpx.get(url + "/health", timeout=5)
        assert health.status_code == 200 and [o["up"] for o in health.json()["ocas"]] == [True, True]
        assert httpx.get(url + "/v1/admin/ocas").status_code == 401  # admin on by default on loopback, behind its secret
        assert httpx.get(url + "/v1/admin/ocas", headers=admin_headers(paths.service_dir())).status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(rec["msg"] == "service ready" for rec in lines)
    assert any(rec.get("path") == "/health" and rec.get("status") == 200 for rec in lines)


def test_serve_without_content_explains(tmp_path: Path, catalog_file: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "marquee", "serve", "--port", "0", "--content", str(tmp_path / "none"),
                        "--catalog", str(catalog_file)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "marquee content build" in r.stderr and r.stdout == ""


def test_catalog_command(catalog_file: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "marquee", "catalog", "--catalog", str(catalog_file)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIND", "TITLE"] and len(lines) == 25
    assert "t003-s1e01" in r.stdout
    r = subprocess.run([sys.executable, "-m", "marquee", "catalog", "--json", "--catalog", str(catalog_file)],
                       capture_output=True, text=True, timeout=30)
    titles = json.loads(r.stdout)["titles"]
    assert titles[2]["kind"] == "series" and titles[2]["episodes"][0] == "t003-s1e01"


def test_catalog_from_service_and_embedded(content_dir: Path, catalog_file: Path) -> None:
    with start_embedded_service(content_dir, ocas=1, extra_args=["--catalog", str(catalog_file)]) as svc:
        assert httpx.get(svc.url + "/health").status_code == 200
        r = subprocess.run([sys.executable, "-m", "marquee", "catalog", "--json", "--service", svc.url],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and len(json.loads(r.stdout)["titles"]) == 24
        r = subprocess.run([sys.executable, "-m", "marquee", "--service", svc.url, "catalog"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "Quiet Harbor" in r.stdout
        process = svc.process
    assert process.poll() is not None  # stopped


def test_embedded_child_dies_with_its_stdin(content_dir: Path, catalog_file: Path) -> None:
    svc = start_embedded_service(content_dir, ocas=1, extra_args=["--catalog", str(catalog_file)])
    assert svc.process.stdin is not None
    svc.process.stdin.close()  # what happens when the parent dies
    svc.process.wait(10)
    assert svc.process.returncode == 0


def test_embedded_failure_is_clear(tmp_path: Path, catalog_file: Path) -> None:
    with pytest.raises(ServiceError) as info:
        start_embedded_service(tmp_path / "missing", ocas=1, extra_args=["--catalog", str(catalog_file)], timeout=20)
    assert "marquee content build" in info.value.message
    assert "could not start" in info.value.user_message


def test_catalog_command_unreachable_service() -> None:
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "marquee", "catalog", "--service", "http://127.0.0.1:9"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "Cannot reach the Marquee service" in r.stderr
    assert time.monotonic() - t < 20


def test_a_killed_embedded_service_is_started_again_on_the_same_url(content_dir: Path, catalog_file: Path) -> None:
    """The app's built-in service dies (kill -9): it comes back on the same URL by itself, so
    the app's "offline, will reconnect by itself" banner tells the truth."""
    import signal
    import time

    from marquee.embedded import SupervisedService

    supervised = SupervisedService(lambda port: start_embedded_service(
        content_dir, ocas=1, port=port, extra_args=["--catalog", str(catalog_file)]), check_every_s=0.2)
    try:
        url, first = supervised.url, supervised.service.process
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        deadline = time.monotonic() + 60
        while supervised.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervised.restarts == 1 and supervised.url == url
        assert httpx.get(url + "/health", timeout=5).status_code == 200
    finally:
        supervised.stop()
    assert supervised.service.process.poll() is not None  # stopped, and not started again
