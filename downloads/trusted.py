"""The trusted-time mark as the downloads keep it: the sealed file (``drm.timemark``) plus
its sequence number in the journal, so that deleting the file or putting an older copy back
is seen (``assess``). Saving writes the file first, then the journal's copy: a crash in
between leaves the file ahead, which is fine; the other way round would read as "stale"."""

from __future__ import annotations

import logging

from downloads.journal import Journal
from drm.policy import TrustedTime, check_clock
from drm.timemark import SEQ_KEY, SealedMark, TimeMarkFile, assess

log = logging.getLogger("marquee.downloads")


class TrustedTimeStore:
    def __init__(self, journal: Journal, mark_file: TimeMarkFile) -> None:
        self.journal = journal
        self.file = mark_file

    def load(self) -> tuple[SealedMark | None, str]:
        """(the mark, what is wrong with it: '' | missing | tampered | stale)."""
        mark, tampered = self.file.load_sealed()
        rows = self.journal.all()
        newest = max((float(r.license.get("license", {}).get("server_time", 0) or 0) for r in rows), default=0.0)
        problem = assess(mark, tampered, journal_seq=self.file.open_seq(self.journal.meta(SEQ_KEY)),
                         has_downloads=bool(rows), newest_license_time=newest)
        return mark, problem

    def save(self, mark: SealedMark) -> SealedMark:
        """Store ``mark`` with the next sequence number (``OSError``: the file was not saved)."""
        journal_seq = self.file.open_seq(self.journal.meta(SEQ_KEY)) or 0
        saved = SealedMark(mark.time, max(mark.seq, journal_seq if journal_seq < 1 << 62 else 0) + 1,
                           {k: v for k, v in mark.played.items() if k in self.journal.license_ids()})
        self.file.save_sealed(saved)
        try:
            self.journal.set_meta(SEQ_KEY, self.file.seal_seq(saved.seq))
        except Exception as exc:  # the file ahead of the journal is fine (never read as stale)
            log.warning("cannot record the trusted-time sequence in the journal: %s", exc)
        return saved

    def observe_service_time(self, server_time: float, wall: float) -> SealedMark:
        """The service told us the time (a license, a status call): the mark restarts from it,
        keeping the first plays it knows."""
        mark, problem = self.load()
        played = {} if mark is None or problem else dict(mark.played)
        check = check_clock(None, wall, server_time=server_time)
        return self.save(SealedMark(check.mark, 0 if mark is None else mark.seq, played))

    def save_quietly(self, mark: SealedMark) -> SealedMark:
        """During playback: a mark that cannot be saved (a full disk) is kept in memory; the one
        on disk stays older, never newer, so nothing is gained by it."""
        try:
            return self.save(mark)
        except Exception as exc:
            log.warning("cannot save the trusted-time mark (%s); kept in memory", exc)
            return mark


def fresh_time(mark: SealedMark | None) -> TrustedTime | None:
    return None if mark is None else mark.time
