"""DASH SegmentBase (one file per track, segments located by a sidx box) downloaded as one
stored file per segment: the plan against the sidx, a real download through the reference
service's OCAs (Range requests), the stored manifest, offline reads and playback; the same
files as HLS with EXT-X-BYTERANGE; the journal's new columns; refusals with plain-words
messages; exact timing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import struct
import subprocess
from pathlib import Path
from typing import Iterator

import httpx
import imageio_ffmpeg
import pytest

from downloads.journal import Journal
from downloads.offline import prepare_playback
from downloads.offline_transport import offline_url
from downloads.plan import plan_download
from downloads.plan_hls import plan_download_hls
from downloads.plan_ranges import split_segment_base
from marquee.errors import ManifestError
from player.manifest import build_hls_presentation, parse_manifest
from player.manifest.hls import parse_hls_media, parse_hls_multivariant
from player.manifest.model import Presentation
from player.manifest.sidx import parse_sidx_box, with_sidx_segments
from service.server import ServiceThread
from tests.downloads.conftest import FILM, start_service
from tests.player.manifest.test_sidx import top_level_boxes

URL = "http://127.0.0.1:9/c/token/m0/manifest.mpd"
FILES = {"v0": "video-144.mp4", "v1": "video-360.mp4", "a": "audio-en.mp4"}
DURATION_S = 9  # 2 s fragments: 2+2+2+2+1 for video


def ffmpeg(*args: str, cwd: Path) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True, cwd=cwd, timeout=120)


def segment_base_mpd(media: Path) -> str:
    """An on-demand MPD (SegmentBase, indexRange at each file's sidx) for the files in ``media``."""
    def base(rep: str, extra: str = "") -> str:
        found = {k: (first, last) for k, first, last in top_level_boxes((media / FILES[rep]).read_bytes())}
        moov, sidx = found[b"moov"], found[b"sidx"]
        return (f"<BaseURL>{FILES[rep]}</BaseURL><SegmentBase indexRange=\"{sidx[0]}-{sidx[1]}\"{extra}>"
                f"<Initialization range=\"0-{moov[1]}\"/></SegmentBase>")

    video = "".join(
        f'<Representation id="{rep}" bandwidth="{bw}" codecs="avc1.64001e" width="{w}" height="{h}" frameRate="24">'
        f"{base(rep)}</Representation>"
        for rep, bw, w, h in (("v0", 150_000, 256, 144), ("v1", 600_000, 640, 360)))
    audio = (f'<Representation id="a" bandwidth="64000" codecs="mp4a.40.2" audioSamplingRate="48000">'
             f'{base("a", " timescale=\"48000\"")}</Representation>')
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" '
            f'type="static" mediaPresentationDuration="PT{DURATION_S}S" minBufferTime="PT2S"><Period id="0">'
            '<AdaptationSet id="0" contentType="video" mimeType="video/mp4" subsegmentAlignment="true">'
            f"{video}</AdaptationSet>"
            '<AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="en">'
            f"{audio}</AdaptationSet></Period></MPD>\n")


def write_byterange_hls(media: Path) -> None:
    """HLS over the same files: EXT-X-MAP BYTERANGE for the init, one EXT-X-BYTERANGE per
    sidx segment (offsets implicit after the first, as packagers write them)."""
    for name in FILES.values():
        data = (media / name).read_bytes()
        moov = next(b for b in top_level_boxes(data) if b[0] == b"moov")
        sidx = sidx_of(media / name)
        lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:3", "#EXT-X-PLAYLIST-TYPE:VOD",
                 "#EXT-X-INDEPENDENT-SEGMENTS", f'#EXT-X-MAP:URI="{name}",BYTERANGE="{moov[2] + 1}@0"']
        for i, ((first, last), duration) in enumerate(sidx.references):
            lines += [f"#EXTINF:{duration / sidx.timescale:.6f},",
                      f"#EXT-X-BYTERANGE:{last - first + 1}" + ("" if i else f"@{first}"), name]
        (media / name.replace(".mp4", ".m3u8")).write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    (media / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,'
        'URI="audio-en.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=250000,RESOLUTION=256x144,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud"\n'
        "video-144.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud"\n'
        "video-360.m3u8\n")


