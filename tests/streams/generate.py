"""Tiny streams as CDNs serve them, packaged by the ffmpeg of the imageio-ffmpeg wheel.

Every variant is a directory a plain static server can serve; ``manifest`` names the
URL path to play. Built once into the system temp folder under a key of this file's
code (edit the generator and the cache moves), with a lock so parallel sessions share
one build. Each clip is ``CLIP_S`` seconds in segments of ``SEG_S``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CLIP_S = 6
SEG_S = 2
FPS = 24

# (start, end, text): the cue timeline every subtitle variant carries, in content time.
# The second cue crosses the segment boundary at 2 s (HLS repeats it in both segments).
CUES: tuple[tuple[float, float, str], ...] = (
    (0.5, 1.5, "First cue"),
    (1.8, 2.6, "Second cue"),
    (3.0, 3.8, "Third cue"),
    (4.4, 5.2, "Fourth cue"),
)


@dataclass(frozen=True)
class Variant:
    name: str
    root: Path  # serve this directory
    manifest: str  # path of the manifest under root
    subtitles: str | None = None  # language of the subtitle track, if any


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _run(args: list[str], cwd: Path) -> None:
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr[-2000:]}")


_SOURCE = ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={CLIP_S}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CLIP_S}"]
_H264_AAC = ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(SEG_S * FPS), "-keyint_min", str(SEG_S * FPS),
             "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"]


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _sidecar_vtt() -> str:
    lines = ["WEBVTT", ""]
    for n, (start, end, text) in enumerate(CUES, 1):
        lines += [str(n), f"{_vtt_time(start)} --> {_vtt_time(end)}", text, ""]
    return "\n".join(lines)


# HLS segments map local cue time 10 s to media time 2 s: cue times are written 8 s late.
_MAP_SHIFT = 8.0


def _segment_vtt(index: int) -> str:
    lo, hi = index * SEG_S, (index + 1) * SEG_S
    lines = ["WEBVTT", "X-TIMESTAMP-MAP=MPEGTS:180000,LOCAL:00:00:10.000", ""]
    for start, end, text in CUES:
        if start < hi and end > lo:  # a cue crossing the boundary is in both segments
            lines += [f"{_vtt_time(start + _MAP_SHIFT)} --> {_vtt_time(end + _MAP_SHIFT)}", text, ""]
    return "\n".join(lines)


def _ttml() -> str:
    paragraphs = "\n".join(
        f'      <p begin="{start:.3f}s" end="{end:.3f}s">{text.split()[0]}<br/><span>{text.split()[1]}</span></p>'
        for start, end, text in CUES)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<tt xmlns="http://www.w3.org/ns/ttml" xml:lang="en">\n  <body>\n    <div>\n'
            f"{paragraphs}\n    </div>\n  </body>\n</tt>\n")


def _with_text_set(mpd: str, mime: str, url: str) -> str:
    text_set = (f'    <AdaptationSet id="9" contentType="text" mimeType="{mime}" lang="en">\n'
                f'      <Representation id="sub-en" bandwidth="1000">\n'
                f"        <BaseURL>{url}</BaseURL>\n      </Representation>\n    </AdaptationSet>\n")
    return mpd.replace("</Period>", text_set + "  </Period>", 1)


def _dash(out: Path) -> None:
    out.mkdir(parents=True)
    _run([*_SOURCE, *_H264_AAC, "-f", "dash", "-seg_duration", str(SEG_S), "-use_template", "1",
          "-use_timeline", "0", "manifest.mpd"], out)
    mpd = (out / "manifest.mpd").read_text()
    (out / "en.vtt").write_text(_sidecar_vtt())
    (out / "en.ttml").write_text(_ttml())
    (out / "vtt.mpd").write_text(_with_text_set(mpd, "text/vtt", "en.vtt"))
    (out / "ttml.mpd").write_text(_with_text_set(mpd, "application/ttml+xml", "en.ttml"))


def _scramble_slices(segment: bytes) -> bytes:
    """The segment with every video NAL unit's payload scrambled (its length and header
    kept): the container reads fine, the decoder meets garbage, as with CENC and no key."""
    out = bytearray(segment)
    at = 0
    while at + 8 <= len(out):
        size, box = int.from_bytes(out[at:at + 4], "big"), bytes(out[at + 4:at + 8])
        if size < 8:
            break
        if box == b"mdat":
            nal, end = at + 8, at + size
            while nal + 4 <= end:
                length = int.from_bytes(out[nal:nal + 4], "big")
                for i in range(nal + 6, min(nal + 4 + length, end)):
                    out[i] ^= (i * 151 + 7) & 0xFF
                nal += 4 + length
        at += size
    return bytes(out)


def _corrupt(dash: Path, out: Path) -> None:
    """The DASH variant with its video segments 2 and 3 scrambled."""
    shutil.copytree(dash, out)
    for number in (2, 3):
        seg = out / f"chunk-stream0-{number:05d}.m4s"
        seg.write_bytes(_scramble_slices(seg.read_bytes()))


def _hls(out: Path) -> None:
    out.mkdir(parents=True)
    _run([*_SOURCE, *_H264_AAC, "-f", "hls", "-hls_time", str(SEG_S), "-hls_playlist_type", "vod",
          "-hls_segment_type", "fmp4", "-hls_segment_filename", "seg%d.m4s", "-master_pl_name", "master.m3u8",
          "media.m3u8"], out)
    count = CLIP_S // SEG_S
    playlist = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEG_S}", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for i in range(count):
        (out / f"sub{i}.vtt").write_text(_segment_vtt(i))
        playlist += [f"#EXTINF:{SEG_S:.3f},", f"sub{i}.vtt"]
    (out / "subs.m3u8").write_text("\n".join([*playlist, "#EXT-X-ENDLIST", ""]))
    master = (out / "master.m3u8").read_text().splitlines()
    lines = [master[0], '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",'
                        'DEFAULT=NO,AUTOSELECT=YES,URI="subs.m3u8"']
    for line in master[1:]:
        lines.append(line + ',SUBTITLES="subs"' if line.startswith("#EXT-X-STREAM-INF") else line)
    (out / "master.m3u8").write_text("\n".join(lines) + "\n")


# Codec variants: (name, video encoder args, audio encoder args, extra dash args). Two rungs
# (160x90, 320x180) so the engine switches at a segment boundary; CODEC_CLIP_S long.
CODEC_CLIP_S = 5
CODEC_SEG_S = 1  # five segments: the first few fetched at start, the rest after the test fixes the top rung
_GOP = ["-g", str(CODEC_SEG_S * FPS), "-keyint_min", str(CODEC_SEG_S * FPS), "-pix_fmt", "yuv420p"]
CODECS: tuple[tuple[str, list[str], list[str], list[str]], ...] = (
    ("h264-aac", ["libx264", "-preset", "ultrafast", "-sc_threshold", "0"], ["aac", "-b:a", "64k"], []),
    ("h264-opus", ["libx264", "-preset", "ultrafast", "-sc_threshold", "0"], ["libopus", "-b:a", "48k"],
     ["-dash_segment_type", "mp4"]),
    ("h264-flac", ["libx264", "-preset", "ultrafast", "-sc_threshold", "0"], ["flac"], ["-strict", "experimental"]),
    ("hevc-ac3", ["libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:scenecut=0"],
     ["ac3", "-b:a", "96k"], []),
    ("hevc-eac3", ["libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:scenecut=0"],
     ["eac3", "-b:a", "96k"], []),
    ("av1-opus", ["libsvtav1", "-preset", "12", "-svtav1-params", "scd=0"], ["libopus", "-b:a", "48k"],
     ["-dash_segment_type", "mp4"]),
    ("vp9-opus-webm", ["libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "40"],
     ["libopus", "-b:a", "48k"], ["-dash_segment_type", "webm"]),
)


def _codec_variant(out: Path, video: list[str], audio: list[str], extra: list[str]) -> None:
    out.mkdir(parents=True)
    source = ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={CODEC_CLIP_S}",
              "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CODEC_CLIP_S}"]
    ladder = ["-filter_complex", "[0:v]split=2[lo][hi];[lo]scale=160:90[small]",
              "-map", "[small]", "-map", "[hi]", "-map", "1:a",
              "-c:v", video[0], *video[1:], *_GOP, "-b:v:0", "100k", "-b:v:1", "400k",
              "-c:a", audio[0], *audio[1:]]
    _run([*source, *ladder, *extra, "-f", "dash", "-seg_duration", str(CODEC_SEG_S), "-use_template", "1",
          "-use_timeline", "0", "manifest.mpd"], out)


def _hls_ts(out: Path) -> None:
    """HLS with MPEG-TS segments (H.264 + ADTS AAC muxed), two variants."""
    out.mkdir(parents=True)
    master = ["#EXTM3U"]
    for name, size, rate in (("lo", "160x90", "100k"), ("hi", "320x180", "400k")):
        (out / name).mkdir()
        _run(["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={CODEC_CLIP_S}",
              "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CODEC_CLIP_S}",
              "-s", size, "-c:v", "libx264", "-preset", "ultrafast", "-sc_threshold", "0", *_GOP, "-b:v", rate,
              "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", str(CODEC_SEG_S), "-hls_playlist_type", "vod",
              "-hls_segment_filename", "s%d.ts", "index.m3u8"], out / name)
        bandwidth = int(rate[:-1]) * 1000 + 70_000
        master += [f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={size},CODECS="avc1.42c00c,mp4a.40.2"',
                   f"{name}/index.m3u8"]
    (out / "master.m3u8").write_text("\n".join(master) + "\n")


def _key() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def build(base: Path | None = None) -> dict[str, Variant]:
    """Every variant, built if the cache for this code does not hold it yet."""
    user = getattr(os, "getuid", lambda: 0)()
    root = (base or Path(tempfile.gettempdir())) / f"marquee-test-streams-{user}-{_key()}"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(str(root) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            work = Path(tempfile.mkdtemp(prefix="streams-", dir=root.parent))
            _dash(work / "dash")
            _hls(work / "hls")
            _corrupt(work / "dash", work / "corrupt")
            for name, video, audio, extra in CODECS:
                _codec_variant(work / name, video, audio, extra)
            _hls_ts(work / "hls-ts-h264-aac")
            (work / "done").write_text("ok")
            shutil.rmtree(root, ignore_errors=True)
            work.rename(root)
    codecs = {name: Variant(name, root / name, "manifest.mpd") for name, *_ in CODECS}
    codecs["hls-ts-h264-aac"] = Variant("hls-ts-h264-aac", root / "hls-ts-h264-aac", "master.m3u8")
    return codecs | {
        "dash-vtt-sidecar": Variant("dash-vtt-sidecar", root / "dash", "vtt.mpd", "en"),
        "dash-ttml-sidecar": Variant("dash-ttml-sidecar", root / "dash", "ttml.mpd", "en"),
        "hls-segmented-vtt": Variant("hls-segmented-vtt", root / "hls", "master.m3u8", "en"),
        "dash-undecodable": Variant("dash-undecodable", root / "corrupt", "manifest.mpd"),
    }
