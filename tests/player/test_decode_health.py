"""Decode errors counted from mpv's log, and a playback full of them ends as a failure."""

from __future__ import annotations

import pytest

from player.decode_health import DECODE_ERROR_LIMIT, DecodeHealth, codec_name
from player.model import PlaybackModel


@pytest.mark.parametrize("level, prefix, text, counted", [
    ("error", "ffmpeg/video", "h264: error while decoding MB 14 2", True),
    ("error", "ffmpeg/audio", "aac: Input buffer exhausted before END element found", True),
    ("warn", "vd", "Error while decoding frame!", True),
    ("error", "ad", "Error decoding audio.", True),
    ("warn", "ffmpeg/video", "h264: a warning only", False),
    ("error", "ffmpeg/demuxer", "mpegts: PES packet size mismatch", False),
    ("error", "cplayer", "Failed to open marquee://feed/1.", False),
])
def test_which_log_lines_are_decode_errors(level: str, prefix: str, text: str, counted: bool) -> None:
    assert DecodeHealth().observe(level, prefix, text) is counted


@pytest.mark.parametrize("decoder, codec", [("libdav1d", "AV1"), ("h264", "H.264"), ("hevc", "HEVC"),
                                            ("libopus", "Opus"), ("eac3", "E-AC-3"), ("mystery", "mystery")])
def test_messages_name_the_codec_not_the_decoder(decoder: str, codec: str) -> None:
    assert codec_name(decoder) == codec


def _model_at_play() -> PlaybackModel:
    model = PlaybackModel("t", 0.0)
    model.output("first-frame", None, 1.0)
    return model


def test_a_few_decode_errors_are_counted_and_forgiven() -> None:
    model = _model_at_play()
    for i in range(3):
        model.output("log", ("error", "ffmpeg/video", "h264: no frame!"), 2.0 + i)
    summary = model.stats.summary()
    assert summary.decode_errors == 3 and summary.ok
    assert "decode_errors" in summary.to_json()


def test_repeated_decode_errors_end_the_playback_with_a_clear_message() -> None:
    model = _model_at_play()
    emitted = []
    for i in range(DECODE_ERROR_LIMIT + 5):
        emitted += model.output("log", ("error", "ffmpeg/video", "hevc: decode_slice_header error"), 2.0 + i / 100)
    summary = model.stats.summary()
    assert not summary.ok
    assert summary.decode_errors == DECODE_ERROR_LIMIT + 5
    (message,) = summary.errors
    assert "HEVC" in message and "could not be decoded" in message
    fatal = [c.event for c in emitted if getattr(c, "event", None) is not None and c.event.kind == "error"]
    assert len(fatal) == 1 and fatal[0].data["code"] == "decode_errors"
