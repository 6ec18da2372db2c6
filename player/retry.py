"""Retry timing: exponential backoff with jitter, and stall timeouts derived from expectations.

Pure functions; the randomness source is passed in so schedules replay in tests.
"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, rng: random.Random, base_s: float = 0.25, cap_s: float = 4.0) -> float:
    """Full-jitter exponential backoff: uniform in [0.5, 1] x min(cap, base * 2^attempt).

    Half of the nominal delay is kept as a floor so a run of unlucky draws cannot
    turn the backoff into a hot loop against servers that are down.
    """
    nominal = min(cap_s, base_s * (2 ** max(0, attempt)))
    return nominal * (0.5 + 0.5 * rng.random())


def stall_timeout_s(
    expected_chunk_s: float,
    latency_s: float,
    *,
    floor_s: float = 0.5,
    ceiling_s: float = 1.5,
    factor: float = 4.0,
) -> float:
    """How long to wait for the next bytes before calling a connection stalled.

    ``expected_chunk_s`` is how long the next read chunk should take at the estimated
    throughput; a healthy link delivers it well within ``factor`` times that plus one
    round trip. The floor absorbs scheduler jitter on loaded machines; the ceiling keeps
    a silent OCA from costing more than a second and a half of buffer.
    """
    return min(ceiling_s, max(floor_s, factor * expected_chunk_s + 2 * latency_s))
