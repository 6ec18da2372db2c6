"""Subtitle text to cues: WebVTT (headers, notes, settings, X-TIMESTAMP-MAP), HLS
segments joined, TTML/IMSC timing forms, SRT, and what cannot be read."""

from __future__ import annotations

import pytest

from player.subtitle_text import Cue, SubtitleFormatError, parse_subtitle, parse_ttml, parse_webvtt, render_webvtt


def test_webvtt_cues_with_ids_notes_styles_and_settings() -> None:
    text = ("\ufeffWEBVTT - a title\nKind: captions\n\nNOTE a comment\n\nSTYLE\n::cue { color: red }\n\n"
            "intro\n00:01.000 --> 00:02.500 line:90% align:center\n<i>Hello</i>\nthere\n\n"
            "01:00:00.000 --> 01:00:01.000\nLater\n")
    assert parse_webvtt(text) == [Cue(1.0, 2.5, "<i>Hello</i>\nthere", "line:90% align:center"),
                                  Cue(3600.0, 3601.0, "Later")]


@pytest.mark.parametrize("header, shift", [
    ("X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000", 10.0),
    ("X-TIMESTAMP-MAP=LOCAL:00:00:10.000,MPEGTS:180000", -8.0),
    ("X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000", 0.0),
])
def test_x_timestamp_map_moves_cues_to_media_time(header: str, shift: float) -> None:
    (cue,) = parse_webvtt(f"WEBVTT\n{header}\n\n00:00:20.000 --> 00:00:21.000\nx\n")
    assert (cue.start_s, cue.end_s) == pytest.approx((20.0 + shift, 21.0 + shift))


def test_hls_segments_join_without_stray_headers_or_repeated_cues() -> None:
    seg = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n{}"
    parts = [seg.format("00:00:01.000 --> 00:00:03.000\nacross\n").encode(),
             seg.format("00:00:01.000 --> 00:00:03.000\nacross\n\n00:00:04.000 --> 00:00:05.000\nnext\n").encode()]
    cues = parse_subtitle(parts)
    assert [(c.start_s, c.text) for c in cues] == [(11.0, "across"), (14.0, "next")]
    assert "WEBVTT" not in "".join(c.text for c in cues)


@pytest.mark.parametrize("begin, end, expected", [
    ("00:00:01.500", "00:00:02.000", (1.5, 2.0)),
    ("1.5s", "2s", (1.5, 2.0)),
    ("1500ms", "2000ms", (1.5, 2.0)),
    ("00:00:01:12", "00:00:02:00", (1.5, 2.0)),  # frames at 24 fps
    ("36f", "48f", (1.5, 2.0)),
])
def test_ttml_time_forms(begin: str, end: str, expected: tuple[float, float]) -> None:
    doc = ('<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" '
           f'ttp:frameRate="24"><body><div><p begin="{begin}" end="{end}">a</p></div></body></tt>')
    (cue,) = parse_ttml(doc)
    assert (cue.start_s, cue.end_s) == pytest.approx(expected)


def test_ttml_spans_line_breaks_dur_and_inherited_begin() -> None:
    doc = ('<?xml version="1.0"?><tt xmlns="http://www.w3.org/ns/ttml"><body><div begin="10s">'
           '<p begin="1s" dur="2s">  Fish  &amp;\n chips<br/><span tts:x="1" xmlns:tts="t">now</span></p>'
           '<p>untimed</p></div></body></tt>')
    assert parse_ttml(doc) == [Cue(11.0, 13.0, "Fish &amp; chips\nnow")]


def test_srt_reads_like_webvtt() -> None:
    (cue,) = parse_subtitle([b"1\n00:00:01,000 --> 00:00:02,000\nHi\n"])
    assert (cue.start_s, cue.end_s, cue.text) == (1.0, 2.0, "Hi")


@pytest.mark.parametrize("data, words", [
    (b"<html><body>nope</body></html>", "not TTML"),
    (b"<tt xmlns='http://www.w3.org/ns/ttml'><body><p begin='1x' end='2s'>a</p></body></tt>", "TTML time"),
    (b"<tt", "well-formed"),
    (b"\x00\x00\x00\x18ftypiso6", "MP4"),
    (b"just some words", "format Marquee cannot read"),
])
def test_unreadable_subtitles_say_why_in_plain_words(data: bytes, words: str) -> None:
    with pytest.raises(SubtitleFormatError, match=words):
        parse_subtitle([data])


def test_render_shifts_to_the_stream_clock_and_drops_cues_before_zero() -> None:
    text = render_webvtt([Cue(-20.0, -15.0, "gone"), Cue(1.0, 2.0, "a\nb", "align:start")], shift_s=10.0)
    assert text == "WEBVTT\n\n00:00:11.000 --> 00:00:12.000 align:start\na\nb\n"
    assert parse_webvtt(text) == [Cue(11.0, 12.0, "a\nb", "align:start")]
