"""Videos for the simulator: a :class:`~abr.api.Ladder` with per-segment sizes.

Sources accepted by :func:`resolve_video` (``--video``):

* ``pensieve`` (default): the standard 6-rung, 48 x 4 s Envivio clip of the benchmark
  (``assets/traces/video``: 300, 750, 1200, 1850, 2850, 4300 kbps). Its size files have 49
  lines; as in Pensieve only 48 chunks are played, the 49th size is lookahead only.
* ``marquee``: our own ladder, 10 minutes (150 x 4 s) of synthetic VBR segments
  (7 rungs, 250-5000 kbps); used by the realistic mode.
* a directory of chunk-size files ``video_size_<rung>`` (one byte count per line, rung 0
  lowest). Bitrates: the Pensieve ones for a 6-file set, else the mean size of each file.
* a single chunk-size file: one line per segment, the sizes of every rung on that line.
* a DASH manifest (``*.mpd``): rungs are the video ``Representation``s (by ``@bandwidth``).
  Segment sizes come from ``SegmentList``/``SegmentURL@mediaRange`` when the MPD lists them;
  otherwise (our own content: ``SegmentTemplate`` with relative ``media`` URLs) from the sizes
  of the segment files next to the manifest, ``$RepresentationID$``, ``$Number$`` (with an
  optional ``%0Nd`` width) and ``$Bandwidth$`` substituted, numbered from ``startNumber`` until
  a file is missing. Without any size the nominal ``bandwidth * duration / 8`` is used.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marquee.errors import ConfigError

from abr.api import Ladder

PENSIEVE_KBPS = (300, 750, 1200, 1850, 2850, 4300)
PENSIEVE_CHUNKS = 48
MARQUEE_KBPS = (250, 500, 900, 1500, 2400, 3600, 5000)


@dataclass(frozen=True)
class Video:
    name: str
    ladder: Ladder
    audio_bps: float = 0.0  # an audio track fetched with every segment (the controller sees video bytes only)

    @property
    def segments(self) -> int:
        assert self.ladder.segment_count is not None
        return self.ladder.segment_count


def _read_sizes(path: Path) -> list[int]:
    try:
        return [int(float(line.split()[0])) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError, IndexError) as exc:
        raise ConfigError(f"cannot read chunk sizes from {path}: {exc}") from exc


def load_chunk_dir(path: Path, bitrates_kbps: tuple[float, ...] | None = None,
                   segment_seconds: float = 4.0, segments: int | None = None) -> Video:
    files = sorted(path.glob("video_size_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))
    if not files:
        raise ConfigError(f"no video_size_<rung> files in {path}")
    sizes = [_read_sizes(p) for p in files]
    n = min(len(s) for s in sizes)
    if bitrates_kbps is None:
        if len(files) == len(PENSIEVE_KBPS):
            bitrates_kbps = PENSIEVE_KBPS
        else:
            bitrates_kbps = tuple(round(sum(s[:n]) * 8 / n / segment_seconds / 1000) for s in sizes)
    if segments is None:
        segments = PENSIEVE_CHUNKS if (len(files) == 6 and n == PENSIEVE_CHUNKS + 1) else n
    ladder = Ladder(tuple(b * 1000.0 for b in bitrates_kbps), segment_seconds,
                    tuple(tuple(s[:n]) for s in sizes), min(segments, n))
    return Video(path.name, ladder)


def load_chunk_file(path: Path, bitrates_kbps: tuple[float, ...] | None = None,
                    segment_seconds: float = 4.0) -> Video:
    try:
        rows = [[int(float(x)) for x in line.split()] for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read chunk sizes from {path}: {exc}") from exc
    if not rows or len({len(r) for r in rows}) != 1:
        raise ConfigError(f"{path}: every line must list the size of every rung")
    per_rung = list(zip(*rows))
    order = sorted(range(len(per_rung)), key=lambda i: sum(per_rung[i]))
    per_rung = [per_rung[i] for i in order]
    if bitrates_kbps is None:
        bitrates_kbps = tuple(round(sum(s) * 8 / len(s) / segment_seconds / 1000) for s in per_rung)
    ladder = Ladder(tuple(b * 1000.0 for b in bitrates_kbps), segment_seconds,
                    tuple(tuple(s) for s in per_rung), len(rows))
    return Video(path.name, ladder)


def marquee_video(minutes: float = 10.0, segment_seconds: float = 4.0, seed: int = 11,
                  kbps: tuple[float, ...] = MARQUEE_KBPS, name: str = "marquee", audio_kbps: float = 0.0) -> Video:
    """Our own ladder with VBR sizes: a scene complexity shared by all rungs, +-25%."""
    n = int(minutes * 60 / segment_seconds)
    rng = np.random.default_rng(seed)
    scene = np.repeat(np.exp(rng.normal(0, 0.25, n // 5 + 1)), 5)[:n]
    scene *= np.exp(rng.normal(0, 0.08, n))
    scene /= scene.mean()
    sizes = tuple(tuple(int(k * 1000 * segment_seconds / 8 * f) for f in scene) for k in kbps)
    return Video(name, Ladder(tuple(k * 1000.0 for k in kbps), segment_seconds, sizes, n), audio_kbps * 1000.0)


REAL_LINK_KBPS = (400.0, 1200.0, 2800.0)


def real_link_video() -> Video:
    """The clip of the real-link runs (issue 21): 180 s, 2 s segments, 400/1200/2800 kbps video (VBR sizes
    as :func:`marquee_video`) and a 96 kbps audio track fetched with every segment."""
    return marquee_video(3.0, 2.0, 21, REAL_LINK_KBPS, "real-link", 96.0)


def pensieve_video() -> Video:
    from abr.traces import bundled_traces_dir

    video = load_chunk_dir(bundled_traces_dir() / "video")
    return Video("pensieve", video.ladder)


# ---------------------------------------------------------------- DASH

_NS = re.compile(r"\{.*?\}")
_DUR = re.compile(r"P(?:(?P<d>[\d.]+)D)?(?:T(?:(?P<h>[\d.]+)H)?(?:(?P<m>[\d.]+)M)?(?:(?P<s>[\d.]+)S)?)?$")


def _iso_duration(text: str | None) -> float | None:
    if not text:
        return None
    m = _DUR.match(text.strip())
    if not m:
        return None
    d, h, mi, s = (float(m.group(k) or 0) for k in "dhms")
    return d * 86400 + h * 3600 + mi * 60 + s


def _local(tag: str) -> str:
    return _NS.sub("", tag)


def _expand(template: str, rep_id: str, bandwidth: int, number: int) -> str:
    def sub(m: re.Match[str]) -> str:
        key, fmt = m.group(1), m.group(2)
        if key == "RepresentationID":
            return rep_id
        value = number if key == "Number" else bandwidth
        return (fmt % value) if fmt else str(value)

    return re.sub(r"\$(RepresentationID|Number|Bandwidth)(%0\d+d)?\$", sub, template)


def load_mpd(path: Path) -> Video:
    from defusedxml import ElementTree

    try:
        root = ElementTree.parse(str(path)).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise ConfigError(f"cannot parse manifest {path}: {exc}") from exc
    total = _iso_duration(root.get("mediaPresentationDuration"))
    base = path.parent
    reps: list[tuple[int, list[int], float]] = []
    for aset in root.iter():
        if _local(aset.tag) != "AdaptationSet":
            continue
        kind = (aset.get("contentType") or aset.get("mimeType") or "")
        children = [c for c in aset if _local(c.tag) == "Representation"]
        if "video" not in kind and not any("video" in (c.get("mimeType") or "") for c in children):
            continue
        aset_tmpl = next((c for c in aset if _local(c.tag) == "SegmentTemplate"), None)
        for rep in children:
            bw = int(rep.get("bandwidth") or 0)
            tmpl = next((c for c in rep if _local(c.tag) == "SegmentTemplate"), aset_tmpl)
            seglist = next((c for c in rep if _local(c.tag) == "SegmentList"), None)
            seg_s, sizes = 0.0, []
            if seglist is not None:
                ts = float(seglist.get("timescale") or 1)
                seg_s = float(seglist.get("duration") or 0) / ts
                for url in (c for c in seglist if _local(c.tag) == "SegmentURL"):
                    rng = url.get("mediaRange")
                    if rng and "-" in rng:
                        a, b = rng.split("-", 1)
                        sizes.append(int(b) - int(a) + 1)
                    elif url.get("media") and (base / url.get("media", "")).is_file():
                        sizes.append((base / url.get("media", "")).stat().st_size)
            elif tmpl is not None:
                ts = float(tmpl.get("timescale") or 1)
                seg_s = float(tmpl.get("duration") or 0) / ts
                timeline = next((c for c in tmpl if _local(c.tag) == "SegmentTimeline"), None)
                if timeline is not None and not seg_s:
                    first = next(iter(timeline), None)
                    seg_s = float(first.get("d") or 0) / ts if first is not None else 0.0
                media = tmpl.get("media") or ""
                number = int(tmpl.get("startNumber") or 1)
                while media:
                    f = base / _expand(media, rep.get("id") or "", bw, number)
                    if not f.is_file():
                        break
                    sizes.append(f.stat().st_size)
                    number += 1
            if not seg_s:
                raise ConfigError(f"{path}: representation {rep.get('id')} has no segment duration")
            reps.append((bw, sizes, seg_s))
    if not reps:
        raise ConfigError(f"{path}: no video representations")
    reps.sort(key=lambda r: r[0])
    seg_s = reps[0][2]
    counts = [len(r[1]) for r in reps if r[1]]
    if counts:
        n = min(counts)
    elif total:
        n = math.ceil(total / seg_s)
    else:
        raise ConfigError(f"{path}: cannot tell how many segments there are")
    if len(counts) == len(reps):
        sizes_t: tuple[tuple[int, ...], ...] | None = tuple(tuple(r[1][:n]) for r in reps)
    else:
        sizes_t = None  # nominal sizes
    ladder = Ladder(tuple(float(r[0]) for r in reps), seg_s, sizes_t, n)
    return Video(path.stem, ladder)


def resolve_video(spec: str = "pensieve") -> Video:
    if spec in ("pensieve", "standard"):
        return pensieve_video()
    if spec == "marquee":
        return marquee_video()
    path = Path(spec).expanduser()
    if path.is_dir():
        if any(path.glob("video_size_*")):
            return load_chunk_dir(path)
        mpds = sorted(path.glob("*.mpd"))
        if mpds:
            return load_mpd(mpds[0])
        raise ConfigError(f"{path}: no video_size_* files and no .mpd manifest")
    if path.is_file():
        return load_mpd(path) if path.suffix.lower() == ".mpd" else load_chunk_file(path)
    raise ConfigError(f"--video {spec!r}: not a file, directory, or preset (pensieve, marquee)")
