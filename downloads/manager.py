"""The download manager: a queue of titles, each fetched with parallel segment downloads
through the streaming fetcher (same OCA ranking and failover), encrypted in memory and
appended to the title's pack (``downloads.storage``), recorded once durable; progress as events.

Runs on one asyncio loop. Pause, resume and delete are journal state changes: the run
loop polls the journal, so a ``marquee download pause`` from another process and the
UI's button act the same way. Disk space is checked before a title starts and watched
while it is written (``PackSpace``); ENOSPC (or too little space) pauses the title with a
clear message, and what was written but not recorded is cut off the pack. A title stopped
by a full disk (even one whose "paused" cannot be written: the journal cannot grow either)
is tried again on a schedule or once the space is back (``downloads.disk``), never at once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Awaitable, Callable

import httpx

from downloads.disk import DISK_FULL_MESSAGE, DiskFull, Hold, RetrySchedule, as_disk_full, is_disk_full, next_hold
from downloads.journal import DownloadRow, FileRow, Journal, Totals
from downloads.pipeline import GroupCommit, PackSpace, Stored, Tally, Turn, Turns, to_the_end
from downloads.storage import AtomicWriter, FileWriter, Pack, TitleFiles, free_space
from drm.crypto import seal_into
from marquee.clock import Clock
from marquee.errors import MarqueeError, StorageError
from player.events import PlayerEvent
from player.fetch import Fetcher, FetchTarget, OcaPool
from player.oca.ranking import OcaRanker

log = logging.getLogger("marquee.downloads")

# (bases by OCA id, names, order best first, refresh of the signed bases)
Sources = tuple[dict[str, str], dict[str, str], list[str], Callable[[], Awaitable[dict[str, str]]] | None]
SourceProvider = Callable[[DownloadRow], Awaitable[Sources]]
KeyProvider = Callable[[DownloadRow], bytes]


@dataclass(frozen=True)
class DownloadSettings:
    parallel_titles: int = 2
    parallel_segments: int = 2  # fetches in flight per title (x parallel_titles: 4 in all hide the latency)
    commit_every_s: float = 1.0  # stored files are recorded in batches: at most this late...
    commit_files: int = 32  # ...or as soon as this many wait (each commit = 2 fsyncs: pack + journal)
    reserve_bytes: int = 16 << 20  # keep this much free on the disk
    space_check_bytes: int = 32 << 20  # with room to spare, the free space is looked at every this many bytes
    space_factor: float = 1.1  # estimated sizes are rough: ask for a margin before starting
    poll_s: float = 0.25
    idle_poll_s: float = 1.0  # nothing downloading (e.g. every title waits for disk space): look less often
    speed_window_s: float = 5.0
    retry_disk_full: bool = True  # a running manager retries titles a full disk stopped (False: they stay paused)
    wait_for_space: bool = False  # run() without ``forever`` keeps running while such titles wait (the worker)
    disk_retry: RetrySchedule = RetrySchedule()


@dataclass(frozen=True)
class DownloadProgress:
    """One progress event (also the UI's view of a download's state)."""

    download_id: str
    state: str
    bytes_done: int
    bytes_total: int  # estimated until completed, then exact
    percent: float
    speed_bps: float  # bytes per second over the last few seconds
    eta_s: float | None
    files_done: int
    files_total: int
    message: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


__all__ = ["DiskFull", "DownloadManager", "DownloadProgress", "DownloadSettings"]
_Turns, _to_the_end = Turns, to_the_end  # (older names, used by the tests)


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


class DownloadManager:
    def __init__(self, journal: Journal, *, root: Path, key_for: KeyProvider, sources: SourceProvider,
                 client: httpx.AsyncClient, clock: Clock, settings: DownloadSettings = DownloadSettings(),
                 writer: FileWriter | None = None, space: Callable[[Path], int] = free_space,
                 on_progress: Callable[[DownloadProgress], None] | None = None) -> None:
        self.journal = journal
        self.root = root
        self.key_for = key_for
        self.sources = sources
        self.client = client
        self.clock = clock
        self.settings = settings
        self.writer = writer or AtomicWriter()
        self.space = space
        self.on_progress = on_progress or (lambda p: None)
        self._active: dict[str, asyncio.Task[None]] = {}
        # ``parallel_titles`` titles fetch at once, and as many more get ready meanwhile (journal,
        # disk space, content key, pack, playback URLs: ~10-20 ms) and wait for their turn. Without
        # that look-ahead the network sat idle 15-20% of the time between short episodes
        # (measured in benchmarks/downloads.py).
        self._turns = Turns(settings.parallel_titles)
        self._stopping: set[str] = set()  # titles already told to stop (a second cancel would cut their clean-up)
        self._speed: dict[str, collections.deque[tuple[float, int]]] = {}
        self.holds: dict[str, Hold] = {}  # titles a full disk stopped: not started again before their time
        self._tried: dict[str, Hold] = {}  # ...and the last hold of those tried again (the schedule goes on)
        self.wakeup = asyncio.Event()
        # Sealed bytes go here, then straight into a pack: one buffer, reused (the loop stores
        # one file at a time), so sealing never touches fresh memory.
        self._sealed = bytearray()

    # ------------------------------------------------------------------ loop
    async def run(self, *, only: set[str] | None = None, forever: bool = False) -> None:
        """Download queued titles (and those a crash left 'downloading') until none is left."""
        try:
            while True:
                # Cleared before looking, never after: a title that ends while we look sets it
                # again, and the wait below returns at once (a clear after the checks lost that
                # wakeup and idled a full poll_s after every title).
                self.wakeup.clear()
                self._reap()
                for did in await asyncio.to_thread(self._stopped_by_user, list(self._active)):
                    if did in self._active and did not in self._stopping:
                        self._stopping.add(did)
                        self._active[did].cancel()
                queued = await asyncio.to_thread(self._startable, only)
                waiting = [r for r in queued if r.id not in self._active]
                for row in waiting[: max(0, 2 * self.settings.parallel_titles - len(self._active))]:
                    task = asyncio.create_task(self._download(row, self._turns.admit()), name=f"download {row.id}")
                    task.add_done_callback(lambda _: self.wakeup.set())
                    self._active[row.id] = task
                held = self.settings.wait_for_space and any(only is None or h in only for h in self.holds)
                if not self._active and not waiting and not forever and not held:
                    return
                try:
                    await asyncio.wait_for(self.wakeup.wait(),
                                           self.settings.poll_s if self._active else self.settings.idle_poll_s)
                except asyncio.TimeoutError:
                    pass
        finally:
            for task in self._active.values():
                task.cancel()
            if self._active:
                await asyncio.gather(*self._active.values(), return_exceptions=True)
            self._active.clear()

    def _reap(self) -> None:
        for did, task in list(self._active.items()):
            if task.done():
                del self._active[did]
                self._stopping.discard(did)
                if not task.cancelled() and task.exception() is not None:  # never restarted at once
                    self._hold(did, f"crashed: {task.exception()!r}")

    def _startable(self, only: set[str] | None) -> list[DownloadRow]:
        """In a worker thread: the titles to start now. Those a full disk stopped wait for
        their hold (a retry time, or the space back); when it is due, one stopped as
        "paused" (its message says why) is queued again."""
        now = self.clock.monotonic()
        rows = self.journal.in_state("queued", "downloading", "paused")
        out = []
        for row in rows:
            if only is not None and row.id not in only:
                continue
            disk_paused = row.state == "paused" and row.message == DISK_FULL_MESSAGE
            if row.state == "paused" and not (disk_paused and self.settings.retry_disk_full):
                continue
            hold = self.holds.get(row.id)
            if hold is None and disk_paused:
                hold = self.holds[row.id] = Hold(0, now, self._need(row.id))
            if hold is not None:
                if not self.settings.retry_disk_full or not hold.due(now, self._free()):
                    continue
                if disk_paused:
                    try:
                        self.journal.set_state(row.id, "queued", self.clock.wall(), only_from=("paused",))
                    except Exception as exc:
                        self._hold(row.id, f"cannot queue it again: {exc}")
                        continue
                self._tried[row.id] = self.holds.pop(row.id)
                log.info("download %s: trying again after a full disk", row.id)
            out.append(row)
        return out

    def _free(self) -> int | None:
        try:
            return self.space(self.root)
        except OSError:
            return None

    def _need(self, did: str) -> int:
        """The free space a title stopped by a full disk waits for before it is tried again."""
        try:
            remaining = self.journal.totals(did).est_remaining
        except Exception:
            remaining = 0
        return int(remaining * self.settings.space_factor) + 2 * self.settings.reserve_bytes + (1 << 20)

    def _hold(self, did: str, why: str) -> None:
        """Stop trying ``did`` until its next retry time (one log line per try, no traceback)."""
        hold = next_hold(self.holds.get(did) or self._tried.get(did), self.clock.monotonic(), self._need(did), self._free(),
                         self.settings.disk_retry)
        self.holds[did] = hold
        log.warning("download %s stopped (%s); next try in %.0f s or when %s are free", did, why,
                    hold.retry_at - self.clock.monotonic(), _mb(hold.need_bytes))

    def _stopped_by_user(self, running: list[str]) -> list[str]:
        """The titles of ``running`` paused or deleted through the journal (by the UI or another
        process). In a worker thread, as every journal access of the manager: a commit's fsync
        never blocks the event loop (the fetches)."""
        stopped = []
        for did in running:
            row = self.journal.get(did)
            # Only the user's changes: "completed" or "failed" are the title's own last step,
            # and cancelling it there would drop its final progress event.
            if row is None or row.state == "paused":
                log.info("download %s: %s", did, "deleted" if row is None else row.state)
                stopped.append(did)
        return stopped

    # ---------------------------------------------------------------- a title
    async def _download(self, row: DownloadRow, turn: "Turn") -> None:
        files = TitleFiles(self.root / row.id)
        try:
            await self._download_title(row, files, turn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            disk = is_disk_full(exc)
            if disk:  # held before anything else: whatever happens next, no restart at once
                self._hold(row.id, f"the disk is full: {as_disk_full(exc).message}")
            try:
                if disk:
                    await self._set(row.id, "paused", DISK_FULL_MESSAGE)
                else:
                    await self._stop_for(row.id, exc)
            except asyncio.CancelledError:
                raise
            except Exception as record_exc:  # the stop itself could not be recorded
                if not disk:
                    self._hold(row.id, f"cannot record its state: {record_exc}")
                self.on_progress(self._unrecorded_stop(row.id, DISK_FULL_MESSAGE if disk else str(record_exc)))
        finally:
            turn.pass_on()  # (when the title ended before its turn) the next one may go

    def _unrecorded_stop(self, did: str, message: str) -> DownloadProgress:
        """The progress event of a stop the journal could not take (its counters, read only)."""
        try:
            p = self.progress(did)
        except Exception:
            return make_progress(did, "paused", message, 0, 0, 0, 0, 0.0)
        return make_progress(did, "paused", message, p.files_total, p.files_done, p.bytes_done,
                             p.bytes_total - p.bytes_done, 0.0)

    async def _stop_for(self, did: str, exc: Exception) -> None:
        if isinstance(exc, MarqueeError):
            log.warning("download %s failed: %s", did, exc.message)
            await self._set(did, "failed", exc.user_message)
        elif isinstance(exc, OSError):
            log.warning("download %s paused: %s", did, exc)
            await self._set(did, "paused", f"Cannot write the download ({exc.strerror or exc}); "
                                           "it is paused: check the download folder, then resume.")
        else:  # a bug: stop this title (left "downloading", the loop would restart it forever)
            log.error("download %s failed unexpectedly", did, exc_info=exc)
            await self._set(did, "failed", "The download stopped because of an internal error; "
                                           "resume it to try again.")

    async def _set(self, did: str, state: str, message: str = "") -> None:
        """Move ``did`` to ``state`` (unless the UI paused or deleted it meanwhile); progress event."""
        progress = await asyncio.to_thread(self._change, did, state, message)
        if progress is not None:
            self.on_progress(progress)

    def _change(self, did: str, state: str, message: str = "") -> DownloadProgress | None:
        if self.journal.get(did) is None:
            return None
        self.journal.set_state(did, state, self.clock.wall(), message, only_from=("queued", "downloading"))
        return self.progress(did)

    async def _download_title(self, row: DownloadRow, files: TitleFiles, turn: "Turn") -> None:
        todo, totals, key, pack = await self._prepared(row, files)
        if pack is not None:
            try:
                bases, names, order, refresh = await self.sources(row)
                fetcher = Fetcher(self.client, OcaPool(dict(bases), dict(names)), OcaRanker(order), self.clock,
                                  self._fetch_event(row.id), refresh=refresh)
                await self._fetch_all(row, fetcher, key, todo, totals, pack, turn)
            finally:
                await to_the_end(asyncio.to_thread(self._close_pack, row.id, pack.pack))

        def complete() -> DownloadProgress | None:
            left = self.journal.files(row.id, done=False)
            if left:
                raise StorageError(f"{len(left)} files not downloaded", user_message="The download is incomplete.")
            return self._change(row.id, "completed")

        progress = await asyncio.to_thread(complete)  # one hop: titles are short in the benchmark, hops add up
        if progress is not None:
            self.on_progress(progress)

    async def _prepared(self, row: DownloadRow, files: TitleFiles) -> tuple[list[FileRow], Totals, bytes,
                                                                           "PackSpace | None"]:
        """``_prepare`` in a worker thread; a pause arriving meanwhile closes the pack it opens."""
        task = asyncio.ensure_future(asyncio.to_thread(self._prepare, row, files))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            def close(done: asyncio.Future[tuple[list[FileRow], Totals, bytes, PackSpace | None]]) -> None:
                pack = None if done.cancelled() or done.exception() else done.result()[3]
                if pack is not None:
                    pack.pack.close()

            task.add_done_callback(close)
            raise

    def _open_pack(self, did: str, files: TitleFiles) -> "PackSpace":
        end = self.journal.pack_end(did)
        return PackSpace(self.writer.open_pack(files.pack, end), end, lambda: self.space(files.folder),
                          self.settings.reserve_bytes, self.settings.space_check_bytes)

    def _close_pack(self, did: str, pack: Pack) -> None:
        """Blobs written but not recorded (a pause, a full disk, a failed commit) are cut off
        now, which gives their space back at once; a crash leaves them to the next start."""
        try:
            pack.truncate(self.journal.pack_end(did))
        finally:
            pack.close()

    def _prepare(self, row: DownloadRow, files: TitleFiles) -> tuple[list[FileRow], Totals, bytes, "PackSpace | None"]:
        """In a worker thread: clear what a crash left behind, check the disk space; when there
        is something to fetch, open the content key and the pack."""
        files.ensure()
        files.remove_partials()
        files.remove_unrecorded(f.path for f in self.journal.files(row.id, done=True) if f.pack_offset is None)
        todo = self.journal.files(row.id, done=False)
        totals = self.journal.totals(row.id)
        if todo:
            need = int(totals.est_remaining * self.settings.space_factor) + self.settings.reserve_bytes
            free = self.space(files.folder)
            if free < need:
                raise DiskFull(f"needs about {_mb(need)}, {_mb(free)} free")
        if not todo:
            return todo, totals, b"", None
        key = self.key_for(row)
        return todo, totals, key, self._open_pack(row.id, files)

    async def _fetch_all(self, row: DownloadRow, fetcher: Fetcher, key: bytes, todo: list[FileRow], totals: Totals,
                         pack: "PackSpace", turn: "Turn") -> None:
        """The pipeline of one title, all on the event loop: fetch (``parallel_segments`` at a
        time), seal and write into the pack, and batched commits in a worker thread: one pack
        fdatasync and one journal transaction for the files stored in the last
        ``commit_every_s`` (or ``commit_files`` of them, whichever comes first). A crash loses
        at most that much work: the unrecorded blobs are cut off the pack and fetched again.

        Sealing and writing stay on the loop: AES-GCM and a write into the page cache cost
        ~0.5 ms per MB, while handing every file to a thread and back cost ~1.5 ms per MB of
        CPU (futex wakeups, GIL hand-offs; measured in benchmarks/downloads.py). A write never
        waits for the disk: durability is the commit's fdatasync, in a thread. A file slot is
        held until its file is stored and, past ``commit_files``, committed: unflushed data
        stays bounded, so the kernel never throttles the loop's writes."""
        fetch_gate = asyncio.Semaphore(max(1, self.settings.parallel_segments))
        tally = Tally(totals.files, totals.files_done, totals.bytes_done, totals.est_remaining)
        est = {f.path: f.est_bytes for f in todo}

        def committed(batch: list[Stored]) -> None:
            self._tried.pop(row.id, None)  # it moves again: a next full disk starts the schedule afresh
            for item in batch:
                tally.files_done += 1
                tally.bytes_done += item.stored_bytes
                tally.est_remaining -= est.get(item.path, 0)
                self._note_bytes(row.id, item.stored_bytes)
            self.on_progress(self._progress(row.id, "downloading", tally))

        commits = GroupCommit(self.journal, pack.pack, row.id, committed)

        async def one(f: FileRow) -> None:
            async with fetch_gate:
                result = await fetcher.fetch(FetchTarget(f.url, byte_range=f.byte_range, expected_bytes=f.range_bytes,
                                                         label=f"{row.id}/{f.path}"))
                commits.add(self._seal_and_store(pack, key, f"{row.id}/{f.path}", f.path, result.data))
                if len(commits.pending) >= self.settings.commit_files:
                    await commits.commit()

        async def every() -> None:
            while True:
                await asyncio.sleep(self.settings.commit_every_s)
                await commits.commit()

        tasks: list[asyncio.Task[None]] = []
        try:
            async with turn:  # held while fetching only: the last commit runs as the next title starts
                tasks = [asyncio.create_task(one(f)) for f in todo] + [asyncio.create_task(every())]
                await asyncio.gather(self._set(row.id, "downloading"), *tasks[:-1])
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await to_the_end(self._settle(row.id, commits))

    async def _settle(self, did: str, commits: "GroupCommit") -> None:
        """What is written is recorded (even on pause), whole (``_to_the_end``): the caller then
        cuts what is not off the pack, and a cut made while a commit runs could drop recorded blobs."""
        try:
            await commits.commit()
        except Exception as exc:  # the blobs stay unrecorded: cut off and fetched again next time
            log.warning("download %s: recording finished files failed: %s", did, exc)
            if is_disk_full(exc):
                raise as_disk_full(exc) from exc

    def _seal_and_store(self, pack: "PackSpace", key: bytes, label: str, relpath: str, data: bytes) -> "Stored":
        """Encrypt in memory, then write into the pack (durable at the next commit's flush)."""
        blob = seal_into(self._sealed, key, label, data)
        try:
            offset = pack.append(blob)
        except OSError as exc:  # what got written stays unrecorded: cut off by the clean-up
            if is_disk_full(exc):
                raise DiskFull(str(exc)) from exc
            raise
        return Stored(relpath, len(blob), len(data), offset)

    def _fetch_event(self, did: str) -> Callable[[PlayerEvent], None]:
        def emit(event: PlayerEvent) -> None:
            if event.kind in ("failover", "error"):
                log.warning("download %s: %s %s", did, event.kind, event.data)

        return emit

    # --------------------------------------------------------------- progress
    def _note_bytes(self, did: str, n: int) -> None:
        window = self._speed.setdefault(did, collections.deque())
        now = self.clock.monotonic()
        window.append((now, n))
        while window and now - window[0][0] > self.settings.speed_window_s:
            window.popleft()

    def _speed_bps(self, did: str) -> float:
        window = self._speed.get(did)
        if not window:
            return 0.0
        span = max(self.clock.monotonic() - window[0][0], 0.5)
        return sum(n for _, n in window) / span

    def progress(self, did: str) -> DownloadProgress:
        return progress_of(self.journal, did, self._speed_bps(did))

    def _progress(self, did: str, state: str, tally: "Tally") -> DownloadProgress:
        """From the running title's counters: no journal query on the event loop per file."""
        return make_progress(did, state, "", tally.files, tally.files_done, tally.bytes_done, tally.est_remaining,
                             self._speed_bps(did))


def make_progress(did: str, state: str, message: str, files: int, files_done: int, bytes_done: int,
                  est_remaining: int, speed_bps: float) -> DownloadProgress:
    total = bytes_done + (0 if state == "completed" else est_remaining)
    percent = 100.0 if state == "completed" else min(99.9, 100.0 * bytes_done / total) if total else 0.0
    eta = est_remaining / speed_bps if speed_bps > 0 and state == "downloading" else None
    return DownloadProgress(did, state, bytes_done, total, round(percent, 1), round(speed_bps, 1),
                            None if eta is None else round(eta, 1), files_done, files, message)


def progress_of(journal: Journal, did: str, speed_bps: float = 0.0) -> DownloadProgress:
    row = journal.get(did)
    totals = journal.totals(did)
    return make_progress(did, row.state if row else "deleted", row.message if row else "", totals.files,
                         totals.files_done, totals.bytes_done, totals.est_remaining, speed_bps)
