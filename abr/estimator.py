"""Bandwidth estimators fed with download samples (pure, deterministic).

* :class:`DualEwma`: two exponentially weighted averages with different half-lives (in
  seconds of download time, as Shaka does, or in samples: ``per_sample=True``; time weighting
  lets a run of small, quickly fetched segments barely move the estimate), the estimate is the
  lower of the two: it drops fast and recovers slowly. Samples smaller than ``min_bytes`` are ignored (they measure
  latency, not bandwidth). Time to first byte is taken out of the sample and kept as a
  separate latency estimate, so a segment's predicted time is ``ttfb + size / bandwidth``.
* :class:`HarmonicMean`: harmonic mean of the last ``n`` sample throughputs (as MPC uses).
* :class:`Variability`: coefficient of variation (standard deviation / mean) of the last ``n``
  sample throughputs (same filtering as :class:`DualEwma`): how far the link has been seen to
  swing, used to discount an estimate by its downside risk.
"""

from __future__ import annotations

import math
from collections import deque


class DualEwma:
    def __init__(self, fast_half_life_s: float = 3.0, slow_half_life_s: float = 12.0,
                 min_bytes: int = 16_000, default_bps: float = 1_000_000.0, per_sample: bool = False) -> None:
        self.per_sample = per_sample
        self.fast_half_life_s = fast_half_life_s
        self.slow_half_life_s = slow_half_life_s
        self.min_bytes = min_bytes
        self.default_bps = default_bps
        self.reset()

    def reset(self) -> None:
        self._fast = 0.0
        self._slow = 0.0
        self._weight_fast = 0.0
        self._weight_slow = 0.0
        self._ttfb = 0.0
        self._ttfb_n = 0
        self.samples = 0

    def add(self, nbytes: float, seconds: float, ttfb_s: float = 0.0) -> None:
        if nbytes < self.min_bytes or seconds <= 0:
            return
        transfer = max(seconds - ttfb_s, 1e-3)
        bps = nbytes * 8.0 / transfer
        # Zero-bias corrected EWMAs (weights grow with the observed transfer time).
        for attr, wattr, half in (("_fast", "_weight_fast", self.fast_half_life_s),
                                  ("_slow", "_weight_slow", self.slow_half_life_s)):
            alpha = math.exp(math.log(0.5) * (1.0 if self.per_sample else transfer) / half)
            setattr(self, attr, getattr(self, attr) * alpha + bps * (1 - alpha))
            setattr(self, wattr, getattr(self, wattr) * alpha + (1 - alpha))
        self._ttfb = ttfb_s if self._ttfb_n == 0 else 0.8 * self._ttfb + 0.2 * ttfb_s
        self._ttfb_n += 1
        self.samples += 1

    @property
    def bps(self) -> float:
        if self.samples == 0:
            return self.default_bps
        fast = self._fast / self._weight_fast
        slow = self._slow / self._weight_slow
        return min(fast, slow)

    @property
    def ttfb_s(self) -> float:
        return self._ttfb

    def predict_seconds(self, nbytes: float) -> float:
        return self._ttfb + nbytes * 8.0 / self.bps


class HarmonicMean:
    """Harmonic mean of the last ``n`` throughputs (bytes over the whole download time)."""

    def __init__(self, n: int = 5, default_bps: float = 1_000_000.0) -> None:
        self.n = n
        self.default_bps = default_bps
        self._samples: deque[float] = deque(maxlen=n)

    def reset(self) -> None:
        self._samples.clear()

    def add(self, nbytes: float, seconds: float, ttfb_s: float = 0.0) -> None:
        if seconds > 0 and nbytes > 0:
            self._samples.append(nbytes * 8.0 / seconds)

    @property
    def samples(self) -> int:
        return len(self._samples)

    @property
    def bps(self) -> float:
        if not self._samples:
            return self.default_bps
        return len(self._samples) / sum(1.0 / s for s in self._samples)

    def last(self) -> float | None:
        return self._samples[-1] if self._samples else None


class Variability:
    """Coefficient of variation of the last ``n`` sample throughputs (time to first byte removed,
    samples under ``min_bytes`` ignored); 0 until two samples were seen."""

    def __init__(self, n: int = 8, min_bytes: int = 16_000) -> None:
        self.n = n
        self.min_bytes = min_bytes
        self._samples: deque[float] = deque(maxlen=max(n, 1))

    def reset(self) -> None:
        self._samples.clear()

    def add(self, nbytes: float, seconds: float, ttfb_s: float = 0.0) -> None:
        if nbytes < self.min_bytes or seconds <= 0:
            return
        self._samples.append(nbytes * 8.0 / max(seconds - ttfb_s, 1e-3))

    @property
    def cv(self) -> float:
        k = len(self._samples)
        if k < 2:
            return 0.0
        mean = sum(self._samples) / k
        var = sum((x - mean) ** 2 for x in self._samples) / (k - 1)
        return math.sqrt(var) / mean if mean > 0 else 0.0
