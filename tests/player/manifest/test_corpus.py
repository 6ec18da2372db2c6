"""Table-driven tests over the corpus of real-world-shaped manifests (one row per file)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from player.manifest import Presentation
from tests.player.manifest.helpers import load


@dataclass(frozen=True)
class Probe:
    """What one representation must look like."""

    period: int
    track: str
    rep: str
    segments: int
    first_url: str
    last_url: str
    last_start_s: float
    last_duration_s: float
    init_url: str | None
    first_number: int = 1
    first_range: tuple[int, int] | None = None
    init_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    is_live: bool
    duration_s: float | None
    base_urls: tuple[str, ...]
    tracks: tuple[tuple[tuple[str, str | None, int], ...], ...]  # per period: (kind, language, representations)
    probes: tuple[Probe, ...]


M1 = "https://media.example.com/content/m1/"
ROWS = [
    Row(
        "dash_multiperiod.mpd", "dash", False, 50.0, (M1,),
        (
            (("video", None, 2), ("audio", "en", 1)),
            (("video", None, 3), ("audio", "en", 1), ("audio", "fr", 1), ("text", "en", 1)),
        ),
        (
            Probe(0, "1", "v720", 5, "ad/v720/1.m4s", "ad/v720/5.m4s", 16.0, 4.0, "ad/v720/init.mp4"),
            Probe(1, "1", "1080p", 8, "main/video/1080p/seg-00001.m4s", "main/video/1080p/seg-00008.m4s", 48.0, 2.0,
                  "main/video/1080p/init.mp4"),
            Probe(1, "3", "aac-fr", 8, "main/audio/fr/1.m4s", "main/audio/fr/8.m4s", 48.0, 2.0, "main/audio/fr/init.mp4"),
            Probe(1, "4", "sub-en", 1, "main/subs/en.vtt", "main/subs/en.vtt", 20.0, 30.0, None),
        ),
    ),
    Row(
        "dash_timeline.mpd", "dash", False, 60.0, (M1,),
        ((("video", None, 2), ("audio", "de", 1), ("text", "en", 1)),),
        (
            Probe(0, "0", "lo", 11, "video_lo_900000.mp4", "video_lo_6210000.mp4", 59.0, 1.0, "video_lo_init.mp4"),
            Probe(0, "1", "audio", 30, "audio/010.mp4", "audio/039.mp4", 58.0, 2.0, "audio/init.mp4", first_number=10),
            Probe(0, "2", "ttml", 3, "text/0.mp4", "text/2.mp4", 40.0, 20.0, "text/init.mp4", first_number=0),
        ),
    ),
    Row(
        "dash_segmentlist.mpd", "dash", False, 10.0, ("http://media.example.com/list/",),
        ((("video", None, 2),),),
        (
            Probe(0, "0", "ranges", 3, "movie_360.mp4", "movie_360.mp4", 8.0, 2.0, "movie_360.mp4",
                  first_range=(1000, 49999), init_range=(0, 999)),
            Probe(0, "0", "files", 3, "720/s0.m4s", "720/s2.m4s", 8.0, 2.0, "720/init.mp4", first_number=0),
        ),
    ),
    Row(
        "dash_multibase.mpd", "dash", False, 12.0,
        ("http://127.0.0.1:9001/c/tok/m1/", "http://127.0.0.1:9002/c/tok/m1/", "https://media.example.com/content/backup/"),
        ((("video", None, 2), ("audio", "en", 1)),),
        (
            Probe(0, "1", "480p", 3, "video/480p/1.m4s", "video/480p/3.m4s", 8.0, 4.0, "video/480p/init.mp4"),
            Probe(0, "1", "1080p", 3, "video/hd/1080p/1.m4s", "video/hd/1080p/3.m4s", 8.0, 4.0, "video/hd/1080p/init.mp4"),
            Probe(0, "2", "aac", 3, "http://audio.example.net/a/1.m4s", "http://audio.example.net/a/3.m4s", 8.0, 4.0,
                  "http://audio.example.net/a/init.mp4"),
        ),
    ),
    Row(
        "dash_live.mpd", "dash", True, None, (M1,),
        ((("video", None, 1), ("audio", "en", 1)),),
        (Probe(0, "video", "v", 6, "v-3600000.m4s", "v-3610000.m4s", 3610.0, 2.0, "init-v.mp4"),),
    ),
    Row(
        "hls_steering/master.m3u8", "hls", False, 16.0,
        ("https://origin.example.com/vod/t1/", "https://cdn-b.example.net/mirror/vod/t1/"),
        ((("video", None, 3), ("audio", "en", 1), ("audio", "es", 1), ("text", "en", 1)),),
        (
            Probe(0, "main", "v2", 3, "video/1080p/seg-1.m4s", "video/1080p/seg-3.m4s", 12.0, 4.0, "video/1080p/init.mp4"),
            Probe(0, "audio:es:Español", "aac", 3, "audio/es/a-1.m4s", "audio/es/a-3.m4s", 12.011, 3.989, "audio/es/init.mp4",
                  first_number=0),
            Probe(0, "text:en:English", "subs", 3, "subs/en/en-1.vtt", "subs/en/en-3.vtt", 12.0, 4.0, None, first_number=0),
        ),
    ),
    Row(
        "hls_fmp4_byterange.m3u8", "hls", False, 13.013, (M1,),
        ((("video", None, 1),),),
        (Probe(0, "main", "v0", 4, "main.mp4", "main.mp4", 12.012, 1.001, "main.mp4", first_number=0,
               first_range=(720, 523271), init_range=(0, 719)),),
    ),
    Row(
        "hls_ts.m3u8", "hls", False, 44.539, (M1,),
        ((("video", None, 1),),),
        (Probe(0, "main", "v0", 5, "../segments/intro-100.ts", "/abs/path/main-104.ts", 39.039, 5.5, None, first_number=100),),
    ),
    Row(
        "hls_live.m3u8", "hls", True, None, (M1,),
        ((("video", None, 1),),),
        (Probe(0, "main", "v0", 4, "live-1234.ts", "live-1237.ts", 6.0, 2.0, None, first_number=1234),),
    ),
]


@pytest.fixture(scope="module")
def parsed() -> dict[str, Presentation]:
    return {row.name: load(row.name) for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_corpus_file(row: Row, parsed: dict[str, Presentation]) -> None:
    p = parsed[row.name]
    assert p.kind == row.kind
    assert p.is_live == row.is_live
    if row.duration_s is None:
        assert p.duration_s is None
    else:
        assert p.duration_s == pytest.approx(row.duration_s)
    assert tuple(b.url for b in p.base_urls) == row.base_urls
    assert tuple(tuple((t.kind, t.language, len(t.representations)) for t in per.tracks) for per in p.periods) == row.tracks
    for probe in row.probes:
        track = next(t for t in p.periods[probe.period].tracks if t.id == probe.track)
        rep = next(r for r in track.representations if r.id == probe.rep)
        segs = rep.segments
        assert len(segs) == probe.segments, probe
        assert (segs[0].url, segs[-1].url) == (probe.first_url, probe.last_url)
        assert segs[0].number == probe.first_number
        assert segs[-1].start_s == pytest.approx(probe.last_start_s)
        assert segs[-1].duration_s == pytest.approx(probe.last_duration_s)
        assert segs[0].byte_range == probe.first_range
        assert (rep.init.url if rep.init else None) == probe.init_url
        assert (rep.init.byte_range if rep.init else None) == probe.init_range


@pytest.mark.parametrize("row", [r for r in ROWS if not r.is_live], ids=[r.name for r in ROWS if not r.is_live])
def test_vod_segments_tile_each_period(row: Row, parsed: dict[str, Presentation]) -> None:
    """In VOD, every representation's segments are contiguous and cover its period."""
    p = parsed[row.name]
    for per in p.periods:
        for track in per.tracks:
            for rep in track.representations:
                segs = rep.segments
                assert segs, rep.id
                assert segs[0].start_s == pytest.approx(per.start_s, abs=1e-6)
                for a, b in zip(segs, segs[1:]):
                    assert b.start_s == pytest.approx(a.end_s, abs=1e-6)
                    assert b.number == a.number + 1
                assert per.duration_s is not None
                assert segs[-1].end_s == pytest.approx(per.start_s + per.duration_s, abs=0.05)


