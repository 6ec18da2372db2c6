import pytest
import random

from hypothesis import given
from hypothesis import strategies as st

from player.retry import backoff_delay, stall_timeout_s


@given(attempt=st.integers(0, 50), seed=st.integers(0, 2**32))
def test_backoff_stays_between_half_and_full_nominal(attempt, seed):
    delay = backoff_delay(attempt, random.Random(seed), base_s=0.25, cap_s=4.0)
    nominal = min(4.0, 0.25 * 2**attempt)
    assert nominal / 2 <= delay <= nominal


def test_backoff_replays_with_the_same_seed():
    a = [backoff_delay(i, random.Random(7)) for i in range(6)]
    b = [backoff_delay(i, random.Random(7)) for i in range(6)]
    assert a == b


def test_stall_timeout_follows_the_expected_download_time_within_bounds():
    assert stall_timeout_s(0.001, 0.001) == 0.5  # fast link: the floor
    assert stall_timeout_s(0.2, 0.01) == pytest.approx(0.82)  # 4 * 0.2 + 2 * 0.01
    assert stall_timeout_s(5.0, 0.1) == 1.5  # hopeless link: the ceiling