@pytest.fixture(scope="session")
def sb_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference service's layout with one SegmentBase title (``m0``): two video rungs
    and English AAC, each one fragmented MP4 with a global sidx (ffmpeg's on-demand layout)."""
    root = tmp_path_factory.mktemp("sb-content") / "content"
    media = root / "media" / "m0"
    media.mkdir(parents=True)
    fmp4 = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof+global_sidx"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-g", "48", "-keyint_min", "48",
            "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
    for name, size, rate in (("video-144.mp4", "256x144", "150k"), ("video-360.mp4", "640x360", "600k")):
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={DURATION_S}", *x264, "-b:v", rate,
               *fmp4, name, cwd=media)
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={DURATION_S}", "-c:a", "aac",
           "-b:a", "64k", "-frag_duration", "2000000", "-movflags", "+empty_moov+default_base_moof+global_sidx",
           "audio-en.mp4", cwd=media)
    (media / "manifest.mpd").write_text(segment_base_mpd(media))
    write_byterange_hls(media)
    ladder = [{"id": "v0", "height": 144, "bandwidth": 150_000}, {"id": "v1", "height": 360, "bandwidth": 600_000}]
    build = {"version": 1, "quick": True, "segment_seconds": 2, "artwork_variants": 4,
             "media": {"m0": {"duration_s": DURATION_S, "ladder": ladder, "audio": ["en"], "subtitles": []}}}
    (root / "build.json").write_text(json.dumps(build))
    return root


@pytest.fixture
def sb_svc(tmp_path: Path, sb_content: Path, dl_catalog: Path) -> Iterator[ServiceThread]:
    service = start_service(tmp_path / "service.sqlite3", sb_content, dl_catalog)
    yield service
    service.stop()


def disk_fetch(media: Path, seen: list[tuple[str, tuple[int, int]]] | None = None):
    def fetch(url: str, rng: tuple[int, int]) -> bytes:
        assert url.startswith(URL.rsplit("/", 1)[0] + "/"), url
        if seen is not None:
            seen.append((url.rsplit("/", 1)[1], rng))
        return (media / url.rsplit("/", 1)[1]).read_bytes()[rng[0]:rng[1] + 1]
    return fetch


def sidx_of(path: Path):
    data = path.read_bytes()
    _, first, last = next(b for b in top_level_boxes(data) if b[0] == b"sidx")
    return parse_sidx_box(data[first:last + 1], first)


# -- plan ------------------------------------------------------------------------------------------------------
def test_plan_lists_one_stored_file_per_sidx_segment(sb_content: Path) -> None:
    media = sb_content / "media" / "m0"
    seen: list[tuple[str, tuple[int, int]]] = []
    plan = plan_download((media / "manifest.mpd").read_bytes(), URL, quality="max", audio=["en"], subtitles=[],
                         fetch=disk_fetch(media, seen))
    assert plan.rung_id == "v1" and plan.height == 360
    assert [name for name, _ in seen] == ["video-360.mp4", "audio-en.mp4"]  # only the kept ones' indexes
    by_path = {f.path: f for f in plan.files}
    for rep_id, name in (("v1", "video-360.mp4"), ("a", "audio-en.mp4")):
        data = (media / name).read_bytes()
        sidx = sidx_of(media / name)
        moov = next(b for b in top_level_boxes(data) if b[0] == b"moov")
        init = by_path[f"{rep_id}/init.mp4"]
        assert (init.kind, init.source, init.byte_range, init.est_bytes) == ("init", name, (0, moov[2]), moov[2] + 1)
        segs = sorted((f for f in plan.files if f.path.startswith(f"{rep_id}/seg-")), key=lambda f: f.path)
        assert [f.byte_range for f in segs] == [rng for rng, _ in sidx.references]
        assert [f.path for f in segs] == [f"{rep_id}/seg-{n:05d}.m4s" for n in range(1, len(segs) + 1)]
        assert {(f.kind, f.source) for f in segs} == {("media", name)}
        # independent of the sidx: each range is one moof + mdat pair of the file
        moofs = [b for b in top_level_boxes(data) if b[0] == b"moof"]
        mdats = [b for b in top_level_boxes(data) if b[0] == b"mdat"]
        assert [f.byte_range for f in segs] == [(m[1], d[2]) for m, d in zip(moofs, mdats)]
    assert len([f for f in plan.files if f.path.startswith("v1/seg-")]) == 5  # 2+2+2+2+1 s
    assert "video-144.mp4" not in plan.manifest.decode() and b"SegmentBase" not in plan.manifest

    pres = parse_manifest(plan.manifest, URL, "application/dash+xml")
    assert isinstance(pres, Presentation)
    original = parse_manifest((media / "manifest.mpd").read_bytes(), URL, "application/dash+xml")
    assert isinstance(original, Presentation)
    for rep in pres.representations():
        assert rep.index_range is None and rep.init is not None and rep.init.url == f"{rep.id}/init.mp4"
        assert all(s.byte_range is None and s.url in by_path for s in rep.segments)
        orig = next(r for r in original.representations() if r.id == rep.id)
        assert orig.index_range is not None and orig.media_url is not None
        data = (media / orig.media_url).read_bytes()
        indexed = with_sidx_segments(orig, data[orig.index_range[0]:orig.index_range[1] + 1])
        assert [(s.start_s, s.duration_s) for s in rep.segments] == [(s.start_s, s.duration_s) for s in indexed.segments]
    assert pres.duration_s == DURATION_S == plan.duration_s


