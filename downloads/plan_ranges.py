"""Byte-range representations as plain files (pure; the index bytes come through ``fetch``).

A DASH SegmentBase representation is one file per track: its segments are byte ranges
listed by the ``sidx`` box at ``indexRange``. A download stores every segment as its own
object, so the plan fetches each kept representation's sidx (``fetch(url, (first, last))``),
gives the init segment and every segment a synthetic stored path
(``<rep-id>/init.mp4``, ``<rep-id>/seg-00001.m4s``) with its *source* (the original
relative URL and an inclusive byte range), and rewrites the representation to a
SegmentList (``Initialization@sourceURL``, ``SegmentURL@media``) whose SegmentTimeline
carries the sidx durations in the sidx timescale: the player sees plain per-segment
files with exactly the times the sidx gave.

Refused, with the reason: SegmentBase without ``indexRange``, an index that is not a
sidx (or a hierarchical one), and media files outside the title.

HLS media playlists with EXT-X-BYTERANGE (and EXT-X-MAP BYTERANGE) get the same treatment
without any extra fetch: the ranges are in the playlist, which is rewritten to list
``<playlist-name>/init.mp4`` and ``<playlist-name>/seg-00001.m4s`` (``.ts`` for TS sources).
"""

from __future__ import annotations

import math
import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree as DET

from marquee.errors import ManifestError
from player.manifest._common import directory_of, relativize
from player.manifest.hls_lines import attributes, lines_of, scan_media
from player.manifest.detect import parse_manifest
from player.manifest.model import Presentation, Representation
from player.manifest.sidx import Sidx, parse_sidx_box, with_sidx_segments

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
NS = "{" + DASH_NS + "}"
ON_DEMAND = "urn:mpeg:dash:profile:isoff-on-demand:2011"
MAIN = "urn:mpeg:dash:profile:isoff-main:2011"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNREADABLE = ("This title's video index cannot be read, so it cannot be downloaded. "
               "Streaming it may still work.")

RangeFetch = Callable[[str, tuple[int, int]], bytes]
"""``fetch(absolute_url, (first, last))`` -> those bytes (inclusive range)."""


@dataclass(frozen=True)
class Piece:
    """One stored object cut out of a source file."""

    path: str  # stored path, relative to the manifest
    kind: str  # init | media
    source: str  # the original reference, relative to the manifest
    byte_range: tuple[int, int] | None  # inclusive; None: the whole source


@dataclass(frozen=True)
class _Split:
    key: tuple[int, str]  # (period index, representation id)
    init: tuple[str, tuple[int, int] | None] | None  # (source, range) of the init segment
    segments: tuple[tuple[str, tuple[int, int]], ...]  # (source, range) of each segment
    expected: Representation  # the representation with its sidx segments, to check timing against


def _refuse(message: str, user_message: str = _UNREADABLE) -> ManifestError:
    return ManifestError(message, user_message=user_message)


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return el.findall(f"{NS}{name}")


def _segment_base(levels: list[ET.Element]) -> list[ET.Element]:
    """The SegmentBase elements that apply to a Representation, highest level first."""
    return [sb for el in levels for sb in _children(el, "SegmentBase")]


def _timing(bases: list[ET.Element]) -> tuple[int, int]:
    """(timescale, presentationTimeOffset) of SegmentBase, lower levels overriding higher ones."""
    timescale, pto = 1, 0
    for sb in bases:
        timescale = int(sb.get("timescale") or timescale)
        pto = int(sb.get("presentationTimeOffset") or pto)
    return timescale, pto


def _folder_name(text: str, default: str) -> str:
    """``text`` made safe as one path segment of a stored file."""
    return _SAFE.sub("_", text).strip("._") or default


def _stored_dir(rep_id: str, period: int, periods: int, used: set[str]) -> str:
    name = _folder_name(rep_id, "rep")
    if periods > 1:
        name = f"p{period + 1}-{name}"
    unique, n = name, 1
    while unique in used:
        n += 1
        unique = f"{name}-{n}"
    used.add(unique)
    return unique


def _timeline(sidx: Sidx, scale: int) -> ET.Element:
    """SegmentTimeline with runs of equal durations folded into ``r``."""
    timeline = ET.Element(f"{NS}SegmentTimeline")
    runs: list[list[int]] = []  # [duration, repeat]
    for _, duration in sidx.references:
        if runs and runs[-1][0] == duration:
            runs[-1][1] += 1
        else:
            runs.append([duration, 0])
    t = sidx.earliest_presentation_time * scale
    for i, (duration, repeat) in enumerate(runs):
        attrs = {"d": str(duration * scale)}
        if i == 0:
            attrs["t"] = str(t)
        if repeat:
            attrs["r"] = str(repeat)
        ET.SubElement(timeline, f"{NS}S", attrs)
    return timeline


