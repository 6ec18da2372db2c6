"""The segment sizes shipped for the simulator (``assets/sim``) describe the demo content the
build makes today: the default spec's ladder, duration and segment length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marquee.errors import ConfigError
from qa import sim_profile
from qa.media import media_id_for
from qa.scenario import library
from service.content.spec import default_spec


def test_every_ready_scenario_title_has_a_shipped_profile() -> None:
    for path in library():
        from qa.scenario import load_scenario

        scn = load_scenario(path)
        if scn.title:
            video, audio = sim_profile.load(media_id_for(scn.title))
            assert video.segments == len(audio) > 0


@pytest.mark.parametrize("path", sorted(sim_profile.profile_dir().glob("*.json")), ids=lambda p: p.stem)
def test_a_shipped_profile_matches_the_default_build(path: Path) -> None:
    spec = default_spec()
    video, audio = sim_profile.load(path.stem)
    doc = json.loads(path.read_text())
    assert doc["quick"] is False
    assert len(video.ladder.bitrates_bps) == len(spec.ladder)
    assert video.segments * video.ladder.segment_seconds == pytest.approx(spec.duration_s, abs=video.ladder.segment_seconds)
    assert video.ladder.segment_sizes is not None
    for rung, sizes in enumerate(video.ladder.segment_sizes):  # real encodes: near the rung's bit rate
        mean_bps = sum(sizes) * 8 / (len(sizes) * video.ladder.segment_seconds)
        assert 0.3 < mean_bps / video.ladder.bitrates_bps[rung] < 1.5, (rung, mean_bps)
    assert all(a > 0 for a in audio)


def test_a_broken_profile_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "m9.json").write_text('{"video": [], "segments": "x"}')
    with pytest.raises(ConfigError, match="not a valid simulation profile"):
        sim_profile.load("m9", tmp_path)
    with pytest.raises(ConfigError, match="no shipped segment sizes"):
        sim_profile.load("m8", tmp_path)