def test_dash_multiperiod_details(parsed: dict[str, Presentation]) -> None:
    p = parsed["dash_multiperiod.mpd"]
    assert [(per.id, per.start_s, per.duration_s) for per in p.periods] == [("ad", 0.0, 20.0), ("main", 20.0, 30.0)]
    main = p.periods[1]
    assert [r.id for r in main.video_ladder()] == ["360p", "720p", "1080p"]
    assert main.video_ladder()[-1].frame_rate == pytest.approx(29.97, abs=0.01)
    langs = main.audio_by_language()
    assert sorted(langs) == ["en", "fr"]
    assert langs["fr"][0].label == "Français" and langs["en"][0].label == "English"
    assert langs["en"][0].default and not langs["fr"][0].default
    assert [t.id for t in main.text_tracks()] == ["4"]
    assert any("AdaptationSet '5'" in n for n in p.notes)  # the thumbnails set is skipped, and said so
    assert p.period_at(25.0) is main and p.period_at(3.0) is p.periods[0]


def test_dash_multibase_candidates_and_steering(parsed: dict[str, Presentation]) -> None:
    p = parsed["dash_multibase.mpd"]
    assert [(b.service_location, b.priority, b.weight) for b in p.base_urls] == [
        ("oca-1", 1, 70),
        ("oca-2", 1, 30),
        ("oca-3", 2, 1),
    ]
    assert p.steering is not None
    assert p.steering.server_uri == "https://steer.example.com/dash.dcsm"
    assert p.steering.default_pathway == "oca-1"
    assert p.steering.pathway_ids == ("oca-1", "oca-2", "oca-3")
    assert p.steering.query_before_start


