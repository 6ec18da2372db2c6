"""The model's helpers: time lookup, ladders, languages, immutability."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from player.manifest import Period, Presentation, Representation, SegmentRef, Track, segment_index_at


def segs(*spans: tuple[float, float]) -> tuple[SegmentRef, ...]:
    return tuple(SegmentRef(number=i + 1, start_s=s, duration_s=d, url=f"{i + 1}.m4s") for i, (s, d) in enumerate(spans))


@pytest.mark.parametrize(
    ("t", "expected"),
    [(-1.0, 0), (0.0, 0), (3.999, 0), (4.0, 1), (7.5, 1), (8.0, 2), (8.999, 2), (9.5, 3), (10.0, 3), (11.0, 3), (12.0, None), (99.0, None)],
)
def test_segment_index_at(t: float, expected: int | None) -> None:
    # 0-4, 4-8, 8-9 then a gap until 10, 10-12
    assert segment_index_at(segs((0, 4), (4, 4), (8, 1), (10, 2)), t) == expected


def test_segment_index_at_empty() -> None:
    assert segment_index_at((), 1.0) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=10), min_size=1, max_size=50), st.floats(min_value=0, max_value=600))
def test_segment_index_at_agrees_with_a_linear_scan(durations: list[float], t: float) -> None:
    spans, start = [], 0.0
    for d in durations:
        spans.append((start, d))
        start += d
    table = segs(*spans)
    linear = next((i for i, s in enumerate(table) if s.start_s <= t < s.end_s), None)
    assert segment_index_at(table, t) == linear


def rep(rid: str, bw: int, height: int | None = None) -> Representation:
    return Representation(id=rid, bandwidth=bw, height=height, segments=segs((0, 4)))


def test_ladder_languages_and_text() -> None:
    video_a = Track(id="v1", kind="video", representations=(rep("hi", 5_000_000, 1080), rep("lo", 300_000, 240)))
    video_b = Track(id="v2", kind="video", representations=(rep("mid", 1_500_000, 720),))
    en = Track(id="a1", kind="audio", language="en", representations=(rep("a", 128_000),))
    en_ad = Track(id="a2", kind="audio", language="en", label="Audio description", representations=(rep("ad", 64_000),))
    und = Track(id="a3", kind="audio", representations=(rep("x", 64_000),))
    sub = Track(id="t1", kind="text", language="fr", representations=(rep("s", 1),))
    period = Period(id="0", start_s=0.0, duration_s=4.0, tracks=(video_a, en, sub, video_b, en_ad, und))
    p = Presentation(kind="dash", url="u", is_live=False, duration_s=4.0, periods=(period,), base_urls=())
    assert [r.id for r in p.video_ladder()] == ["lo", "mid", "hi"]
    assert [r.id for r in video_a.ladder()] == ["lo", "hi"]
    assert {k: [t.id for t in v] for k, v in p.audio_by_language().items()} == {"en": ["a1", "a2"], "und": ["a3"]}
    assert [t.id for t in p.text_tracks()] == ["t1"]
    assert len(p.representations()) == 7


def test_model_is_immutable_and_hashable() -> None:
    r = rep("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.bandwidth = 2  # type: ignore[misc]
    assert hash(r.segments[0]) == hash(SegmentRef(number=1, start_s=0, duration_s=4, url="1.m4s"))
    assert SegmentRef(1, 0, 1, "a", byte_range=(10, 19)).range_header() == "bytes=10-19"
    assert SegmentRef(1, 0, 1, "a").range_header() is None


def test_period_at_and_replace_representation() -> None:
    a, b = rep("a", 1), rep("b", 2)
    p1 = Period(id="p1", start_s=0.0, duration_s=10.0, tracks=(Track(id="v", kind="video", representations=(a,)),))
    p2 = Period(id="p2", start_s=10.0, duration_s=5.0, tracks=(Track(id="v", kind="video", representations=(b,)),))
    p = Presentation(kind="dash", url="u", is_live=False, duration_s=15.0, periods=(p1, p2), base_urls=())
    assert p.period_at(-1) is p1 and p.period_at(9.9) is p1 and p.period_at(10) is p2 and p.period_at(99) is p2
    new = dataclasses.replace(b, segments=segs((10, 5)))
    q = p.replace_representation(b, new)
    assert q.periods[1].tracks[0].representations[0] is new and p.periods[1].tracks[0].representations[0] is b
    assert q.periods[0] == p.periods[0]
