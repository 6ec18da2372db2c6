"""Login throttling (pure: no I/O; times are passed in).

Failed logins are counted per account (e-mail address) and per client address. After
``free_failures`` failures a key is locked for a back-off that doubles with each further
failure (1 s, 2 s, 4 s … up to ``max_backoff_s``); a success clears the account's count.
A locked key answers 429 with ``Retry-After`` before any password is checked, so guessing
costs the guesser time, not the service CPU. Memory is bounded: the oldest keys go first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginLimits:
    def __init__(self, *, free_failures: int = 5, base_backoff_s: float = 1.0, max_backoff_s: float = 900.0,
                 forget_after_s: float = 3600.0, max_keys: int = 10_000) -> None:
        self.free_failures = free_failures
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.forget_after_s = forget_after_s
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def retry_after(self, keys: list[str], now: float) -> float:
        """Seconds until these keys may try again (0: now)."""
        wait = 0.0
        for key in keys:
            entry = self._keys.get(key)
            if entry is not None and now - entry.last > self.forget_after_s:
                del self._keys[key]
            elif entry is not None:
                wait = max(wait, entry.locked_until - now)
        return max(0.0, wait)

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            entry = self._keys.pop(key, None) or _Failures()
            entry.count += 1
            entry.last = now
            over = entry.count - self.free_failures
            if over >= 0:
                entry.locked_until = now + min(self.max_backoff_s, self.base_backoff_s * 2 ** min(over, 30))
            self._keys[key] = entry
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)