def test_dash_segmentbase_carries_the_index() -> None:
    p = load("dash_segmentbase.mpd")
    reps = {r.id: r for r in p.representations()}
    assert set(reps) == {"1", "2", "3"}
    r1 = reps["1"]
    assert r1.needs_index and r1.segments == ()
    assert (r1.media_url, r1.index_range) == ("video_240.mp4", (792, 863))
    assert r1.init is not None and (r1.init.url, r1.init.byte_range, r1.init.size_bytes) == ("video_240.mp4", (0, 791), 792)
    assert p.audio_by_language()["en"][0].representations[0].index_range == (700, 771)


def test_hls_steering_details(parsed: dict[str, Presentation]) -> None:
    p = parsed["hls_steering/master.m3u8"]
    assert p.steering is not None
    assert p.steering.server_uri == "https://origin.example.com/steering/t1?session=abc"
    assert p.steering.pathway_ids == ("CDN-A", "CDN-B", "CDN-C")
    assert [b.service_location for b in p.base_urls] == ["CDN-A", "CDN-B"]
    assert any("CDN-C" in n for n in p.notes)  # a pathway laid out differently is dropped, and said so
    assert any("audio-only" in n for n in p.notes)
    ladder = p.video_ladder()
    assert [(r.height, r.bandwidth, r.average_bandwidth) for r in ladder] == [
        (360, 900000, 750000),
        (720, 3300000, 2800000),
        (1080, 6500000, 5600000),
    ]
    assert all(r.audio_group == "aac" and r.subtitle_group == "subs" for r in ladder)
    assert ladder[0].codecs == "avc1.64001e,mp4a.40.2" and ladder[0].mime == "video/mp4"
    en = p.audio_by_language()["en"][0]
    assert en.default and en.label == "English" and en.representations[0].id == "aac"
    assert [t.language for t in p.text_tracks()] == ["en"]
    assert p.text_tracks()[0].representations[0].mime == "text/vtt"


def test_hls_ts_discontinuities_and_absolute_refs(parsed: dict[str, Presentation]) -> None:
    rep = parsed["hls_ts.m3u8"].representations()[0]
    assert [s.discontinuity for s in rep.segments] == [False, False, True, True, False]
    assert rep.segments[2].url == "https://ads.example.com/ad/spot-1.ts"
    assert rep.segments[3].url == "../segments/main-103.ts?token=abc"
    assert rep.mime == "video/mp2t" and rep.init is None


def test_hls_implicit_byterange_offsets(parsed: dict[str, Presentation]) -> None:
    rep = parsed["hls_fmp4_byterange.m3u8"].representations()[0]
    assert [s.byte_range for s in rep.segments] == [
        (720, 523271),
        (523272, 1009531),
        (1009532, 1500767),
        (1500768, 1620767),
    ]
    assert rep.bandwidth > 0  # measured from the byte ranges when the playlist gives none


def test_live_flags(parsed: dict[str, Presentation]) -> None:
    dash_live = parsed["dash_live.mpd"]
    assert dash_live.update_period_s == 2.0
    audio = dash_live.audio_by_language()["en"][0].representations[0]
    assert audio.segments == ()  # a $Number$ template without a period end depends on the wall clock
    hls_live = parsed["hls_live.m3u8"]
    assert hls_live.update_period_s == 2.0 and hls_live.duration_s is None