def test_segment_base_needs_the_fetch_function(sb_content: Path) -> None:
    mpd = (sb_content / "media" / "m0" / "manifest.mpd").read_bytes()
    with pytest.raises(ManifestError, match="index has to be fetched"):
        plan_download(mpd, URL, quality="max", audio=["en"], subtitles=[])


def test_segment_base_without_index_range_is_refused_in_plain_words() -> None:
    mpd = (b'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">'
           b'<Period><AdaptationSet contentType="video" mimeType="video/mp4">'
           b'<Representation id="v" bandwidth="100000" width="256" height="144"><BaseURL>v.mp4</BaseURL>'
           b'<SegmentBase><Initialization range="0-99"/></SegmentBase></Representation>'
           b"</AdaptationSet></Period></MPD>")
    with pytest.raises(ManifestError) as err:
        plan_download(mpd, URL, quality="max", audio=[], subtitles=[], fetch=lambda url, rng: b"")
    assert "without indexRange" in err.value.message
    assert err.value.user_message.startswith("This title's stream has no segment index, so it cannot be downloaded")


HIERARCHICAL = (struct.pack(">I4sBxxxIIIIHH", 44, b"sidx", 0, 1, 1000, 0, 0, 0, 1)
                + struct.pack(">III", (1 << 31) | 10, 1000, 0) + struct.pack(">I4s", 28, b"free") + b"\x00" * 20)


@pytest.mark.parametrize(("index", "fragment"), [
    (b"\x00" * 72, "no sidx box"),
    (struct.pack(">I4s", 72, b"free") + b"\x00" * 64, "no sidx box"),
    (HIERARCHICAL, "hierarchical"),
    (b"\x00" * 10, "asked for 72 index bytes"),
], ids=["zeros", "free-box", "hierarchical", "short-read"])
def test_an_unreadable_index_is_refused_in_plain_words(sb_content: Path, index: bytes, fragment: str) -> None:
    mpd = (sb_content / "media" / "m0" / "manifest.mpd").read_text()
    start = int(mpd.split('indexRange="')[1].split("-")[0])
    mpd = mpd.replace(mpd.split('indexRange="')[1].split('"')[0], f"{start}-{start + 71}", 1)
    with pytest.raises(ManifestError) as err:
        plan_download(mpd.encode(), URL, quality="low", audio=["en"], subtitles=[], fetch=lambda url, rng: index)
    assert fragment in err.value.message and "video-144.mp4" in err.value.message
    assert err.value.user_message == ("This title's video index cannot be read, so it cannot be downloaded. "
                                      "Streaming it may still work.")


def hand_sidx(timescale: int, ept: int, refs: list[tuple[int, int]]) -> bytes:
    body = struct.pack(">BxxxIIIIHH", 0, 1, timescale, ept, 0, 0, len(refs))
    body += b"".join(struct.pack(">III", size, dur, 0x90000000) for size, dur in refs)
    return struct.pack(">I4s", 8 + len(body), b"sidx") + body


