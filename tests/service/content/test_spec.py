from __future__ import annotations

import pytest

from service.content.spec import BuildSpec, default_spec, quick_spec


@pytest.mark.parametrize("spec", [default_spec(), quick_spec()], ids=["default", "quick"])
def test_ladder_spans_144p_to_1080p_with_rising_bitrates(spec: BuildSpec) -> None:
    heights = [r.height for r in spec.ladder]
    assert len(spec.ladder) >= 5
    assert heights[0] == 144 and heights[-1] == 1080
    assert heights == sorted(heights)
    kbps = [r.kbps for r in spec.ladder]
    assert kbps == sorted(kbps) and len(set(kbps)) == len(kbps)
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in spec.ladder)


@pytest.mark.parametrize("spec", [default_spec(), quick_spec()], ids=["default", "quick"])
def test_whole_segments_and_two_languages(spec: BuildSpec) -> None:
    assert spec.duration_s % spec.segment_s == 0
    assert spec.gop == spec.fps * spec.segment_s
    assert len({a.lang for a in spec.audio}) == 2
    assert len({a.freq_hz for a in spec.audio}) == 2
    assert spec.subtitles


def test_quick_masters_are_a_prefix_of_the_full_ones() -> None:
    full, quick = default_spec(), quick_spec()
    assert [m.media_id for m in full.masters] == [f"m{i}" for i in range(len(full.masters))]
    assert quick.masters == full.masters[: len(quick.masters)]
    assert len({m.source for m in full.masters}) == len(full.masters)  # visually distinct


def test_fingerprints_follow_the_spec_and_the_code() -> None:
    spec = quick_spec()
    assert spec.media_fingerprint("a") == spec.media_fingerprint("a")
    assert spec.media_fingerprint("a") != spec.media_fingerprint("b")
    assert spec.media_fingerprint("a") != default_spec().media_fingerprint("a")
    m0, m1 = spec.masters[:2]
    assert spec.master_fingerprint(m0, "a") != spec.master_fingerprint(m1, "a")


def test_rejects_partial_segments() -> None:
    spec = quick_spec()
    with pytest.raises(ValueError):
        BuildSpec(masters=spec.masters, ladder=spec.ladder, duration_s=15, quick=True)
