"""How exactly a shaped link delivers its trace: delivered bytes in every 1 s window
(sliding by 0.1 s) against what the trace allows (pure; the measuring is done by callers)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from abr.traces import Trace


def allowed_bytes(trace: Trace, a: float, b: float) -> float:
    """Bytes the trace lets through in ``[a, b]`` (seconds since the link opened)."""
    total = 0.0
    t, bw = trace.times_s, trace.bw_mbps
    for i in range(1, len(t)):
        lo, hi = max(a, t[i - 1]), min(b, t[i])
        if hi > lo:
            total += bw[i] * 1e6 / 8 * (hi - lo)
    if b > t[-1]:
        total += bw[-1] * 1e6 / 8 * (b - max(a, t[-1]))
    return total


@dataclass(frozen=True)
class Accuracy:
    windows: int
    median: float
    p90: float
    worst: float

    def describe(self) -> str:
        return (f"{self.windows} sliding 1 s windows: error median {self.median:.1%}, p90 {self.p90:.1%}, "
                f"max {self.worst:.1%}")


def window_accuracy(samples: list[tuple[float, int]], trace: Trace, *, window_s: float = 1.0,
                    step_s: float = 0.1, skip_s: float = 0.0) -> Accuracy:
    """``samples``: (seconds since the link opened, bytes received then). Windows start after
    ``skip_s`` (connection set-up) and end before the last sample."""
    if not samples:
        raise ValueError("no samples")
    errors = []
    start = max(samples[0][0], skip_s)
    end = samples[-1][0]
    t = start
    while t + window_s <= end + 1e-9:
        got = sum(n for ts, n in samples if t < ts <= t + window_s)
        expected = allowed_bytes(trace, t, t + window_s)
        if expected > 0:
            errors.append(abs(got - expected) / expected)
        t += step_s
    if not errors:
        raise ValueError("the transfer is shorter than one window")
    errors.sort()
    return Accuracy(len(errors), statistics.median(errors), errors[int(0.9 * (len(errors) - 1))], errors[-1])
