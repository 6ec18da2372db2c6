"""Every common codec through the real engine and mpv (vo=null, ao=null): H.264, HEVC,
AV1, VP9 video; AAC, Opus, FLAC, AC-3, E-AC-3 audio; fMP4, WebM and MPEG-TS (HLS) segments. Each plays
to its end with a rung switch (160x90 -> 320x180) at a segment boundary and no decode error."""

from __future__ import annotations

import pytest

from tests.streams.conftest import url_of
from tests.streams.generate import CODEC_CLIP_S, CODECS
from tests.streams.player_run import play

pytestmark = [pytest.mark.mpv, pytest.mark.slow]


@pytest.mark.parametrize("name", [name for name, *_ in CODECS] + ["hls-ts-h264-aac"])
def test_plays_with_a_rung_switch_and_no_decode_error(name, variants, static_server):
    played = play(url_of(static_server, variants[name]), switch=True)
    summary = played.summary
    assert summary.ok, summary
    assert summary.played_s == pytest.approx(CODEC_CLIP_S, abs=0.35)
    assert summary.decode_errors == 0
    assert played.mpv_errors == []
    assert [e for e in played.events if e.kind == "error"] == []
    switches = [(e.data["from_rung"], e.data["to_rung"]) for e in played.events if e.kind == "switch"]
    assert switches == [(0, 1)], switches