def _segment_list(folder: str, sidx: Sidx, base_timescale: int, base_pto: int) -> ET.Element:
    """A SegmentList with the sidx timing, exact: the sidx timescale when the SegmentBase
    presentationTimeOffset is a whole number of its ticks, else their least common multiple."""
    timescale = sidx.timescale
    if (base_pto * timescale) % base_timescale:
        timescale = math.lcm(sidx.timescale, base_timescale)
    scale = timescale // sidx.timescale
    attrs = {"timescale": str(timescale)}
    pto = base_pto * timescale // base_timescale
    if pto:
        attrs["presentationTimeOffset"] = str(pto)
    seg_list = ET.Element(f"{NS}SegmentList", attrs)
    ET.SubElement(seg_list, f"{NS}Initialization", {"sourceURL": f"{folder}/init.mp4"})
    seg_list.append(_timeline(sidx, scale))
    for n in range(1, len(sidx.references) + 1):
        ET.SubElement(seg_list, f"{NS}SegmentURL", {"media": f"{folder}/seg-{n:05d}.m4s"})
    return seg_list


def _read_index(rep: Representation, manifest_url: str, fetch: RangeFetch | None) -> tuple[Sidx, Representation]:
    assert rep.index_range is not None and rep.media_url is not None
    if fetch is None:
        raise ManifestError(f"Representation '{rep.id}' is SegmentBase: its index has to be fetched to plan it")
    first, last = rep.index_range
    data = fetch(urljoin(directory_of(manifest_url), rep.media_url), rep.index_range)
    if len(data) != last - first + 1:
        raise _refuse(f"Representation '{rep.id}': asked for {last - first + 1} index bytes of {rep.media_url}, "
                      f"got {len(data)}")
    try:
        sidx = parse_sidx_box(data, first)
        expected = with_sidx_segments(rep, data)
    except ManifestError as exc:
        raise _refuse(f"Representation '{rep.id}' ({rep.media_url}): {exc.message}") from exc
    if not sidx.references:
        raise _refuse(f"Representation '{rep.id}' ({rep.media_url}): the sidx lists no segment")
    return sidx, expected


def _init_source(rep: Representation) -> tuple[str, tuple[int, int] | None] | None:
    """The init segment: SegmentBase's Initialization, else the bytes before the index
    (ftyp + moov in the on-demand layout)."""
    assert rep.index_range is not None and rep.media_url is not None
    if rep.init is not None:
        return rep.init.url, rep.init.byte_range
    return (rep.media_url, (0, rep.index_range[0] - 1)) if rep.index_range[0] > 0 else None


def split_segment_base(mpd: bytes, pres: Presentation, manifest_url: str,
                       fetch: RangeFetch | None) -> tuple[bytes, Presentation, dict[str, Piece]]:
    """Rewrite every SegmentBase representation of ``mpd`` (``pres`` is its parse) to a
    SegmentList of synthetic files. Returns the new MPD, its parse and the pieces by
    stored path. An MPD without SegmentBase comes back as it was."""
    try:
        root = DET.fromstring(mpd)
    except Exception as exc:  # defusedxml raises several types
        raise ManifestError(f"unreadable MPD: {exc}") from exc
    period_els = _children(root, "Period")
    if len(period_els) != len(pres.periods):
        raise ManifestError(f"the MPD has {len(period_els)} Period elements, the parse {len(pres.periods)}")
    splits: list[_Split] = []
    for k, (period_el, period) in enumerate(zip(period_els, pres.periods)):
        reps = {r.id: (t.kind, r) for t in period.tracks for r in t.representations}
        used: set[str] = set()
        for aset_el in _children(period_el, "AdaptationSet"):
            for rep_el in _children(aset_el, "Representation"):
                bases = _segment_base([period_el, aset_el, rep_el])
                found = reps.get((rep_el.get("id") or "").strip())
                if not bases or found is None:
                    continue
                kind, rep = found
                if rep.index_range is None:
                    if kind == "text":
                        continue  # a whole sidecar file: downloaded as it is
                    raise _refuse(f"Representation '{rep.id}' is SegmentBase without indexRange: its segments "
                                  "cannot be located", "This title's stream has no segment index, so it cannot "
                                  "be downloaded. Streaming it may still work.")
                if not rep.needs_index:
                    continue  # a SegmentList or SegmentTemplate at its level wins
                sidx, expected = _read_index(rep, manifest_url, fetch)
                timescale, pto = _timing(bases)
                folder = _stored_dir(rep.id, k, len(period_els), used)
                for el in rep_el.findall(f"{NS}BaseURL") + rep_el.findall(f"{NS}SegmentBase"):
                    rep_el.remove(el)
                rep_el.append(_segment_list(folder, sidx, timescale, pto))
                init = _init_source(rep)
                if init is None:
                    raise _refuse(f"Representation '{rep.id}': no Initialization and the index starts at byte 0")
                splits.append(_Split((k, rep.id), init,
                                     tuple((rep.media_url or "", rng) for rng, _ in sidx.references), expected))
    if not splits:
        return mpd, pres, {}
    profiles = root.get("profiles")
    if profiles and ON_DEMAND in profiles:  # no longer one file per track
        root.set("profiles", profiles.replace(ON_DEMAND, MAIN))
    ET.register_namespace("", DASH_NS)
    out = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    new = parse_manifest(out, manifest_url, "application/dash+xml")
    assert isinstance(new, Presentation)
    return out, new, _pieces(new, splits)


