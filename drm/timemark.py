"""The trusted-time high-water mark on disk, sealed (AES-GCM) under a key derived from the
device private key: editing or replacing the file is detected.

It fails closed. Besides the time, the mark carries a sequence number, bumped at every save
and also kept (authenticated) in the downloads journal, and the first-play time of every
license played. ``assess`` (pure) says what is wrong with a loaded mark:

* ``missing``: no file while downloads exist (a mark is written by every ``download add``,
  so it was deleted);
* ``tampered``: the file does not authenticate;
* ``stale``: an older copy put back (its sequence is behind the journal's, or its time is
  behind a license the service signed later).

Any of these blocks offline playback until the service has been asked (the time confirmed,
the license renewed). First-play times are sealed the same way (``seal_first_play``): the
journal column and the mark must agree; a broken seal counts as "played at issue".
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from drm.policy import TOLERANCE_S, TrustedTime

_AAD = b"marquee-trusted-time-v1"
SEQ_KEY = "trusted_time_seq"
_BLOCK = 4096  # the journal's copy of the mark's sequence number


@dataclass(frozen=True)
class SealedMark:
    time: TrustedTime
    seq: int = 0
    played: Mapping[str, float] = field(default_factory=dict)  # license id -> first play (trusted time)

    def with_play(self, license_id: str, at: float) -> "SealedMark":
        return replace(self, played={**self.played, license_id: self.played.get(license_id, at)})


class TimeMarkFile:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"marquee-seal|" + key).digest()

    # -------------------------------------------------------------- the file
    def load(self) -> tuple[TrustedTime | None, bool]:
        """(mark, tampered). No file: (None, False)."""
        sealed, tampered = self.load_sealed()
        return (None if sealed is None else sealed.time), tampered

    def load_sealed(self) -> tuple[SealedMark | None, bool]:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return None, False
        try:
            doc = json.loads(self._aead.decrypt(blob[:12], blob[12:], _AAD))
            played = {str(k): float(v) for k, v in dict(doc.get("played", {})).items()}
            time = TrustedTime(float(doc["high_water"]), doc.get("server_time"), doc.get("rollback_at"))
            return SealedMark(time, int(doc.get("seq", 0)), played), False
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None, True

    def save(self, mark: TrustedTime) -> None:
        sealed, _ = self.load_sealed()
        self.save_sealed(SealedMark(mark, 0 if sealed is None else sealed.seq + 1,
                                    {} if sealed is None else sealed.played))

    def save_sealed(self, mark: SealedMark) -> None:
        """Write ``mark`` atomically (tmp, fsync, rename). On a full disk, over the old file in
        place: the body is padded to whole 4 KiB blocks, so the same size needs no new block
        (a write torn by a crash then fails authentication: closed, not open)."""
        nonce = os.urandom(12)
        body = json.dumps({"high_water": mark.time.high_water, "server_time": mark.time.server_time,
                           "rollback_at": mark.time.rollback_at, "seq": mark.seq, "played": dict(mark.played)}).encode()
        body = body.ljust(-(-(len(body) + 28) // _BLOCK) * _BLOCK - 28)  # JSON ignores the trailing blanks
        blob = nonce + self._aead.encrypt(nonce, body, _AAD)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno != errno.ENOSPC or not self.path.exists() or self.path.stat().st_size != len(blob):
                raise
            with open(self.path, "r+b") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())

    # -------------------------------------------------------------- seals kept elsewhere
    def _mac(self, text: str) -> str:
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()

    def seal_seq(self, seq: int) -> str:
        return f"{seq}:{self._mac(f'seq|{seq}')}"

    def open_seq(self, sealed: str | None) -> int | None:
        """The sequence number the journal vouches for; None when absent. A copy that does not
        authenticate counts as very high (the mark then looks stale: fail closed)."""
        if not sealed:
            return None
        seq, _, mac = sealed.partition(":")
        if seq.isascii() and seq.isdigit() and len(seq) < 19 and hmac.compare_digest(mac, self._mac(f"seq|{seq}")):
            return int(seq)
        return 1 << 62

    def seal_first_play(self, license_id: str, at: float) -> str:
        return self._mac(f"first-play|{license_id}|{at!r}")

    def first_play_ok(self, license_id: str, at: float, seal: str | None) -> bool:
        return seal is not None and hmac.compare_digest(seal, self.seal_first_play(license_id, at))


def assess(mark: SealedMark | None, tampered: bool, *, journal_seq: int | None, has_downloads: bool,
           newest_license_time: float, tolerance_s: float = TOLERANCE_S) -> str:
    """What is wrong with the loaded mark: '' (nothing), 'missing', 'tampered' or 'stale'."""
    if tampered:
        return "tampered"
    if mark is None:
        return "missing" if has_downloads or journal_seq is not None else ""
    if journal_seq is not None and mark.seq < journal_seq:
        return "stale"
    if mark.time.high_water < newest_license_time - tolerance_s:
        return "stale"
    return ""


PROBLEMS = {
    "missing": "Marquee's record of the time is missing",
    "tampered": "Marquee's record of the time was changed",
    "stale": "an older copy of Marquee's record of the time was put back",
}


def first_play(license_id: str, issued_at: float, mark: SealedMark | None, column: float | None,
               column_ok: bool) -> float | None:
    """The first play of ``license_id``: the earliest the mark or the (authenticated) journal
    knows; a journal value whose seal does not check counts as "played when issued"."""
    known = [t for t in (None if mark is None else mark.played.get(license_id),
                         None if column is None else (column if column_ok else issued_at)) if t is not None]
    return min(known) if known else None
