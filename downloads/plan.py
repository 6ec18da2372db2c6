"""What to download (pure): the quality rung, the audio and subtitle tracks, the files, and
the rewritten manifest that lists only what is kept.

Quality: ``low`` (lowest rung), ``standard`` (<= 480p), ``high`` (<= 720p), ``max`` (top rung),
or a height like ``720p`` / ``720`` (the highest rung at or below it; the lowest if none).
"""

from __future__ import annotations

import hashlib
import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence, TypeVar

import defusedxml.ElementTree as DET

from marquee.errors import ConfigError, ManifestError
from downloads.plan_ranges import DASH_NS, NS, Piece, RangeFetch, split_segment_base
from player.manifest.detect import parse_manifest
from player.manifest.model import Presentation, Representation

QUALITY_HEIGHTS = {"low": 0, "standard": 480, "high": 720, "max": 1 << 30}
MANIFEST = "manifest.mpd"
_RANGES_REFUSED = "This title lists its segments as byte ranges of shared files, which downloads do not support yet."


def max_height(quality: str) -> int:
    q = quality.strip().lower()
    if q in QUALITY_HEIGHTS:
        return QUALITY_HEIGHTS[q]
    digits = q[:-1] if q.endswith("p") else q
    if digits.isdigit() and int(digits) > 0:
        return int(digits)
    raise ConfigError(f"unknown quality {quality!r}",
                      user_message=f"Unknown quality {quality!r}: use low, standard, high, max or a height like 720p.")


class Rung(Protocol):
    @property
    def height(self) -> int | None: ...


R = TypeVar("R", bound=Rung)


def choose_rung(ladder: Sequence[R], quality: str) -> R:
    """``ladder`` lowest first (DASH representations or HLS variants)."""
    if not ladder:
        raise ManifestError("the manifest has no video", user_message="This title has no video to download.")
    limit = max_height(quality)
    fitting = [r for r in ladder if (r.height or 0) <= limit]
    return fitting[-1] if fitting else ladder[0]


def safe_relpath(url: str) -> str:
    """A manifest-relative URL as a stored path; refuses absolute URLs and ``..``."""
    if "://" in url or url.startswith(("/", "\\")) or "\\" in url or "?" in url or "#" in url:
        raise ManifestError(f"cannot download {url!r}: only relative paths inside the title are supported")
    norm = posixpath.normpath(url)
    if norm.startswith("..") or norm == ".":
        raise ManifestError(f"cannot download {url!r}: it points outside the title")
    return norm


def stored_name(relpath: str) -> str:
    """The opaque file name of a stored path (the names on disk say nothing about the content)."""
    return hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:32] + ".mqe"


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the manifest: the stored object (and what the player asks for)
    kind: str  # manifest | init | media | text
    est_bytes: int  # from the bandwidth and duration (real size known after download)
    source: str | None = None  # fetched from here (relative to the manifest) when not ``path`` itself
    byte_range: tuple[int, int] | None = None  # inclusive range of ``source`` (None: all of it)

    @classmethod
    def of_piece(cls, piece: Piece) -> "PlannedFile":
        """A byte range cut out of a shared file (``plan_ranges``), stored as its own object."""
        size = piece.byte_range[1] - piece.byte_range[0] + 1 if piece.byte_range else 4096
        return cls(safe_relpath(piece.path), piece.kind, size, safe_relpath(piece.source), piece.byte_range)


@dataclass(frozen=True)
class Plan:
    manifest: bytes  # the rewritten MPD (or HLS multivariant playlist)
    rung_id: str
    height: int
    bandwidth: int
    audio: tuple[str, ...]
    subtitles: tuple[str, ...]
    files: tuple[PlannedFile, ...]
    duration_s: float
    manifest_path: str = MANIFEST  # the entry point (the stored, rewritten MPD or multivariant playlist)
    stored: tuple[tuple[str, bytes], ...] = ()  # (path, bytes) written at add time: the manifest(s)

    def manifests(self) -> tuple[tuple[str, bytes], ...]:
        return self.stored or ((self.manifest_path, self.manifest),)

    @property
    def est_total_bytes(self) -> int:
        return sum(f.est_bytes for f in self.files)


def _lang(el: ET.Element) -> str:
    return (el.get("lang") or "und").lower()


def _content_type(aset: ET.Element) -> str:
    ct = aset.get("contentType") or ""
    if not ct:
        mime = aset.get("mimeType") or next((r.get("mimeType") or "" for r in aset.findall(f"{NS}Representation")), "")
        ct = mime.split("/")[0]
        if mime in ("text/vtt", "application/ttml+xml") or ct == "application":
            ct = "text"
    return ct


