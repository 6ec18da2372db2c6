"""Offline downloads for the views: ``downloads.api.Downloads`` behind Qt signals.

The download loop (``Downloads.run(forever=True)``) runs on its own thread with its
own asyncio loop; every other call (add needs the service and a license, the rest
touch the journal) runs on the task pool. Results come back on the UI thread:
``changed`` when the list may differ, ``progress`` with each ``DownloadProgress``,
``failed`` with a plain-words message. Views read ``items`` / ``storage`` (the last
snapshot, refreshed after every change) and never block.

Without an OS keystore the device key needs a passphrase (``ui.passphrase``). The opener
gets the service's ``SessionPassphrase``; when it has no value the call fails on its worker.
Only a user action asks (Download, playing a download, ``unlock``): ``passphraseNeeded``
goes to the GUI (``ui.views.passphrase_dialog``) and ``give_passphrase`` runs the failed
calls again. A background refresh never opens a dialog: when the key exists it marks the
downloads locked (``passphrase_wanted == "unlock"``, ``error`` says so, the Downloads page
offers Unlock); when there is no key yet, the first Download creates it. ``keep_locked``
(Cancel) changes no file.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from downloads.api import DownloadInfo, Downloads, StorageInfo
from drm.keystore import PassphraseSource
from marquee.errors import MarqueeError
from ui.passphrase import PassphraseNeeded, SessionPassphrase, locked_error, locked_message
from ui.tasks import Tasks

log = logging.getLogger("marquee.ui.downloads")

REFRESH_EVERY_S = 1.0  # progress events refresh the list at most this often
PASSPHRASE_CODES = ("passphrase_required", "passphrase_mismatch", "wrong_passphrase")


class Opener(Protocol):
    """Blocking: builds ``Downloads`` whose device key asks ``passphrase`` when there is no keystore."""

    def __call__(self, passphrase: PassphraseSource) -> Downloads: ...


def service_opener(service_url: str) -> Opener:
    """Downloads signed in to ``service_url`` (the demo account) when they need the service."""

    def open_(passphrase: PassphraseSource) -> Downloads:
        from downloads.context import DrmContext  # noqa: PLC0415
        from downloads.online import OnlineLink  # noqa: PLC0415
        from marquee.api import ServiceClient  # noqa: PLC0415

        def link() -> OnlineLink:
            client = ServiceClient(service_url, timeout=5.0, device_name="Marquee desktop downloads")
            client.login()
            return OnlineLink(client)

        return Downloads.default(link_factory=link, drm=DrmContext.default(passphrase=passphrase))

    return open_


class DownloadsService(QObject):
    changed = Signal()
    progress = Signal(object)  # DownloadProgress
    failed = Signal(str)  # plain words
    passphraseNeeded = Signal(bool, str)  # creating the key?, why it is asked again ("" the first time)

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
        self.passphrase = SessionPassphrase()
        # "unlock": the device key exists but this session has no passphrase for it; "create": the
        # user cancelled choosing one (no key yet); "": nothing is missing. A user action asks.
        self.passphrase_wanted = ""
        self._asking: bool | None = None  # None, or whether the open dialog creates the key
        self._problem = ""  # why the next dialog asks again (a wrong passphrase)
        self._waiting: list[tuple[Callable[[], None], Callable[[str], None] | None]] = []  # (retry, on cancel)
        self._fromLoop.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ worker side
    def _downloads(self) -> Downloads:
        """Open on first use (worker thread) and start the download loop."""
        with self._open_lock:
            if self._d is None:
                version = self.passphrase.version
                d = self._opener(self.passphrase)
                try:
                    d.drm.keys()  # fail now, with its message, rather than in the middle of an add
                except MarqueeError as exc:
                    d.close()
                    raise self.passphrase.translate(exc, version) from exc
                except BaseException:
                    d.close()
                    raise
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
        """A user action: when the key needs a passphrase, ask (even after a Cancel) and retry."""

        def job() -> Any:
            return fn(self._downloads())

        def ok(result: Any) -> None:
            self.error, self.passphrase_wanted = "", ""
            if done is not None:
                done(result)
            self.refresh()

        def failed(err: MarqueeError) -> None:
            if isinstance(err, PassphraseNeeded):
                self._need_passphrase(err, attempt, user_action=True)
            else:
                self._failed(err)

        def attempt() -> None:
            self._tasks.run(job, ok, failed)

        attempt()

    def _failed(self, err: MarqueeError) -> None:
        if getattr(err, "code", "") in PASSPHRASE_CODES:
            self.error = err.user_message
        self.failed.emit(err.user_message)
        self.refresh()

    def refresh(self) -> None:
        self._last_refresh = time.monotonic()
        self._tasks.run(self._snapshot, self._got_snapshot, self._snapshot_failed, key="downloads-refresh")

    # ------------------------------------------------------------ passphrase
    def _need_passphrase(self, err: PassphraseNeeded, retry: Callable[[], None], user_action: bool,
                         on_cancel: Callable[[str], None] | None = None) -> None:
        if err.version != self.passphrase.version:
            retry()  # the value changed since that attempt (typed meanwhile, or forgotten as wrong)
            return
        if err.wrong:
            self.passphrase.forget()
            self._problem = err.user_message
        if not user_action:
            if not err.creating:
                self._show_locked("unlock")
            return
        self._waiting.append((retry, on_cancel))
        if self._asking is None:
            self._asking = err.creating
            problem, self._problem = self._problem, ""
            self.passphraseNeeded.emit(err.creating, problem)

    def give_passphrase(self, value: str) -> None:
        """The passphrase typed in the dialog: keep it for this session and run what waited for it."""
        self.passphrase.set(value)
        self._asking, self.passphrase_wanted, self.error = None, "", ""
        waiting, self._waiting = self._waiting, []
        for retry, _ in waiting:
            retry()

    def keep_locked(self) -> None:
        """Cancel in the dialog: downloads stay closed; no file and no key is changed."""
        creating, self._asking = self._asking, None
        wanted = "create" if creating else "unlock"
        waiting, self._waiting = self._waiting, []
        for _, on_cancel in waiting:
            if on_cancel is not None:
                on_cancel(wanted)
        self._show_locked(wanted)
        self.failed.emit(self.error)

    def unlock(self) -> None:
        """The user wants to type the passphrase (the Downloads page's Unlock button)."""
        self._run(lambda d: None)

    def _show_locked(self, wanted: str) -> None:
        self.passphrase_wanted = wanted
        self.error = locked_message(wanted)
        self.changed.emit()

    def _got_snapshot(self, result: tuple[list[DownloadInfo], StorageInfo]) -> None:
        items, storage = result
        self.items = {i.id: i for i in items}
        self.storage = storage
        self.changed.emit()

    def _snapshot_failed(self, err: MarqueeError) -> None:
        if isinstance(err, PassphraseNeeded):
            self._need_passphrase(err, self.refresh, user_action=False)
            return
        log.warning("downloads unavailable: %s", err.message)
        if getattr(err, "code", "") in PASSPHRASE_CODES or self._d is None:
            self.error = err.user_message  # downloads cannot open at all
        self.changed.emit()

    def add(self, title_id: str, episode_id: str | None = None, quality: str | None = None, *,
            audio: list[str] | None = None, subtitles: list[str] | None = None, format: str = "dash") -> None:
        """Queue a film or an episode; ``None`` means the settings' default (``subtitles=[]``: none)."""
        target = episode_id or title_id
        self._run(lambda d: d.add(target, quality=quality, audio=audio, subtitles=subtitles, format=format))

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

        def failed(err: MarqueeError) -> None:
            if isinstance(err, PassphraseNeeded):
                self._need_passphrase(err, attempt, user_action=True,
                                      on_cancel=lambda wanted: on_error(locked_error(wanted)))
            else:
                on_error(err)

        def attempt() -> None:
            self._tasks.run(job, on_ready, failed)

        attempt()

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
