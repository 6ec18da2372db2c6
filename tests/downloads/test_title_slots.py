"""Titles take turns for the fetch slots: ``parallel_titles`` fetch at once, the next one gets
ready meanwhile (license key, pack, playback URLs) and starts fetching as soon as their
fetches end, while their last commit (an fdatasync) still runs."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from downloads.manager import DownloadSettings
from downloads.storage import AtomicWriter
from service.faults import FaultSpec
from tests.downloads.conftest import FILM

pytestmark = pytest.mark.slow

SECOND = "t007"  # another film on the same test media


class TurnsWriter(AtomicWriter):
    """Records pack writes and flushes per title; the first title's flushes wait (at most
    ``patience`` s) until the second title has stored something."""

    def __init__(self, first: str, second: str, patience: float = 20.0) -> None:
        self.first, self.second, self.patience = first, second, patience
        self.events: list[tuple[str, str]] = []
        self.second_wrote = threading.Event()
        self.waited_in_vain = False

    def open_pack(self, path: Path, size: int):
        pack, did, outer = super().open_pack(path, size), path.parent.name, self

        class Recording:
            def write_at(self, offset: int, data: bytes) -> None:
                pack.write_at(offset, data)
                outer.events.append(("write", did))
                if did == outer.second:
                    outer.second_wrote.set()

            def flush(self) -> None:
                if did == outer.first and not outer.second_wrote.wait(outer.patience):
                    outer.waited_in_vain = True
                pack.flush()
                outer.events.append(("flush", did))

            def __getattr__(self, name: str):
                return getattr(pack, name)

        return Recording()


def download_both(d, writer: TurnsWriter, slow_start: str | None = None):
    """Download FILM then SECOND; each title's playback call (the last step of getting ready)
    is recorded as a "ready" event, and ``slow_start``'s takes half a second."""
    rows = [d.add(t, quality="low") for t in (FILM, SECOND)]
    sources = d._sources

    async def recorded_sources(row):
        if row.id == slow_start:
            await asyncio.sleep(0.5)
        got = await sources(row)
        writer.events.append(("ready", row.id))
        return got

    d._sources = recorded_sources
    d.run_blocking(only={r.id for r in rows})
    return rows


def test_the_next_title_gets_ready_meanwhile_and_fetches_during_the_last_commit(svc, make_downloads):
    for node in svc.runtime.ocas:  # slow links: the first title fetches for about a second
        svc.call(lambda node=node: node.set_faults(FaultSpec(throughput_kbps=4000)))
    writer = TurnsWriter(FILM, SECOND)
    # One commit per title, at its end: nothing is recorded (or flushed) while it fetches.
    settings = DownloadSettings(parallel_titles=1, parallel_segments=2, reserve_bytes=0, commit_every_s=600,
                                commit_files=10_000)
    d = make_downloads(svc, writer=writer, settings=settings)
    rows = download_both(d, writer)

    assert [d.info(r.id).state for r in rows] == ["completed", "completed"]
    events = writer.events
    first_writes = [i for i, e in enumerate(events) if e == ("write", FILM)]
    second_writes = [i for i, e in enumerate(events) if e == ("write", SECOND)]
    # ready while the first title fetched...
    assert events.index(("ready", SECOND)) < first_writes[-1]
    # ...but fetching only once the first title's fetches were over (one slot)...
    assert second_writes[0] > first_writes[-1]
    # ...and while the first title's last commit was still flushing.
    assert not writer.waited_in_vain
    assert events.index(("flush", FILM)) > second_writes[0]


def test_titles_keep_their_queue_order_even_when_a_later_one_is_ready_first(svc, make_downloads):
    writer = TurnsWriter(FILM, SECOND, patience=0.0)
    settings = DownloadSettings(parallel_titles=1, parallel_segments=2, reserve_bytes=0)
    d = make_downloads(svc, writer=writer, settings=settings)
    rows = download_both(d, writer, slow_start=FILM)  # the first title's playback call takes a while

    assert [d.info(r.id).state for r in rows] == ["completed", "completed"]
    events = writer.events
    assert events.index(("ready", SECOND)) < events.index(("ready", FILM))
    writes = [did for kind, did in events if kind == "write"]
    assert writes.index(SECOND) > len(writes) - 1 - writes[::-1].index(FILM)  # all of the first, then the second