def _pieces(new: Presentation, splits: list[_Split]) -> dict[str, Piece]:
    """Stored path -> source, read back from the rewritten parse (so the paths are exactly
    the ones the player will ask for), with the timing checked against the sidx."""
    reps = {(k, r.id): r for k, p in enumerate(new.periods) for t in p.tracks for r in t.representations}
    pieces: dict[str, Piece] = {}

    def add(piece: Piece) -> None:
        if piece.path in pieces or piece.path == piece.source:
            raise ManifestError(f"cannot download: the stored name {piece.path!r} is already used in this title")
        pieces[piece.path] = piece

    for split in splits:
        rep = reps[split.key]
        assert rep.init is not None and len(rep.segments) == len(split.segments)
        for got, want in zip(rep.segments, split.expected.segments):
            if abs(got.start_s - want.start_s) > 1e-9 or abs(got.duration_s - want.duration_s) > 1e-9:
                raise ManifestError(f"Representation '{rep.id}': rewritten segment {got.number} does not keep the "
                                    f"sidx timing ({got.start_s}+{got.duration_s} vs {want.start_s}+{want.duration_s})")
        if split.init is not None:
            add(Piece(rep.init.url, "init", *split.init))
        for seg, (source, rng) in zip(rep.segments, split.segments):
            add(Piece(seg.url, "media", source, rng))
    return pieces


def split_hls_ranges(text: str, playlist_url: str, root: str) -> tuple[str, list[Piece]]:
    """Rewrite one HLS media playlist's byte-range segments (and EXT-X-MAP range) to
    synthetic files next to it. Paths and sources in the pieces are relative to ``root``
    (the multivariant playlist's directory). A playlist without ranges comes back as it was."""
    scan = scan_media(text, playlist_url)
    ranged = {s.line: s.byte_range for s in scan.segments if s.byte_range is not None}
    if not ranged and scan.map_range is None:
        return text, []
    stem = posixpath.splitext(posixpath.basename(urlsplit(playlist_url).path))[0]
    folder = _folder_name(stem, "playlist")
    pieces: list[Piece] = []

    def piece(ref: str, kind: str, source: str, rng: tuple[int, int] | None) -> str:
        pieces.append(Piece(relativize(root, urljoin(playlist_url, ref)), kind,
                            relativize(root, urljoin(playlist_url, source)), rng))
        return ref

    out: list[str] = []
    number = 0
    for n, line in lines_of(text):
        if line.startswith("#EXT-X-BYTERANGE"):
            continue  # every one belongs to a segment rewritten below
        if line.startswith("#EXT-X-MAP") and scan.map_range is not None:
            uri = attributes(line.partition(":")[2], n, "EXT-X-MAP")["URI"]
            if not any(p.kind == "init" for p in pieces):
                piece(f"{folder}/init.mp4", "init", uri, scan.map_range)
            line = f'#EXT-X-MAP:URI="{folder}/init.mp4"'
        elif n in ranged:
            number += 1
            ext = ".ts" if urlsplit(line).path.lower().endswith(".ts") else ".m4s"
            line = piece(f"{folder}/seg-{number:05d}{ext}", "media", line, ranged[n])
        out.append(line)
    return "\n".join(out) + "\n", pieces