def rewrite_mpd(mpd: bytes, video_rep: str, audio: Iterable[str], subtitles: Iterable[str]) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """Keep one video representation, the wanted audio languages (the first audio set when
    none matches; the top representation of each) and the wanted subtitle languages."""
    try:
        root = DET.fromstring(mpd)
    except Exception as exc:  # defusedxml raises several types
        raise ManifestError(f"unreadable MPD: {exc}") from exc
    wanted_audio = [a.lower() for a in audio]
    wanted_subs = {s.lower() for s in subtitles}
    kept_audio: list[str] = []
    kept_subs: list[str] = []
    for period in root.findall(f"{NS}Period"):
        sets = period.findall(f"{NS}AdaptationSet")
        audio_sets = [s for s in sets if _content_type(s) == "audio"]
        keep_audio = [s for s in audio_sets if _lang(s) in wanted_audio] or audio_sets[:1]
        for aset in sets:
            kind = _content_type(aset)
            if kind == "video":
                for rep in aset.findall(f"{NS}Representation"):
                    if rep.get("id") != video_rep:
                        aset.remove(rep)
                if not aset.findall(f"{NS}Representation"):
                    period.remove(aset)
            elif kind == "audio":
                if aset not in keep_audio:
                    period.remove(aset)
                    continue
                reps = aset.findall(f"{NS}Representation")
                top = max(reps, key=lambda r: int(r.get("bandwidth") or 0)) if reps else None
                for rep in reps:
                    if rep is not top:
                        aset.remove(rep)
                kept_audio.append(_lang(aset))
            elif kind == "text":
                if "all" in wanted_subs or _lang(aset) in wanted_subs:
                    kept_subs.append(_lang(aset))
                else:
                    period.remove(aset)
    ET.register_namespace("", DASH_NS)
    out = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out, tuple(dict.fromkeys(kept_audio)), tuple(dict.fromkeys(kept_subs))


def _est(rep: Representation, seconds: float) -> int:
    return max(1024, int(rep.bandwidth * seconds / 8))


def plan_download(mpd: bytes, manifest_url: str, *, quality: str, audio: Sequence[str],
                  subtitles: Sequence[str], fetch: RangeFetch | None = None) -> Plan:
    """``fetch(url, (first, last)) -> bytes`` reads the segment index (sidx) of each kept
    SegmentBase representation; those become one stored file per segment (``plan_ranges``)."""
    original = parse_manifest(mpd, manifest_url, "application/dash+xml")
    if not isinstance(original, Presentation) or original.is_live:
        raise ManifestError("only on-demand DASH titles can be downloaded")
    rung = choose_rung(original.video_ladder(), quality)
    rewritten, kept_audio, kept_subs = rewrite_mpd(mpd, rung.id, audio, subtitles)
    pres = parse_manifest(rewritten, manifest_url, "application/dash+xml")
    assert isinstance(pres, Presentation)
    rewritten, pres, pieces = split_segment_base(rewritten, pres, manifest_url, fetch)
    rung = next((r for r in pres.video_ladder() if r.id == rung.id), rung)
    files: dict[str, PlannedFile] = {MANIFEST: PlannedFile(MANIFEST, "manifest", len(rewritten))}
    for piece in pieces.values():
        planned = PlannedFile.of_piece(piece)
        files[planned.path] = planned
    for rep in pres.representations():
        if rep.needs_index:  # split_segment_base handles every SegmentBase representation
            raise ManifestError(f"Representation '{rep.id}': its segment index was not read")
        if rep.init is not None:
            p = safe_relpath(rep.init.url)
            if rep.init.byte_range is not None and p not in files:
                raise ManifestError("byte-range init segments (SegmentList) cannot be downloaded yet",
                                    user_message=_RANGES_REFUSED)
            files.setdefault(p, PlannedFile(p, "init", 4096))
        text = (rep.mime or "").startswith(("text/", "application/ttml")) or rep.bandwidth < 2000
        refs = list(rep.segments)
        if not refs and rep.media_url:
            files.setdefault(safe_relpath(rep.media_url), PlannedFile(safe_relpath(rep.media_url), "text", 64 * 1024))
        for seg in refs:
            p = safe_relpath(seg.url)
            if seg.byte_range is not None and p not in files:
                raise ManifestError("byte-range segments (SegmentList mediaRange) cannot be downloaded yet",
                                    user_message=_RANGES_REFUSED)
            files.setdefault(p, PlannedFile(p, "text" if text else "media",
                                            64 * 1024 if text else _est(rep, seg.duration_s)))
    duration = pres.duration_s or sum(s.duration_s for s in rung.segments)
    return Plan(rewritten, rung.id, rung.height or 0, rung.bandwidth, kept_audio, kept_subs,
                tuple(files.values()), float(duration or 0.0))
