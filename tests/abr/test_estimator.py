"""Bandwidth estimators: the variability (CV) tracker used for downside risk."""

from __future__ import annotations

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from abr.estimator import Variability


def test_cv_needs_two_samples_and_is_zero_on_a_constant_link() -> None:
    v = Variability(8)
    assert v.cv == 0.0
    v.add(500_000, 1.0, 0.0)
    assert v.cv == 0.0
    for _ in range(5):
        v.add(500_000, 1.0, 0.0)
    assert v.cv == 0.0


def test_small_samples_are_ignored_and_ttfb_is_removed() -> None:
    v = Variability(8, min_bytes=16_000)
    v.add(1_000_000, 1.1, 0.1)  # 8 Mbit/s once the 0.1 s TTFB is removed
    v.add(1_000_000, 2.1, 0.1)  # 4 Mbit/s
    v.add(1_000, 0.001, 0.0)  # tiny: measures latency, not bandwidth
    assert abs(v.cv - statistics.stdev([8e6, 4e6]) / 6e6) < 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 50.0), min_size=2, max_size=30), st.integers(2, 12))
def test_cv_is_that_of_the_last_window_samples(mbps: list[float], n: int) -> None:
    v = Variability(n, min_bytes=0)
    for x in mbps:
        v.add(x * 1e6 / 8.0, 1.0, 0.0)
    last = [x * 1e6 for x in mbps[-n:]]
    want = statistics.stdev(last) / statistics.mean(last) if len(last) >= 2 else 0.0
    assert abs(v.cv - want) <= 1e-6 * max(1.0, want)
