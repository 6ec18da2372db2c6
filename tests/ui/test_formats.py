"""Plain-word durations on the title page."""

from __future__ import annotations

import pytest

from ui.catalog import format_clock, format_runtime


@pytest.mark.parametrize("seconds, text", [(16, "16 s"), (59, "59 s"), (60, "1 min"), (89, "1 min"), (2700, "45 min"),
                                           (5520, "1 h 32 min"), (0, "0 min")])
def test_runtime_in_plain_words(seconds: int, text: str) -> None:
    assert format_runtime(seconds) == text


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (75, "1:15"), (3725, "1:02:05"), (-3, "0:00")])
def test_clock(seconds: float, text: str) -> None:
    assert format_clock(seconds) == text
