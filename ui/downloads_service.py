"""Offline downloads for the views: ``downloads.api.Downloads`` behind Qt signals.

The download loop (``Downloads.run(forever=True)``) runs on its own thread with its
own asyncio loop; every other call (add needs the service and a license, the rest
touch the journal) runs on the task pool. Results come back on the UI thread:
``changed`` when the list may differ, ``progress`` with each ``DownloadProgress``,
``failed`` with a plain-words message. Views read ``items`` / ``storage`` (the last
snapshot, refreshed after every change) and never block.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from downloads.api import DownloadInfo, Downloads, StorageInfo
from marquee.errors import MarqueeError
from ui.tasks import Tasks

log = logging.getLogger("marquee.ui.downloads")

Opener = Callable[[], Downloads]  # blocking: opens the journal and the device keys
REFRESH_EVERY_S = 1.0  # progress events refresh the list at most this often


def service_opener(service_url: str) -> Opener:
    """Downloads signed in to ``service_url`` (the demo account) when they need the service."""

    def open_() -> Downloads:
        from downloads.online import OnlineLink  # noqa: PLC0415
        from marquee.api import ServiceClient  # noqa: PLC0415

        def link() -> OnlineLink:
            client = ServiceClient(service_url, timeout=5.0, device_name="Marquee desktop downloads")
            client.login()
            return OnlineLink(client)

        return Downloads.default(link_factory=link)

    return open_


class DownloadsService(QObject):
    changed = Signal()
    progress = Signal(object)  # DownloadProgress
    failed = Signal(str)  # plain words

    _fromLoop = Signal(object)

    def __init__(self, opener: Opener, tasks: Tasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._opener = opener
        self._tasks = tasks
        self._d: Downloads | None = None
        self._open_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._last_refresh = 0.0
        self.items: dict[str, DownloadInfo] = {}
        self.storage: StorageInfo | None = None
        self.error = ""  # why downloads cannot work at all (e.g. no keystore and no passphrase)
        self._fromLoop.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ worker side
    def _downloads(self) -> Downloads:
        """Open on first use (worker thread) and start the download loop."""
        with self._open_lock:
            if self._d is None:
                d = self._opener()
                d.drm.keys()  # fail now, with its message, rather than in the middle of an add
                self._d = d
                self._start_loop(d)
            return self._d

    def _start_loop(self, d: Downloads) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(d.run(forever=True, on_progress=self._fromLoop.emit))
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # the loop must not die silently
                log.exception("download loop stopped")
                self._fromLoop.emit(exc)
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="marquee-downloads", daemon=True)
        self._thread.start()

    def _snapshot(self) -> tuple[list[DownloadInfo], StorageInfo]:
        d = self._downloads()
        try:
            d.root.mkdir(parents=True, exist_ok=True)  # free space is measured on the folder
        except OSError as exc:
            log.warning("download folder %s: %s", d.root, exc)
        return d.list(), d.storage()

    # ------------------------------------------------------------ UI side
    def _run(self, fn: Callable[[Downloads], Any], done: Callable[[Any], None] | None = None) -> None:
        def job() -> Any:
            return fn(self._downloads())

        def ok(result: Any) -> None:
            self.error = ""
            if done is not None:
                done(result)
            self.refresh()

        self._tasks.run(job, ok, self._failed)

    def _failed(self, err: MarqueeError) -> None:
        if getattr(err, "code", "") in ("passphrase_required", "passphrase_mismatch"):
            self.error = err.user_message
        self.failed.emit(err.user_message)
        self.refresh()

    def refresh(self) -> None:
        self._last_refresh = time.monotonic()
        self._tasks.run(self._snapshot, self._got_snapshot, self._snapshot_failed, key="downloads-refresh")

    def _got_snapshot(self, result: tuple[list[DownloadInfo], StorageInfo]) -> None:
        items, storage = result
        self.items = {i.id: i for i in items}
        self.storage = storage
        self.changed.emit()

    def _snapshot_failed(self, err: MarqueeError) -> None:
        log.warning("downloads unavailable: %s", err.message)
        if getattr(err, "code", "") in ("passphrase_required", "passphrase_mismatch") or self._d is None:
            self.error = err.user_message  # downloads cannot open at all
        self.changed.emit()

    def add(self, title_id: str, episode_id: str | None = None, quality: str | None = None) -> None:
        target = episode_id or title_id
        self._run(lambda d: d.add(target, quality=quality))

    def pause(self, did: str) -> None:
        self._run(lambda d: d.pause(did))

    def resume(self, did: str) -> None:
        self._run(lambda d: d.resume(did))

    def remove(self, did: str) -> None:
        self.items.pop(did, None)
        self._run(lambda d: d.remove(did))

    def prepare_playback(self, did: str, online: bool, on_ready: Callable[[Any], None],
                         on_error: Callable[[MarqueeError], None]) -> None:
        """``downloads.offline.prepare_playback`` on a worker: license checks, then the
        engine's ``PlayRequest`` and the transport that decrypts the stored files."""

        def job() -> Any:
            from downloads.offline import prepare_playback  # noqa: PLC0415

            return prepare_playback(self._downloads(), did, online=online)

        self._tasks.run(job, on_ready, on_error)

    def info_for(self, content_id: str) -> DownloadInfo | None:
        return self.items.get(content_id)

    @Slot(object)
    def _on_progress(self, p: Any) -> None:
        if isinstance(p, BaseException):
            self.failed.emit(getattr(p, "user_message", "") or "Downloads stopped unexpectedly.")
            return
        self.progress.emit(p)
        old = self.items.get(p.download_id)
        if old is None or old.state != p.state or time.monotonic() - self._last_refresh >= REFRESH_EVERY_S:
            self.refresh()

    def shutdown(self, timeout_s: float = 3.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            def cancel_all() -> None:
                for task in asyncio.all_tasks(loop):
                    task.cancel()

            loop.call_soon_threadsafe(cancel_all)
            thread.join(timeout_s)
        if self._d is not None:
            self._d.close()
            self._d = None