@pytest.mark.parametrize(("base_attrs", "timescale"), [
    ('timescale="90000" presentationTimeOffset="45000"', "1000"),  # 0.5 s: whole sidx ticks
    ('timescale="90000" presentationTimeOffset="1001"', "90000"),  # not: lcm(1000, 90000)
    ("", "1000"),
])
def test_rewritten_timing_is_exact(base_attrs: str, timescale: str) -> None:
    sidx = hand_sidx(1000, 700, [(5000, 2000), (5000, 2000), (4000, 2000), (3000, 1500), (100, 33)])
    mpd = ('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT9S">'
           '<Period start="PT3S"><AdaptationSet contentType="video" mimeType="video/mp4">'
           '<Representation id="video=1 (main)" bandwidth="100000" width="256" height="144"><BaseURL>dir/v.mp4</BaseURL>'
           f'<SegmentBase indexRange="500-{499 + len(sidx)}" {base_attrs}/></Representation>'
           "</AdaptationSet></Period></MPD>").encode()
    pres = parse_manifest(mpd, URL, "application/dash+xml")
    assert isinstance(pres, Presentation)
    out, new, pieces = split_segment_base(mpd, pres, URL, lambda url, rng: sidx)
    assert f'timescale="{timescale}"'.encode() in out and b'r="2"' in out
    rep, = new.representations()
    indexed = with_sidx_segments(pres.representations()[0], sidx)
    # the same ticks: only the float arithmetic of the two parses may differ, by an ulp
    assert [v for s in rep.segments for v in (s.start_s, s.duration_s)] == pytest.approx(
        [v for s in indexed.segments for v in (s.start_s, s.duration_s)], abs=1e-12)
    assert rep.segments[0].start_s == pytest.approx(3.0 + 0.7 - (0.5 if "45000" in base_attrs else 0.0), abs=0.02)
    first = 500 + len(sidx)
    assert pieces["video_1_main/init.mp4"].byte_range == (0, 499)  # no Initialization: the bytes before the index
    assert pieces["video_1_main/seg-00001.m4s"].byte_range == (first, first + 4999)
    assert pieces["video_1_main/seg-00005.m4s"].byte_range == (first + 17000, first + 17099)
    assert {p.source for p in pieces.values()} == {"dir/v.mp4"}


def test_hls_byte_ranges_become_one_stored_file_per_range(sb_content: Path) -> None:
    media = sb_content / "media" / "m0"
    base = URL.rsplit("/", 1)[0] + "/"

    def get(url: str) -> bytes:
        assert url.startswith(base), url
        return (media / url[len(base):]).read_bytes()

    plan = plan_download_hls(get(base + "master.m3u8"), base + "master.m3u8", get, quality="max", audio=["en"],
                             subtitles=[])
    assert plan.height == 360
    by_path = {f.path: f for f in plan.files}
    for stem in ("video-360", "audio-en"):
        name = f"{stem}.mp4"
        moov = next(b for b in top_level_boxes((media / name).read_bytes()) if b[0] == b"moov")
        assert (by_path[f"{stem}/init.mp4"].source, by_path[f"{stem}/init.mp4"].byte_range) == (name, (0, moov[2]))
        segs = sorted((f for f in plan.files if f.path.startswith(f"{stem}/seg-")), key=lambda f: f.path)
        assert [f.byte_range for f in segs] == [rng for rng, _ in sidx_of(media / name).references]
        assert {(f.kind, f.source) for f in segs} == {("media", name)}
        stored = dict(plan.stored)[f"{stem}.m3u8"]
        assert b"BYTERANGE" not in stored
        playlist = parse_hls_media(stored, base + f"{stem}.m3u8")
        assert playlist.init is not None and playlist.init.url == base + f"{stem}/init.mp4"
        assert [s.url[len(base):] for s in playlist.segments] == [f.path for f in segs]
        assert all(s.byte_range is None for s in playlist.segments)
    assert not {f.path for f in plan.files} & {"video-360.mp4", "audio-en.mp4"}  # only the pieces are stored


