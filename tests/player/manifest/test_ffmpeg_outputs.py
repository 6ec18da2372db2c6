"""Real packager output: ffmpeg's DASH muxer (timeline, single-file) and HLS playlists, parsed and checked on disk.

Also exercises `load_manifest` end to end through an httpx MockTransport that serves the files.
"""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
from urllib.parse import urljoin, urlsplit

import httpx
import imageio_ffmpeg
import pytest

from marquee.errors import ManifestError, NetworkError
from player.manifest import HlsMultivariant, Presentation, build_hls_presentation, parse_manifest
from player.manifest.loader import load_manifest

ROOT = "http://127.0.0.1:8123/c/token/m9/"


def ffmpeg(out_dir: pathlib.Path, *args: str) -> None:
    base = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=duration=6:size=160x120:rate=24", "-f", "lavfi", "-i", "sine=duration=6",
            "-map", "0:v", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
            "-b:v:0", "200k", "-b:v:1", "400k", "-s:v:1", "320x240", "-g", "24", "-keyint_min", "24", "-sc_threshold", "0",
            "-c:a", "aac", "-f", "dash", "-seg_duration", "2", "-adaptation_sets", "id=0,streams=v id=1,streams=a"]
    subprocess.run([*base, *args, "out.mpd"], check=True, cwd=out_dir, timeout=60)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("ffmpeg-dash")
    ffmpeg(out, "-hls_playlist", "1")
    return out


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("ffmpeg-single")
    ffmpeg(out, "-single_file", "1")
    return out


def on_disk(directory: pathlib.Path, root: str, ref: str) -> pathlib.Path:
    absolute = urljoin(root, ref)
    assert absolute.startswith(ROOT), absolute
    return directory / urlsplit(absolute).path.removeprefix(urlsplit(ROOT).path)


def check_files(p: Presentation, directory: pathlib.Path) -> int:
    count = 0
    for rep in p.representations():
        refs = ([rep.init] if rep.init else []) + list(rep.segments)
        for seg in refs:
            path = on_disk(directory, p.base_urls[0].url, seg.url)
            assert path.is_file(), seg.url
            if seg.byte_range is not None:
                assert seg.byte_range[1] < path.stat().st_size
            count += 1
    return count


def test_ffmpeg_dash_timeline(packaged: pathlib.Path) -> None:
    p = parse_manifest((packaged / "out.mpd").read_bytes(), ROOT + "out.mpd", "application/dash+xml")
    assert isinstance(p, Presentation) and p.kind == "dash" and p.duration_s == pytest.approx(6.0)
    assert [(r.height, len(r.segments)) for r in p.video_ladder()] == [(120, 3), (240, 3)]
    audio = p.periods[0].tracks_of("audio")[0].representations[0]
    assert sum(s.duration_s for s in audio.segments) == pytest.approx(6.0, abs=0.1)
    assert check_files(p, packaged) == 3 * 4


def test_ffmpeg_hls_playlists(packaged: pathlib.Path) -> None:
    mv = parse_manifest((packaged / "master.m3u8").read_bytes(), ROOT + "master.m3u8", None)
    assert isinstance(mv, HlsMultivariant)
    texts = {u: on_disk(packaged, ROOT, u).read_bytes() for u in mv.media_playlist_urls}
    p = build_hls_presentation(mv, texts)
    assert [(r.height, len(r.segments), r.audio_group) for r in p.video_ladder()] == [(120, 3, "group_A1"), (240, 3, "group_A1")]
    assert p.duration_s == pytest.approx(6.0, abs=0.1) and not p.is_live
    assert check_files(p, packaged) == 3 * 4


def test_ffmpeg_single_file_segment_list(single_file: pathlib.Path) -> None:
    p = parse_manifest((single_file / "out.mpd").read_bytes(), ROOT + "out.mpd", None)
    assert isinstance(p, Presentation)
    for rep in p.representations():
        data = on_disk(single_file, ROOT, rep.segments[0].url).read_bytes()
        assert rep.init is not None and rep.init.byte_range is not None and rep.init.byte_range[0] == 0
        ends = [rep.init.byte_range[1]] + [s.byte_range[1] for s in rep.segments if s.byte_range]
        starts = [s.byte_range[0] for s in rep.segments if s.byte_range]
        assert starts == [e + 1 for e in ends[:-1]]  # contiguous, no gap or overlap
        for s in rep.segments:  # each range is a fragment (sidx/styp/moof first)
            assert s.byte_range is not None
            assert data[s.byte_range[0] + 4 : s.byte_range[0] + 8] in (b"sidx", b"styp", b"moof")
    assert check_files(p, single_file) == 3 * 4


def serve(directory: pathlib.Path, *, fail: frozenset[str] | set[str] = frozenset(), status: dict[str, int] | None = None) -> httpx.AsyncClient:
    status = status or {}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        seen.append(path)
        if path in fail:
            raise httpx.ConnectError("connection refused", request=request)
        if path in status:
            return httpx.Response(status[path])
        if path.endswith("/old.m3u8"):
            return httpx.Response(302, headers={"location": ROOT + "master.m3u8"})
        file = directory / path.removeprefix(urlsplit(ROOT).path)
        if not file.is_file():
            return httpx.Response(404)
        return httpx.Response(200, content=file.read_bytes())

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client.seen = seen  # type: ignore[attr-defined]
    return client


def test_load_manifest_dash_and_hls(packaged: pathlib.Path) -> None:
    async def run() -> tuple[Presentation, Presentation, list[str]]:
        async with serve(packaged) as client:
            dash = await load_manifest(client, ROOT + "out.mpd")
            hls = await load_manifest(client, ROOT + "old.m3u8")  # redirected to master.m3u8
            return dash, hls, client.seen  # type: ignore[attr-defined]

    dash, hls, seen = asyncio.run(run())
    assert dash.kind == "dash" and len(dash.video_ladder()) == 2
    assert hls.kind == "hls" and len(hls.video_ladder()) == 2 and hls.url == ROOT + "master.m3u8"
    assert sorted(p.rsplit("/", 1)[1] for p in seen if p.endswith("m3u8")) == [
        "master.m3u8", "media_0.m3u8", "media_1.m3u8", "media_2.m3u8", "old.m3u8"
    ]


@pytest.mark.parametrize(
    ("kwargs", "url", "error", "fragment"),
    [
        ({"fail": {"/c/token/m9/out.mpd"}}, "out.mpd", NetworkError, "ConnectError"),
        ({"status": {"/c/token/m9/out.mpd": 503}}, "out.mpd", NetworkError, "HTTP 503"),
        ({"status": {"/c/token/m9/media_1.m3u8": 404}}, "master.m3u8", NetworkError, "media_1.m3u8: HTTP 404"),
        ({"status": {}}, "out-stream0.mp4", ManifestError, ""),
        ({"status": {}}, "http://[::1/out.mpd", ManifestError, "not a valid URL"),
    ],
)
def test_load_manifest_errors(
    packaged: pathlib.Path, kwargs: dict, url: str, error: type[ManifestError] | type[NetworkError], fragment: str
) -> None:
    (packaged / "out-stream0.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom")

    async def run() -> None:
        async with serve(packaged, **kwargs) as client:
            await load_manifest(client, url if "://" in url else ROOT + url)

    with pytest.raises(error) as info:
        asyncio.run(run())
    assert type(info.value) is error and fragment in info.value.message
