from __future__ import annotations

import m3u8
from mpegdash.parser import MPEGDASHParser

from service.content.package import parse_ffmpeg_mpd, render_hls_master, render_hls_media, render_mpd, render_vtt
from service.content.spec import quick_spec

SPEC = quick_spec()


def _ffmpeg_mpd() -> str:
    """An MPD shaped like the one ffmpeg's dash muxer writes for SPEC."""
    reps = []
    for i, r in enumerate(SPEC.ladder):
        reps.append(f'<Representation id="{i}" mimeType="video/mp4" codecs="avc1.64001f" bandwidth="{r.bandwidth}" '
                    f'width="{r.width}" height="{r.height}" sar="1:1"><SegmentTemplate timescale="12288" '
                    'initialization="init-$RepresentationID$.m4s" media="seg-$RepresentationID$-$Number$.m4s" '
                    'startNumber="1"><SegmentTimeline><S t="0" d="24576" r="7" /></SegmentTimeline>'
                    '</SegmentTemplate></Representation>')
    audio = []
    for j, _ in enumerate(SPEC.audio):
        audio.append(f'<Representation id="{len(SPEC.ladder) + j}" mimeType="audio/mp4" codecs="mp4a.40.2" '
                     'bandwidth="96000" audioSamplingRate="48000"><AudioChannelConfiguration '
                     'schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2" />'
                     '<SegmentTemplate timescale="48000" initialization="x" media="y" startNumber="1"><SegmentTimeline>'
                     '<S t="0" d="95232" /><S d="96256" r="5" /><S d="95232" /></SegmentTimeline></SegmentTemplate>'
                     '</Representation>')
    return ('<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period id="0">'
            f'<AdaptationSet id="0" contentType="video">{"".join(reps)}</AdaptationSet>'
            f'<AdaptationSet id="1" contentType="audio">{"".join(audio)}</AdaptationSet></Period></MPD>')


def test_parse_names_tracks_by_rung_and_language() -> None:
    tracks = parse_ffmpeg_mpd(_ffmpeg_mpd(), SPEC)
    assert [t.id for t in tracks] == [r.id for r in SPEC.ladder] + [f"a-{a.lang}" for a in SPEC.audio]
    video = tracks[0]
    assert video.durations == (24576,) * 8 and sum(video.seconds) == SPEC.duration_s
    audio = tracks[-1]
    assert len(audio.durations) == 8 and audio.lang == SPEC.audio[-1].lang


def test_rendered_mpd_parses_and_has_audio_and_text_sets() -> None:
    mpd = MPEGDASHParser.parse(render_mpd(parse_ffmpeg_mpd(_ffmpeg_mpd(), SPEC), SPEC))
    sets = mpd.periods[0].adaptation_sets
    kinds = [(s.content_type, s.lang) for s in sets]
    assert kinds[0] == ("video", None)
    assert [lang for kind, lang in kinds if kind == "audio"] == [a.lang for a in SPEC.audio]
    assert [lang for kind, lang in kinds if kind == "text"] == list(SPEC.subtitles)
    video = sets[0]
    assert [r.id for r in video.representations] == [r.id for r in SPEC.ladder]
    tpl = video.representations[0].segment_templates[0]
    assert tpl.media == "$RepresentationID$/seg-$Number$.m4s" and tpl.initialization == "$RepresentationID$/init.mp4"
    timeline = tpl.segment_timelines[0].Ss
    assert timeline[0].t == 0 and timeline[0].d == 24576 and timeline[0].r == 7
    assert sets[-1].representations[0].base_urls[0].base_url_value.startswith("subs/")


def test_hls_master_lists_renditions_and_every_rung() -> None:
    tracks = parse_ffmpeg_mpd(_ffmpeg_mpd(), SPEC)
    peaks = {t.id: t.bandwidth + 1000 for t in tracks}
    avgs = {t.id: t.bandwidth for t in tracks}
    pl = m3u8.loads(render_hls_master(tracks, SPEC, peaks, avgs))
    assert pl.is_variant
    assert [p.stream_info.resolution[1] for p in pl.playlists] == [r.height for r in SPEC.ladder]
    assert all(p.stream_info.audio == "aud" and p.stream_info.subtitles == "subs" for p in pl.playlists)
    audio = [m for m in pl.media if m.type == "AUDIO"]
    assert [m.language for m in audio] == [a.lang for a in SPEC.audio] and audio[0].default == "YES"
    assert [m.language for m in pl.media if m.type == "SUBTITLES"] == list(SPEC.subtitles)
    assert pl.playlists[0].stream_info.bandwidth == peaks["v144"] + max(peaks[f"a-{a.lang}"] for a in SPEC.audio)


def test_hls_media_playlist_is_vod_with_map() -> None:
    pl = m3u8.loads(render_hls_media((2.0, 2.0, 1.5), init="init.mp4", names=["a", "b", "c"]))
    assert pl.playlist_type == "vod" and pl.is_endlist and pl.target_duration == 2
    assert pl.segment_map[0].uri == "init.mp4"
    assert [s.uri for s in pl.segments] == ["a", "b", "c"]
    assert abs(sum(s.duration for s in pl.segments) - 5.5) < 1e-6


def test_vtt_cues_cover_the_programme() -> None:
    text = render_vtt("fr", "PRISM", 16)
    assert text.startswith("WEBVTT\n")
    assert text.count(" --> ") == 4
    assert "00:00:12.000 --> 00:00:15.000" in text and "sous-titre" in text
