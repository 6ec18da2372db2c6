"""Subtitles on time, through the real engine and mpv (vo=null): mpv's ``sub-text``
read against its position. Sidecar WebVTT, TTML (converted), HLS segmented WebVTT
(X-TIMESTAMP-MAP, a cue repeated across segments), and a seek."""

from __future__ import annotations

import pytest

from tests.streams.conftest import url_of
from tests.streams.generate import CLIP_S, CUES
from tests.streams.player_run import Played, play

pytestmark = [pytest.mark.mpv, pytest.mark.slow]

TOLERANCE_S = 0.1


def _on_screen(text: str) -> str:
    return text.replace("\n", " ")  # TTML cues carry a <br/>


def assert_cues_on_time(played: Played, cues=CUES) -> None:
    shown = [(pos, _on_screen(text)) for pos, text in played.sub_changes]
    for start, end, text in cues:
        starts = [pos for pos, t in shown if t == text]
        assert starts, f"{text!r} never shown: {shown}"
        assert abs(starts[0] - start) <= TOLERANCE_S, f"{text!r} shown at {starts[0]:.3f}, cue at {start}: {shown}"
        gone = next((pos for pos, t in shown if pos > starts[0] and t != text), None)
        assert gone is not None and abs(gone - end) <= TOLERANCE_S, f"{text!r} hidden at {gone}, cue ends {end}"
    assert all(t in {"", *(c[2] for c in CUES)} for _, t in shown), f"stray text on screen: {shown}"


def assert_played_clean(played: Played, seconds: float = CLIP_S) -> None:
    assert played.summary.ok, played.summary
    assert played.summary.played_s == pytest.approx(seconds, abs=0.3)
    assert played.mpv_errors == []
    assert played.summary.decode_errors == 0
    assert [e for e in played.events if e.kind == "error"] == []


@pytest.mark.parametrize("name", ["dash-vtt-sidecar", "dash-ttml-sidecar", "hls-segmented-vtt"])
def test_each_cue_is_on_screen_at_its_time(name, variants, static_server):
    played = play(url_of(static_server, variants[name]), subtitles="en")
    assert_played_clean(played)
    assert_cues_on_time(played)


def test_cues_stay_on_time_after_a_seek(variants, static_server):
    played = play(url_of(static_server, variants["hls-segmented-vtt"]), subtitles="en", seek=(1.6, 4.0))
    assert played.summary.ok, played.summary
    assert played.mpv_errors == []
    first, *_, last = CUES
    assert_cues_on_time(played, [first, last])
    after_seek = [t for pos, t in played.sub_changes if pos >= 4.0]
    assert "Third cue" not in after_seek and "Fourth cue" in after_seek
