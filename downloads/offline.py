"""Prepare an offline playback: check the license (signature, device, revocation when
online, clock rollback, expiry, playback window), renew it when due and online, start
the playback window, and build the engine's ``PlayRequest`` + ``OfflineTransport``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from downloads.api import Downloads
from downloads.offline_transport import OfflineTitle, OfflineTransport, offline_url
from downloads.storage import TitleFiles
from drm.errors import license_error
from drm.policy import LicenseTimes, TrustedTime, Verdict, check_clock, evaluate
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
    mark_file = d.drm.timemark()
    mark, tampered = mark_file.load()
    server_time: float | None = None
    revoked = False
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
    if tampered and server_time is None:
        raise license_error("clock_rollback", "the trusted-time record is damaged",
                            "Marquee cannot confirm the time. Connect to the internet once, then play again.")
    check = check_clock(mark, d.clock.wall(), server_time=server_time)
    mark_file.save(check.mark)
    if not check.ok:
        raise license_error(check.code, check.message)
    times = LicenseTimes(lic.issued_at, lic.expires_at, lic.playback_duration_s, lic.can_renew, row.first_play_at,
                         revoked)
    verdict = evaluate(times, check.now)
    if verdict.renew_due and server_time is not None:
        try:
            document = d.link().renew(lic.license_id)
            lic = d.drm.verify(document)
            d.journal.set_license(did, document, d.clock.wall())
            times = LicenseTimes(lic.issued_at, lic.expires_at, lic.playback_duration_s, lic.can_renew,
                                 row.first_play_at, revoked)
            verdict = evaluate(times, check.now)
        except MarqueeError as exc:
            log.warning("renewing %s failed: %s", lic.license_id, exc.message)
    if not verdict.allowed:
        raise license_error(verdict.code, verdict.message)
    if row.first_play_at is None:
        d.journal.set_first_play(did, check.now)
        times = LicenseTimes(times.issued_at, times.expires_at, times.playback_duration_s, times.can_renew,
                             check.now, revoked)
    key = d.drm.content_key(document)
    gate = _Gate(d, times, check.mark)
    stored = {f.path: f for f in d.journal.files(did, done=True)}
    transport = OfflineTransport({did: OfflineTitle(TitleFiles(Path(row.path)), key, stored, gate)})
    start = row.position_s if start_s is None else start_s
    if start_s is None and row.duration_s and start >= row.duration_s - 5:
        start = 0.0  # finished last time: from the start
    request = PlayRequest(manifest_url=offline_url(did, d.journal.manifest_path(did)), title=row.label, start_s=max(0.0, start),
                          audio_language=audio or (row.audio[0] if row.audio else None),
                          subtitle_language=subtitles, source_name="this device")
    return OfflinePlayback(did, request, transport, verdict)


class _Gate:
    """Re-checks the license and the clock on every request of the engine: a license that
    runs out (or a clock turned back) mid-play stops the playback with its message."""

    def __init__(self, d: Downloads, times: LicenseTimes, mark: TrustedTime) -> None:
        self.d = d
        self.times = times
        self.mark = mark
        self._saved = d.clock.monotonic()

    def __call__(self) -> None:
        check = check_clock(self.mark, self.d.clock.wall())
        self.mark = check.mark
        if not check.ok or self.d.clock.monotonic() - self._saved >= SAVE_MARK_EVERY_S:
            self._saved = self.d.clock.monotonic()
            self.d.drm.timemark().save(self.mark)
        if not check.ok:
            raise license_error(check.code, check.message)
        verdict = evaluate(self.times, check.now)
        if not verdict.allowed:
            raise license_error(verdict.code, verdict.message)
