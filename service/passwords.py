"""Password hashing with scrypt (stdlib ``hashlib``). Format: ``scrypt$n$r$p$salt$hash`` (hex).

Parameters at OWASP's level: N=2^14, r=8, p=5 is one of its equivalent scrypt settings (the same
work as N=2^17, p=1) and needs 16 MiB per hash instead of 128 MiB, so a burst of logins cannot
run the service out of memory. Hashes made with weaker settings are re-made at the next login
(``needs_rehash``). ``verify_unknown`` costs what a real check costs, so the answer's timing does
not tell which accounts exist.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 5
_MAXMEM = 64 << 20
_MAX_COST = 2**20  # a stored hash can never make a check use more than this


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32, maxmem=_MAXMEM)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(n) * int(r) * int(p) > _MAX_COST * 8:
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2, maxmem=_MAXMEM)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """True for a hash made with weaker parameters than today's (re-made at the next login)."""
    try:
        scheme, n, r, p, _, _ = stored.split("$")
        return scheme != "scrypt" or (int(n), int(r), int(p)) != (_N, _R, _P)
    except ValueError:
        return True


@functools.cache
def _decoy() -> str:
    return hash_password("decoy password: never matches a real one")


def verify_unknown(password: str) -> bool:
    """Spend a real check's time for an e-mail address with no account; always False."""
    verify_password(password, _decoy())
    return False