# -- journal ---------------------------------------------------------------------------------------------------
def test_a_journal_from_before_byte_ranges_opens_and_stores_them(tmp_path: Path, sb_content: Path) -> None:
    db = tmp_path / "j.sqlite3"
    old = sqlite3.connect(db)
    old.executescript(
        "CREATE TABLE files (download_id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,"
        " est_bytes INTEGER NOT NULL, stored_bytes INTEGER, plain_bytes INTEGER, done INTEGER NOT NULL DEFAULT 0,"
        " pack_offset INTEGER, PRIMARY KEY (download_id, path));"
        "INSERT INTO files VALUES('old', 'v/seg-1.m4s', 'media', 0, 100, 120, 100, 1, 0);")
    old.close()
    journal = Journal(db)
    f, = journal.files("old")
    assert (f.url, f.byte_range, f.range_bytes) == ("v/seg-1.m4s", None, None)
    media = sb_content / "media" / "m0"
    plan = plan_download((media / "manifest.mpd").read_bytes(), URL, quality="low", audio=["en"], subtitles=[],
                         fetch=disk_fetch(media))
    journal.create("new", title_id="t", episode_id=None, label="t", media_id="m0", quality="low", plan=plan,
                   path=str(tmp_path), license={}, license_id="l", now=0.0)
    rows = {r.path: r for r in journal.files("new")}
    for planned in plan.files:
        row = rows[planned.path]
        assert (row.url, row.byte_range) == (planned.source or planned.path, planned.byte_range)
    seg = rows["v0/seg-00002.m4s"]
    assert seg.url == "video-144.mp4" and seg.range_bytes == seg.range_end - seg.range_start + 1  # type: ignore[operator]
    journal.close()
    assert Journal(db).files("new")[0].path == "manifest.mpd"  # migrating twice is harmless


# -- the whole way: service, OCAs (Range), pack, offline transport, player ------------------------------------
def downloaded(sb_svc: ServiceThread, make_downloads, format: str):
    d = make_downloads(sb_svc)
    d.add(FILM, quality="max", audio=["en"], subtitles=[], format=format)
    d.run_blocking(only={FILM})
    info = d.info(FILM)
    assert info.state == "completed", info.message
    return d


def stored_presentation(got: dict[str, bytes], format: str) -> Presentation:
    if format == "dash":
        pres = parse_manifest(got["manifest.mpd"], offline_url(FILM), "application/dash+xml")
        assert isinstance(pres, Presentation)
        return pres
    master = offline_url(FILM, "master.m3u8")
    mv = parse_hls_multivariant(got["master.m3u8"], master)
    root = offline_url(FILM, "")
    return build_hls_presentation(mv, {u: got[u[len(root):]] for u in mv.media_playlist_urls})


@pytest.mark.parametrize("format", ["dash", "hls"])
def test_download_stores_every_segment_and_reads_back_the_original_ranges(sb_svc, sb_content, make_downloads, format):
    media = sb_content / "media" / "m0"
    d = downloaded(sb_svc, make_downloads, format)
    assert d.verify(FILM) == []
    rows = d.journal.files(FILM)
    assert all(r.done for r in rows)
    ranged = [r for r in rows if r.byte_range is not None]
    assert len(ranged) == 2 + 5 + 5  # two inits, 5 video and 5 audio segments
    assert {r.source for r in ranged} == {"video-360.mp4", "audio-en.mp4"}
    sb_svc.stop()  # network off
    prepared = prepare_playback(d, FILM, online=False)

    async def read_all() -> dict[str, bytes]:
        async with httpx.AsyncClient(transport=prepared.transport) as client:
            out = {}
            for r in rows:
                response = await client.get(offline_url(FILM, r.path))
                assert response.status_code == 200, r.path
                out[r.path] = response.content
            return out

    got = asyncio.run(read_all())
    for r in ranged:
        assert r.byte_range is not None and r.source is not None
        first, last = r.byte_range
        assert got[r.path] == (media / r.source).read_bytes()[first:last + 1], r.path
        assert r.plain_bytes == last - first + 1
    pres = stored_presentation(got, format)
    assert pres.duration_s == pytest.approx(DURATION_S, abs=0.05)
    root = offline_url(FILM, "")
    listed = {ref.url.removeprefix(root) for rep in pres.representations()
              for ref in ((rep.init,) if rep.init else ()) + rep.segments}
    assert listed == {r.path for r in ranged}
    assert [r.height for r in pres.video_ladder()] == [360]


@pytest.mark.mpv
@pytest.mark.slow
@pytest.mark.parametrize("format", ["dash", "hls"])
def test_a_byte_range_download_plays_to_the_end_offline(sb_svc, make_downloads, format):
    from player.events import PlaybackState
    from tests.downloads.test_offline_play import Play

    d = downloaded(sb_svc, make_downloads, format)
    sb_svc.stop()
    play = Play(prepare_playback(d, FILM, online=False))
    summary, snap = play.finish()
    assert summary.ok, summary.errors
    assert summary.played_s == pytest.approx(DURATION_S, abs=0.8)
    assert summary.stall_count == 0 and snap.state == PlaybackState.ENDED
    assert len([e for e in play.events if e.kind == "segment"]) == 5
