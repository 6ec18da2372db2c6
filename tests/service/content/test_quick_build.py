"""The ``--quick`` build end to end: manifests, segments, keyframes, languages, artwork, caching."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser
from PIL import Image

from service.catalog import load_build, load_catalog, default_catalog_path
from service.content.build import build
from service.content.spec import quick_spec

pytestmark = pytest.mark.slow

SPEC = quick_spec()


@pytest.fixture(scope="module")
def info(quick_content: Path) -> dict[str, Any]:
    return json.loads((quick_content / "build.json").read_text())


def _media(quick_content: Path, mid: str) -> Path:
    return quick_content / "media" / mid


def test_build_json_describes_the_build(info: dict[str, Any]) -> None:
    assert info["version"] == 1 and info["quick"] is True
    assert info["segment_seconds"] == SPEC.segment_s and info["artwork_variants"] == 4
    assert info["media_ids"] == [m.media_id for m in SPEC.masters] == sorted(info["media"])
    for entry in info["media"].values():
        assert entry["duration_s"] == SPEC.duration_s
        assert entry["audio"] == ["en", "fr"] and entry["subtitles"] == ["en", "fr"]
        ladder = entry["ladder"]
        assert [r["height"] for r in ladder] == [r.height for r in SPEC.ladder]
        assert all({"id", "width", "height", "bandwidth"} <= set(r) for r in ladder)
        # the encoder hits the declared bitrates within reason
        for rung in ladder:
            assert 0.5 * rung["bandwidth"] < rung["average_bandwidth"] < 1.5 * rung["bandwidth"], rung


def _expand(template: str, rep_id: str, number: int | None = None) -> str:
    out = template.replace("$RepresentationID$", rep_id)
    return out.replace("$Number$", str(number)) if number is not None else out


def test_dash_manifests_parse_and_every_url_is_relative_and_present(quick_content: Path, info: dict[str, Any]) -> None:
    for mid in info["media_ids"]:
        folder = _media(quick_content, mid)
        text = (folder / "manifest.mpd").read_text()
        assert "http://" not in text and "https://" not in text
        mpd = MPEGDASHParser.parse(text)
        assert mpd.type == "static"
        sets = mpd.periods[0].adaptation_sets
        video = [s for s in sets if s.content_type == "video"]
        audio = [s for s in sets if s.content_type == "audio"]
        text_sets = [s for s in sets if s.content_type == "text"]
        assert len(video) == 1 and [s.lang for s in audio] == ["en", "fr"] and [s.lang for s in text_sets] == ["en", "fr"]
        for aset in video + audio:
            for rep in aset.representations:
                tpl = rep.segment_templates[0]
                count = sum((s.r or 0) + 1 for s in tpl.segment_timelines[0].Ss)
                assert count == SPEC.duration_s // SPEC.segment_s
                assert (folder / _expand(tpl.initialization, rep.id)).is_file()
                for n in range(tpl.start_number, tpl.start_number + count):
                    assert (folder / _expand(tpl.media, rep.id, n)).is_file()
        for tset in text_sets:
            vtt = folder / tset.representations[0].base_urls[0].base_url_value
            assert vtt.read_text().startswith("WEBVTT")


def test_hls_playlists_parse_and_point_at_the_same_segments(quick_content: Path, info: dict[str, Any]) -> None:
    for mid in info["media_ids"]:
        folder = _media(quick_content, mid)
        master = m3u8.load(str(folder / "master.m3u8"))
        assert master.is_variant and len(master.playlists) == len(SPEC.ladder)
        assert {(m.type, m.language) for m in master.media} == {
            ("AUDIO", "en"), ("AUDIO", "fr"), ("SUBTITLES", "en"), ("SUBTITLES", "fr")}
        uris = [p.uri for p in master.playlists] + [m.uri for m in master.media]
        assert all(not re.match(r"^[a-z]+://", u) and not u.startswith("/") for u in uris)
        for uri in uris:
            media = m3u8.load(str(folder / uri))
            assert media.is_endlist and media.playlist_type == "vod"
            base = (folder / uri).parent
            if media.segment_map:
                assert (base / media.segment_map[0].uri).is_file()
            for seg in media.segments:
                assert (base / seg.uri).is_file()
            total = sum(s.duration for s in media.segments)
            assert abs(total - SPEC.duration_s) < 0.1
        # DASH and HLS share the bytes: the HLS 1080p playlist names the DASH v1080 files
        top = m3u8.load(str(folder / "v1080" / "playlist.m3u8"))
        assert top.segment_map[0].uri == "init.mp4" and top.segments[0].uri == "seg-1.m4s"


def _open(data: bytes) -> av.container.InputContainer:
    container = av.open(io.BytesIO(data), format="mp4")
    assert isinstance(container, av.container.InputContainer)
    return container


def _decode(init: Path, segment: Path) -> list[av.VideoFrame]:
    data = init.read_bytes() + segment.read_bytes()
    with _open(data) as container:
        stream = container.streams.video[0]
        packets = list(container.demux(stream))
        assert packets and packets[0].is_keyframe, f"{segment} does not start with a keyframe"
        frames = [f for p in packets for f in p.decode()]
    return frames


@pytest.mark.parametrize("rung", SPEC.ladder, ids=[r.id for r in SPEC.ladder])
def test_segments_decode_at_the_rung_size_and_start_with_a_keyframe(quick_content: Path, rung: Any) -> None:
    count = SPEC.duration_s // SPEC.segment_s
    for mid in [m.media_id for m in SPEC.masters]:
        folder = _media(quick_content, mid) / rung.id
        for n in (1, count // 2, count):
            frames = _decode(folder / "init.mp4", folder / f"seg-{n}.m4s")
            assert len(frames) == SPEC.fps * SPEC.segment_s
            assert (frames[0].width, frames[0].height) == (rung.width, rung.height)


def test_keyframes_are_aligned_across_rungs(quick_content: Path) -> None:
    folder = _media(quick_content, "m0")
    starts: dict[str, list[float]] = {}
    for rung in SPEC.ladder:
        data = b"".join((folder / rung.id / f"seg-{n}.m4s").read_bytes()
                        for n in range(1, SPEC.duration_s // SPEC.segment_s + 1))
        with _open((folder / rung.id / "init.mp4").read_bytes() + data) as c:
            stream = c.streams.video[0]
            starts[rung.id] = [float(p.pts * stream.time_base) for p in c.demux(stream)
                               if p.is_keyframe and p.pts is not None]
    expected = [float(t) for t in range(0, SPEC.duration_s, SPEC.segment_s)]
    for rid, keys in starts.items():
        assert [round(k - keys[0], 3) for k in keys] == expected, rid


def test_two_audio_languages_with_different_tones(quick_content: Path) -> None:
    import numpy as np

    peaks = {}
    for lang in ("en", "fr"):
        folder = _media(quick_content, "m0") / f"a-{lang}"
        data = (folder / "init.mp4").read_bytes() + (folder / "seg-2.m4s").read_bytes()
        with _open(data) as c:
            samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
            rate = c.streams.audio[0].rate
        spectrum = np.abs(np.fft.rfft(samples))
        peaks[lang] = float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])
    assert abs(peaks["en"] - SPEC.audio[0].freq_hz) < 5
    assert abs(peaks["fr"] - SPEC.audio[1].freq_hz) < 5


def test_artwork_for_every_title_and_variant(quick_content: Path) -> None:
    catalog = load_catalog(default_catalog_path())
    for title in catalog.titles:
        folder = quick_content / "artwork" / title.id
        for v in range(4):
            with Image.open(folder / f"poster-{v}.jpg") as poster:
                assert poster.size == (400, 600) and poster.format == "JPEG"
            for wide in ("backdrop", "hero"):
                with Image.open(folder / f"{wide}-{v}.jpg") as image:
                    assert image.size == (1280, 720)
    assert load_build(quick_content).artwork_kinds == ("poster", "backdrop", "hero")  # type: ignore[union-attr]


def test_every_catalogue_media_id_resolves_in_the_quick_build(quick_content: Path) -> None:
    build_info = load_build(quick_content)
    assert build_info is not None
    catalog = load_catalog(default_catalog_path())
    refs = {t.media for t in catalog.titles if t.media} | {e.media for e in catalog.episodes.values()}
    for ref in refs:
        assert (quick_content / "media" / build_info.resolve(ref) / "manifest.mpd").is_file()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def test_second_build_is_instant_and_changes_nothing(quick_content: Path) -> None:
    before = _snapshot(quick_content)
    started = time.monotonic()
    result = build(quick_content, quick_spec())
    assert not result.built and time.monotonic() - started < 2.0
    assert _snapshot(quick_content) == before


def test_cli_reports_up_to_date(quick_content: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "marquee", "content", "build", "--quick", "--out", str(quick_content)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "up to date" in r.stderr


@pytest.mark.mpv
def test_mpv_plays_the_hls_master(quick_content: Path) -> None:
    mpv = shutil.which("mpv")
    if mpv is None:
        pytest.skip("mpv is not installed")
    r = subprocess.run([mpv, "--vo=null", "--ao=null", "--length=2", "--no-config",
                        str(_media(quick_content, "m1") / "master.m3u8")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    assert "1920x1080" in r.stdout
