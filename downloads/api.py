"""The downloads feature as the CLI and the UI use it: ``Downloads``.

    d = Downloads.default(link_factory=lambda: OnlineLink(client))   # or Downloads(...) in tests
    row = d.add("t001", quality="high")                  # online: license + plan + queue
    await d.run(on_progress=cb)                          # or d.run_blocking(); cb(DownloadProgress)
    d.pause(id); d.resume(id); d.remove(id)              # journal changes, seen by any running manager
    d.list() -> [DownloadInfo]; d.info(id); d.storage() -> StorageInfo; d.verify(id) -> damaged paths
    d.prepare_playback(id) -> OfflinePlayback(request, transport, verdict)   (downloads.offline)

The UI shows ``DownloadInfo`` (state, percent, bytes, license_remaining_s, playback_remaining_s,
message) and listens to ``DownloadProgress`` events (bytes, percent, speed, ETA).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from downloads.context import DrmContext, default_root
from downloads.disk import as_disk_full, is_disk_full
from downloads.journal import DownloadRow, Journal
from downloads.manager import DownloadManager, DownloadProgress, DownloadSettings, Sources, progress_of
from downloads.online import OnlineLink
from downloads.plan import plan_download
from downloads.plan_hls import plan_download_hls
from downloads.storage import AtomicWriter, FileWriter, TitleFiles, free_space
from downloads.trusted import TrustedTimeStore
from downloads.worker import WorkerLock, license_lock
from drm.crypto import open_range, seal
from drm.errors import DownloadDamaged
from drm.policy import LicenseTimes, remaining
from marquee import paths
from marquee.clock import Clock, SystemClock
from marquee.errors import ConfigError, MarqueeError, NetworkError

log = logging.getLogger("marquee.downloads")

LinkFactory = Callable[[], OnlineLink]
FORMATS = ("dash", "hls")


@dataclass(frozen=True)
class LicenseInfo:
    license_id: str
    issued_at: float
    expires_at: float
    can_renew: bool
    playback_duration_s: float
    first_play_at: float | None
    license_remaining_s: float
    playback_remaining_s: float | None  # None until the first play


@dataclass(frozen=True)
class DownloadInfo:
    id: str
    title_id: str
    episode_id: str | None
    label: str
    state: str  # queued | downloading | paused | completed | failed
    message: str
    bytes: int  # on disk (encrypted)
    bytes_total: int  # estimated until completed
    percent: float
    files_done: int
    files_total: int
    path: str
    quality: str
    height: int
    audio: tuple[str, ...]
    subtitles: tuple[str, ...]
    duration_s: float
    position_s: float
    license: LicenseInfo
    manifest: str = "manifest.mpd"  # the stored entry point: manifest.mpd (DASH) or master.m3u8 (HLS)

    @property
    def format(self) -> str:
        return "hls" if self.manifest.endswith(".m3u8") else "dash"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["audio"], d["subtitles"], d["format"] = list(self.audio), list(self.subtitles), self.format
        return d


@dataclass(frozen=True)
class StorageInfo:
    total_bytes: int
    per_title: dict[str, int]
    free_bytes: int
    folder: str


@dataclass
class Downloads:
    journal: Journal
    root: Path
    drm: DrmContext
    clock: Clock = field(default_factory=SystemClock)
    link_factory: LinkFactory | None = None
    settings: DownloadSettings = field(default_factory=DownloadSettings)
    writer: FileWriter = field(default_factory=AtomicWriter)
    space: Callable[[Path], int] = free_space
    http_transport: httpx.AsyncBaseTransport | None = None  # tests: route OCA traffic
    _link: OnlineLink | None = field(default=None, init=False, repr=False)

    @staticmethod
    def default(*, read_only: bool = False, **kw: Any) -> "Downloads":
        """``read_only``: listing, offline play and verify, which must work on a full disk."""
        drm = kw.pop("drm", None) or DrmContext.default()
        journal = Journal(paths.data_dir() / "downloads.sqlite3", read_only=read_only)
        return Downloads(journal, default_root(), drm, **kw)

    def close(self) -> None:
        self.journal.close()

    # ------------------------------------------------------------ online
    def link(self) -> OnlineLink:
        if self._link is None:
            if self.link_factory is None:
                raise NetworkError("no service configured", code="offline",
                                   user_message="Marquee is offline: this needs the service.")
            self._link = self.link_factory()
        return self._link

    def _trust(self, link: OnlineLink) -> None:
        self.drm.pin.accept(link.public_key(), self.clock.wall())
        link.register_device(self.drm.keys().public_b64)

    def add(self, target: str, *, quality: str | None = None, audio: list[str] | None = None,
            subtitles: list[str] | None = None, format: str = "dash") -> DownloadRow:
        """Get a license and queue ``target`` (a film or episode id) from its DASH manifest or,
        with ``format="hls"``, its HLS playlists. Needs the service."""
        if format not in FORMATS:
            raise ConfigError(f"unknown format {format!r}", user_message=f"Unknown format {format!r}: use dash or hls.")
        from player.launch import find_title

        quality, audio, subtitles = _defaults(quality, audio, subtitles)
        link = self.link()
        with license_lock():  # no other `add` between our reconciliation and our journal row
            title_id, episode_id = find_title(link.client, target)
            content_id = episode_id or title_id
            orphans = self.reconcile(link, adopt=content_id)
            existing = self.journal.get(content_id)
            if existing is not None:
                raise ConfigError(f"{content_id} is already in the downloads ({existing.state})",
                                  user_message=f"{content_id} is already downloaded or queued ({existing.state}). "
                                               "Remove it first to download it again.")
            self._trust(link)
            document = self._license(link, content_id, title_id, episode_id, orphans.get(content_id))
            lic = self.drm.verify(document)
            try:
                self.journal.intent_license(content_id, lic.license_id)
                key = self.drm.content_key(document)
                TrustedTimeStore(self.journal, self.drm.timemark()).observe_service_time(lic.server_time,
                                                                                         self.clock.wall())
                plan, info, files, manifests = self._plan(link, lic, key, title_id, episode_id, format=format,
                                                          quality=quality, audio=audio, subtitles=subtitles)
                label = lic.title_id if lic.episode_id is None else f"{lic.title_id} {lic.episode_id}"
                self.journal.create(lic.content_id, title_id=lic.title_id, episode_id=lic.episode_id, label=label,
                                    media_id=info.media_id, quality=quality, plan=plan, path=str(files.folder),
                                    license=document, license_id=lic.license_id, now=self.clock.wall(),
                                    done=manifests)
            except BaseException as exc:
                self._undo_license(content_id, lic.license_id)
                if isinstance(exc, Exception) and not isinstance(exc, MarqueeError) and is_disk_full(exc):
                    raise as_disk_full(exc) from exc
                raise
        row = self.journal.get(lic.content_id)
        assert row is not None
        return row

    def _license(self, link: OnlineLink, content_id: str, title_id: str, episode_id: str | None,
                 orphan: str | None) -> dict[str, Any]:
        """Step one of two: the intent is recorded (durably) before the request, so a crash
        from here to the journal row leaves a trace ``reconcile`` finds. A license this device
        already holds for the title but lost (an earlier crash) is taken back (renewed), not
        issued again: it would count against the title's download limit."""
        self.journal.record_intent(content_id, self.clock.wall())  # DiskFull: nothing asked yet
        if orphan is not None:
            try:
                return link.renew(orphan)
            except MarqueeError as exc:
                log.info("cannot take back license %s (%s): releasing it", orphan, exc.message)
                self._release_or_queue(orphan)
        return link.acquire(title_id, episode_id)

    def _undo_license(self, content_id: str, license_id: str) -> None:
        """Every failure after the license: release it (or queue the release); the intent
        goes once the release is recorded either way. Best effort on a full disk: the intent
        stays and the next start reconciles."""
        try:
            self._release_or_queue(license_id)
            self.journal.drop_intent(content_id)
        except Exception as exc:
            log.warning("license %s left to the next reconciliation: %s", license_id, exc)

    def _plan(self, link: OnlineLink, lic: Any, key: bytes, title_id: str, episode_id: str | None, *, format: str,
              quality: str, audio: list[str], subtitles: list[str]) -> tuple[Any, Any, TitleFiles, Any]:
        info = link.playback(title_id, episode_id)
        if format == "hls":
            if not info.hls_url:
                raise ConfigError("no HLS manifest", user_message="This title has no HLS version.")
            plan = plan_download_hls(link.client.get_bytes(info.hls_url), info.hls_url, link.client.get_bytes,
                                     quality=quality, audio=audio, subtitles=subtitles)
        else:
            mpd = link.client.get_bytes(info.dash_url)
            plan = plan_download(mpd, info.dash_url, quality=quality, audio=audio, subtitles=subtitles,
                                 fetch=link.client.get_bytes)
        files = TitleFiles(self.root / lic.content_id)
        files.ensure()
        manifests: builtins.list[tuple[str, int, int, int | None]] = []
        for path, data in plan.manifests():  # rewritten and encrypted like every other file
            blob = seal(key, f"{lic.content_id}/{path}", data)
            self.writer.write(files.file(path), blob)
            manifests.append((path, len(blob), len(data), None))
        self.writer.sync(files.folder)
        return plan, info, files, manifests

    def reconcile(self, link: OnlineLink | None = None, *, adopt: str | None = None) -> dict[str, str]:
        """At start: release the licenses a crash left behind (``downloads.licenses.reconcile``)."""
        from downloads.licenses import reconcile

        return reconcile(self, link or self.link(), adopt=adopt)

    async def _sources(self, row: DownloadRow) -> Sources:
        link = self.link()
        info = await asyncio.to_thread(link.playback, row.title_id, row.episode_id)

        async def refresh() -> dict[str, str]:
            fresh = await asyncio.to_thread(link.playback, row.title_id, row.episode_id)
            return {o.id: o.base_url for o in fresh.ocas}

        ocas = sorted(info.ocas, key=lambda o: o.rank)
        return ({o.id: o.base_url for o in ocas}, {o.id: o.name for o in ocas}, [o.id for o in ocas], refresh)

    def manager(self, client: httpx.AsyncClient,
                on_progress: Callable[[DownloadProgress], None] | None = None) -> DownloadManager:
        return DownloadManager(self.journal, root=self.root, key_for=lambda r: self.drm.content_key(r.license),
                               sources=self._sources, client=client, clock=self.clock, settings=self.settings,
                               writer=self.writer, space=self.space, on_progress=on_progress)

    async def run(self, *, only: set[str] | None = None, forever: bool = False,
                  on_progress: Callable[[DownloadProgress], None] | None = None, locked: bool = False) -> None:
        """Download what is queued. One process downloads per home (``downloads.lock``): unless
        the caller holds it (``locked``), it is taken here; when another process has it, a
        ``forever`` run (the app) waits for it, idle, and any other run returns at once."""
        if locked:
            await self._run(only, forever, on_progress)
            return
        while True:
            with WorkerLock() as lock:
                if lock.acquired:
                    await self._run(only, forever, on_progress)
                    return
            if not forever:
                log.info("another process is downloading for this home: nothing done here")
                return
            await asyncio.sleep(5 * self.settings.idle_poll_s)

    async def _run(self, only: set[str] | None, forever: bool,
                   on_progress: Callable[[DownloadProgress], None] | None) -> None:
        from player.engine import http_client

        # Requests in flight never exceed parallel_titles x parallel_segments (+2 while a
        # failed connection closes).
        client = http_client(connections=self.settings.parallel_titles * self.settings.parallel_segments + 2)
        if self.http_transport is not None:
            await client.aclose()
            client = httpx.AsyncClient(transport=self.http_transport, timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            await self.manager(client, on_progress).run(only=only, forever=forever)
        finally:
            await client.aclose()

    def run_blocking(self, **kw: Any) -> None:
        asyncio.run(self.run(**kw))

    # ------------------------------------------------------------ control
    def _row(self, did: str) -> DownloadRow:
        row = self.journal.get(did)
        if row is None:
            raise ConfigError(f"no download {did!r}", user_message=f"There is no download {did!r} "
                                                                   "(see `marquee download list`).")
        return row

    def pause(self, did: str) -> None:
        row = self._row(did)
        if not self.journal.set_state(did, "paused", self.clock.wall(), "Paused.",
                                      only_from=("queued", "downloading")):
            raise ConfigError(f"{did} is {row.state}", user_message=f"{did} is {row.state}: nothing to pause.")

    def resume(self, did: str) -> None:
        row = self._row(did)
        if not self.journal.set_state(did, "queued", self.clock.wall(), only_from=("paused", "failed", "queued",
                                                                                     "downloading")):
            raise ConfigError(f"{did} is {row.state}", user_message=f"{did} is {row.state}: nothing to resume.")

    def remove(self, did: str) -> bool:
        """Delete the files and the journal entry; release the license (now, or queued when offline).
        Returns whether the release reached the service."""
        row = self._row(did)
        self.journal.delete(did)  # a running manager sees this and stops the title
        TitleFiles(Path(row.path)).remove()
        return self._release_or_queue(row.license_id)

    cancel = remove

    def _release_or_queue(self, license_id: str) -> bool:
        try:
            self.link().release(license_id)
            return True
        except (NetworkError, ConfigError) as exc:
            log.info("release of %s queued (%s)", license_id, exc.message)
        except MarqueeError as exc:
            if getattr(exc, "code", "") == "license_unknown":
                return True
            log.info("release of %s queued (%s)", license_id, exc.message)
        try:
            self.journal.queue_release(license_id, self.clock.wall())
        except MarqueeError as exc:  # a full disk: the intent (if any) lets the next start find it
            log.warning("release of %s not queued: %s", license_id, exc.message)
        return False

    def flush_releases(self) -> int:
        """Send the releases made offline; returns how many reached the service."""
        sent = 0
        for license_id in self.journal.pending_releases():
            try:
                self.link().release(license_id)
            except NetworkError:
                break
            except MarqueeError as exc:
                if getattr(exc, "code", "") not in ("license_unknown",):
                    log.warning("release of %s refused: %s", license_id, exc.message)
            self.journal.release_sent(license_id)
            sent += 1
        return sent

    # ------------------------------------------------------------ views
    def info(self, did: str) -> DownloadInfo:
        return self._info(self._row(did))

    def list(self) -> list[DownloadInfo]:
        return [self._info(r) for r in self.journal.all()]

    def _info(self, row: DownloadRow) -> DownloadInfo:
        payload = row.license.get("license", {})
        times = LicenseTimes(float(payload.get("issued_at", 0)), float(payload.get("expires_at", 0)),
                             float(payload.get("playback_duration_s", 0)), bool(payload.get("can_renew", False)),
                             row.first_play_at)
        lic_left, play_left = remaining(times, self.clock.wall())
        progress = progress_of(self.journal, row.id)
        return DownloadInfo(
            row.id, row.title_id, row.episode_id, row.label, row.state, row.message, progress.bytes_done,
            progress.bytes_total, progress.percent, progress.files_done, progress.files_total, row.path,
            row.quality, row.height, row.audio, row.subtitles, row.duration_s, row.position_s,
            LicenseInfo(row.license_id, times.issued_at, times.expires_at, times.can_renew, times.playback_duration_s,
                        row.first_play_at, round(lic_left, 1), None if play_left is None else round(play_left, 1)),
            self.journal.manifest_path(row.id))

    def storage(self) -> StorageInfo:
        per = {r.id: TitleFiles(Path(r.path)).size() for r in self.journal.all()}
        return StorageInfo(sum(per.values()), per, self.space(self.root), str(self.root))

    def verify(self, did: str) -> "builtins.list[str]":
        """Decrypt every stored file of ``did`` in memory; the paths that fail authentication."""
        row = self._row(did)
        key = self.drm.content_key(row.license)
        files = TitleFiles(Path(row.path))
        damaged: builtins.list[str] = []
        for f in self.journal.files(did, done=True):
            try:
                read_at, size = files.reader(f)
                open_range(key, f"{did}/{f.path}", read_at, size)
            except (DownloadDamaged, OSError):
                damaged.append(f.path)
        return damaged


def _defaults(quality: str | None, audio: list[str] | None,
              subtitles: list[str] | None) -> tuple[str, list[str], list[str]]:
    try:
        from marquee import settings

        loaded, _ = settings.load()
    except Exception:
        loaded = None
    q = quality or (str(loaded.get("downloads.quality", "standard")) if loaded else "standard")
    a = audio or ([str(loaded.get("playback.audio_language", "en"))] if loaded else ["en"])
    s = subtitles if subtitles is not None else (
        [str(loaded.get("playback.subtitle_language"))] if loaded and loaded.get("playback.subtitle_language") else [])
    return q, a, s
