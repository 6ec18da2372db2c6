"""Prepare an offline playback: check the license (signature, device, revocation when
online, the trusted-time mark and clock rollback, expiry, playback window), renew it when
due and online, start (and seal) the playback window, and build the engine's
``PlayRequest`` + ``OfflineTransport``. Fails closed: a mark that is missing, older than
the journal says or does not authenticate blocks playback until the service is reached
(the time confirmed, the license renewed); see ``drm.timemark``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from downloads.api import Downloads
from downloads.offline_transport import OfflineTitle, OfflineTransport, offline_url
from downloads.storage import TitleFiles
from downloads.trusted import TrustedTimeStore
from drm.errors import license_error
from drm.license import License
from drm.policy import LicenseTimes, Verdict, check_clock, evaluate
from drm.timemark import PROBLEMS, SealedMark, first_play
from marquee.clock import Clock
from marquee.errors import ConfigError, MarqueeError, NetworkError
from player.control import PlayRequest

log = logging.getLogger("marquee.downloads")
SAVE_MARK_EVERY_S = 30.0


@dataclass
class OfflinePlayback:
    download_id: str
    request: PlayRequest
    transport: OfflineTransport
    verdict: Verdict


def prepare_playback(d: Downloads, did: str, *, online: bool = True, start_s: float | None = None,
                     audio: str | None = None, subtitles: str | None = None) -> OfflinePlayback:
    row = d._row(did)
    if row.state != "completed":
        raise ConfigError(f"{did} is {row.state}", user_message=f"{did} is not fully downloaded yet ({row.state}).")
    document = row.license
    lic = d.drm.verify(document)
    store = TrustedTimeStore(d.journal, d.drm.timemark())
    mark, problem = store.load()
    server_time: float | None = None
    revoked = False
    link = None
    if online and d.link_factory is not None:
        try:
            link = d.link()
            d.flush_releases()
            status = link.status([lic.license_id])
            server_time = float(status["server_time"])
            state = status["licenses"][0]["state"]
            revoked = state in ("revoked", "released", "unknown")
        except NetworkError as exc:
            log.info("offline playback without the service: %s", exc.message)
            link = None
    if problem:
        if server_time is None or link is None:  # fail closed: only the service can vouch for the time now
            raise license_error("clock_rollback", f"trusted time {problem}",
                                f"{PROBLEMS[problem]}. Connect to the internet once so Marquee can check the "
                                "time and renew this download's license, then play it again.")
        if not revoked:
            document, lic = _renew(d, link, did, lic.license_id, document, lic)
        mark = store.observe_service_time(server_time, d.clock.wall())
        server_time = None  # folded into the mark just saved
    check = check_clock(None if mark is None else mark.time, d.clock.wall(), server_time=server_time)
    mark = SealedMark(check.mark, 0 if mark is None else mark.seq, {} if mark is None else mark.played)
    if not check.ok:
        store.save_quietly(mark)
        raise license_error(check.code, check.message)
    first = first_play(lic.license_id, lic.issued_at, mark, row.first_play_at,
                       d.drm.timemark().first_play_ok(lic.license_id, row.first_play_at, row.first_play_seal)
                       if row.first_play_at is not None else True)
    times = LicenseTimes(lic.issued_at, lic.expires_at, lic.playback_duration_s, lic.can_renew, first, revoked)
    verdict = evaluate(times, check.now)
    if verdict.renew_due and server_time is not None and link is not None:
        document, lic = _renew(d, link, did, lic.license_id, document, lic)
        times = LicenseTimes(lic.issued_at, lic.expires_at, lic.playback_duration_s, lic.can_renew, first, revoked)
        verdict = evaluate(times, check.now)
    if not verdict.allowed:
        store.save_quietly(mark)
        raise license_error(verdict.code, verdict.message)
    mark = _record_first_play(d, store, did, lic.license_id, mark, first, check.now)
    times = replace(times, first_play_at=mark.played[lic.license_id])
    key = d.drm.content_key(document)
    gate = _Gate(store, times, mark, d.clock)
    stored = {f.path: f for f in d.journal.files(did, done=True)}
    transport = OfflineTransport({did: OfflineTitle(TitleFiles(Path(row.path)), key, stored, gate)})
    start = row.position_s if start_s is None else start_s
    if start_s is None and row.duration_s and start >= row.duration_s - 5:
        start = 0.0  # finished last time: from the start
    request = PlayRequest(manifest_url=offline_url(did, d.journal.manifest_path(did)), title=row.label, start_s=max(0.0, start),
                          audio_language=audio or (row.audio[0] if row.audio else None),
                          subtitle_language=subtitles, source_name="this device")
    return OfflinePlayback(did, request, transport, verdict)


def _renew(d: Downloads, link: Any, did: str, license_id: str, document: dict[str, Any],
           lic: License) -> tuple[dict[str, Any], License]:
    try:
        renewed = link.renew(license_id)
        fresh = d.drm.verify(renewed)
    except MarqueeError as exc:
        log.warning("renewing %s failed: %s", license_id, exc.message)
        return document, lic
    try:
        d.journal.set_license(did, renewed, d.clock.wall())
    except MarqueeError as exc:  # a full disk: this play uses it, the next one renews again
        log.warning("cannot store the renewed license of %s: %s", did, exc.message)
    return renewed, fresh


def _record_first_play(d: Downloads, store: TrustedTimeStore, did: str, license_id: str, mark: SealedMark,
                       first: float | None, now: float) -> SealedMark:
    """The first play starts the viewing window: it is sealed into the mark and the journal
    before anything plays. If neither can be written (a full disk), a first play is refused:
    an unrecorded window could be started again and again."""
    mark = mark.with_play(license_id, now if first is None else first)
    at = mark.played[license_id]
    saved = True
    try:
        mark = store.save(mark)
    except Exception as exc:
        saved = False
        log.warning("cannot save the trusted-time mark: %s", exc)
    try:
        d.journal.set_first_play(did, at, d.drm.timemark().seal_first_play(license_id, at))
    except Exception as exc:
        if not saved and first is None:
            raise license_error("disk_full", f"cannot record the first play: {exc}",
                                "The disk is full: Marquee cannot record that this download's viewing period "
                                "starts. Free a little space, then play it again.") from exc
        log.warning("cannot record the first play of %s: %s", did, exc)
    return mark


class _Gate:
    """Re-checks the license and the clock on every request of the engine: a license that
    runs out (or a clock turned back) mid-play stops the playback with its message."""

    def __init__(self, store: TrustedTimeStore, times: LicenseTimes, mark: SealedMark, clock: Clock) -> None:
        self.store = store
        self.times = times
        self.mark = mark
        self.clock = clock
        self._saved = clock.monotonic()

    def __call__(self) -> None:
        check = check_clock(self.mark.time, self.clock.wall())
        self.mark = replace(self.mark, time=check.mark)
        if not check.ok or self.clock.monotonic() - self._saved >= SAVE_MARK_EVERY_S:
            self._saved = self.clock.monotonic()
            self.mark = self.store.save_quietly(self.mark)
        if not check.ok:
            raise license_error(check.code, check.message)
        verdict = evaluate(self.times, check.now)
        if not verdict.allowed:
            raise license_error(verdict.code, verdict.message)
