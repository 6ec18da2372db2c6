"""One downloader per home, and the worker's command line (issue 22 #4, #5)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from downloads.worker import WorkerLock, license_lock, worker_command
from marquee.errors import ConfigError


def test_the_worker_is_given_the_service_explicitly() -> None:
    assert worker_command("http://127.0.0.1:9/") == [sys.executable, "-m", "marquee", "--service",
                                                     "http://127.0.0.1:9/", "download", "run"]
    assert worker_command(None) == [sys.executable, "-m", "marquee", "download", "run"]


def test_the_lock_is_taken_once_per_home_and_names_its_holder(home) -> None:
    with WorkerLock() as first:
        assert first.acquired
        assert first.path.read_text().strip().isdigit()
        with WorkerLock() as second:  # another open file: as another process would be
            assert not second.acquired
    with WorkerLock() as again:
        assert again.acquired


def test_the_license_lock_says_why_when_it_is_busy(home) -> None:
    with license_lock():
        with pytest.raises(ConfigError) as err:
            with license_lock(wait_s=0.1):
                pass
    assert "Another download is being added" in err.value.user_message


def test_a_run_that_finds_another_downloader_does_nothing(make_downloads, home) -> None:
    d = make_downloads(None)
    with WorkerLock() as held:
        assert held.acquired
        asyncio.run(asyncio.wait_for(d.run(), 5))  # returns at once: someone else downloads
