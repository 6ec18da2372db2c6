"""Generated media for the remux / feed / mpv tests (built once per session with the
ffmpeg of imageio-ffmpeg, in a temporary directory, in a couple of seconds)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SEG_S = 2.0
SEGMENTS = 4
FPS = 24
RUNGS = ((256, 144), (1280, 720))  # DASH representation ids "0", "1"; audio is "2"


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: list[str], cwd: Path) -> None:
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr[-2000:]}")


_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-bf", "2",
         "-g", str(int(SEG_S * FPS)), "-keyint_min", str(int(SEG_S * FPS)), "-sc_threshold", "0",
         "-pix_fmt", "yuv420p"]
_DASH = ["-f", "dash", "-seg_duration", str(SEG_S), "-use_template", "1", "-use_timeline", "0",
         "-init_seg_name", "init-$RepresentationID$.m4s",
         "-media_seg_name", "seg-$RepresentationID$-$Number$.m4s"]


@dataclass(frozen=True)
class DashContent:
    """fMP4 DASH: video rungs "0" (256x144) and "1" (1280x720), AAC audio "2"."""

    root: Path
    segments: int = SEGMENTS
    seg_s: float = SEG_S

    def init(self, rep: str) -> bytes:
        return (self.root / f"init-{rep}.m4s").read_bytes()

    def media(self, rep: str, number: int) -> bytes:  # number: 1-based, as in the MPD
        return (self.root / f"seg-{rep}-{number}.m4s").read_bytes()

    def video(self, rung: int, number: int):  # -> SegmentData
        from player.remux import SegmentData

        return SegmentData(self.media(str(rung), number), self.init(str(rung)))

    def audio(self, number: int, rep: str = "2"):
        from player.remux import SegmentData

        return SegmentData(self.media(rep, number), self.init(rep))


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("player-media")


@pytest.fixture(scope="session")
def dash_content(media_root: Path) -> DashContent:
    root = media_root / "dash"
    root.mkdir()
    dur = SEG_S * SEGMENTS
    (w0, h0), (w1, h1) = RUNGS
    _run(["-f", "lavfi", "-i", f"testsrc2=size={w1}x{h1}:rate={FPS}:duration={dur}",
          "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={dur}",
          "-filter_complex", f"[0:v]split=2[a][b];[a]scale={w0}:{h0}[v0];[b]null[v1]",
          "-map", "[v0]", "-map", "[v1]", "-map", "1:a", *_X264,
          "-b:v:0", "150k", "-b:v:1", "1200k", "-c:a", "aac", "-b:a", "64k",
          *_DASH, "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"], root)
    return DashContent(root)


@pytest.fixture(scope="session")
def hls_ts_segments(media_root: Path) -> list[bytes]:
    """HLS MPEG-TS segments (H.264 144p + AAC muxed), 2 s each."""
    root = media_root / "hls"
    root.mkdir()
    _run(["-f", "lavfi", "-i", f"testsrc2=size=256x144:rate={FPS}:duration={SEG_S * 3}",
          "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={SEG_S * 3}",
          *_X264, "-b:v", "150k", "-c:a", "aac", "-b:a", "64k",
          "-f", "hls", "-hls_time", str(SEG_S), "-hls_segment_type", "mpegts",
          "-hls_playlist_type", "vod", "-hls_segment_filename", "ts-%d.ts", "index.m3u8"], root)
    return [p.read_bytes() for p in sorted(root.glob("ts-*.ts"), key=lambda p: int(p.stem[3:]))]


@pytest.fixture(scope="session")
def vp9_opus_content(media_root: Path) -> DashContent:
    """A tiny VP9 video ("0") + Opus audio ("1") DASH: codecs MPEG-TS cannot carry for mpv."""
    root = media_root / "vp9"
    root.mkdir()
    _run(["-f", "lavfi", "-i", f"testsrc2=size=128x72:rate={FPS}:duration={SEG_S}",
          "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SEG_S}",
          "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "100k",
          "-g", str(int(SEG_S * FPS)), "-c:a", "libopus", "-b:a", "32k",
          *_DASH, "-dash_segment_type", "mp4", "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"], root)
    return DashContent(root, segments=1)


@pytest.fixture(scope="session")
def alternating_ts(dash_content: DashContent) -> tuple[bytes, list]:
    """The whole content remuxed into one TS, rungs alternating 144p, 720p, 144p, 720p.

    Returns (ts bytes, [RemuxResult per segment]) ."""
    from player.remux import TsRemuxer

    rm = TsRemuxer()
    out = bytearray()
    results = []
    for n in range(1, dash_content.segments + 1):
        res = rm.remux(dash_content.video((n - 1) % 2, n), dash_content.audio(n))
        results.append(res)
        out += res.data
    out += rm.finish()
    return bytes(out), results


@pytest.fixture(scope="session")
def service_content(media_root: Path) -> Path:
    """A content folder in the reference service's layout (``media/m0``, ``build.json``):
    3 video rungs (144p/360p/720p) + AAC, 2 s segments, 16 s; for engine integration tests."""
    import json

    content = media_root / "service-content"
    media = content / "media" / "m0"
    media.mkdir(parents=True)
    dur = 16
    _run(["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={FPS}:duration={dur}",
          "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={dur}",
          "-filter_complex", "[0:v]split=3[a][b][c];[a]scale=256:144[v0];[b]scale=640:360[v1];[c]null[v2]",
          "-map", "[v0]", "-map", "[v1]", "-map", "[v2]", "-map", "1:a", *_X264,
          "-b:v:0", "150k", "-b:v:1", "600k", "-b:v:2", "1800k", "-c:a", "aac", "-b:a", "64k",
          *_DASH, "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"], media)
    ladder = [{"id": str(i), "height": h, "bandwidth": b} for i, (h, b) in enumerate(
        [(144, 150_000), (360, 600_000), (720, 1_800_000)])]
    build = {"version": 1, "quick": True, "segment_seconds": SEG_S, "artwork_variants": 4,
             "media": {"m0": {"duration_s": dur, "ladder": ladder, "audio": ["und"], "subtitles": []}}}
    (content / "build.json").write_text(json.dumps(build))
    return content
