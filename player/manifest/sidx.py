"""The ISO BMFF `sidx` (segment index) box: byte ranges of the segments of a one-file representation.

A DASH SegmentBase representation carries `index_range` instead of segments.
The engine fetches those bytes and calls `with_sidx_segments(rep, data)` to get
a Representation whose `segments` are byte ranges of `rep.media_url`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from marquee.errors import ManifestError
from player.manifest._common import MAX_SEGMENTS, fail
from player.manifest.model import Representation, SegmentRef


@dataclass(frozen=True, slots=True)
class Sidx:
    timescale: int
    earliest_presentation_time: int
    references: tuple[tuple[tuple[int, int], int], ...]  # ((first, last) absolute, duration in timescale units)


def _boxes(data: bytes) -> list[tuple[str, int, int, int]]:
    """(type, start, header size, total size) of the top-level boxes in `data`."""
    out = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                fail(f"sidx: box at byte {pos} is truncated")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            fail(f"sidx: box at byte {pos} has an impossible size {size}")
        out.append((kind.decode("latin-1"), pos, header, size))
        pos += size
    return out


def parse_sidx_box(data: bytes, data_offset: int) -> Sidx:
    """Parse the first `sidx` box in `data`, which starts at byte `data_offset` of the media file."""
    try:
        return _parse(data, data_offset)
    except ManifestError:
        raise
    except Exception as exc:  # the boundary
        raise ManifestError(f"sidx: cannot be read ({type(exc).__name__}: {exc})") from exc


def _parse(data: bytes, data_offset: int) -> Sidx:
    if data_offset < 0:
        fail("sidx: negative data offset")
    box = next((b for b in _boxes(data) if b[0] == "sidx"), None)
    if box is None:
        fail("sidx: no sidx box in the index range")
    _, start, header, size = box
    if start + size > len(data):
        fail(f"sidx: box says {size} bytes but only {len(data) - start} were given")
    p = start + header
    body_end = start + size
    if p + 4 > body_end:
        fail("sidx: box is truncated")
    version = data[p]
    p += 4
    if version == 0:
        if p + 16 > body_end:
            fail("sidx: box is truncated")
        _ref_id, timescale, ept, first_offset = struct.unpack_from(">IIII", data, p)
        p += 16
    elif version == 1:
        if p + 24 > body_end:
            fail("sidx: box is truncated")
        _ref_id, timescale, ept, first_offset = struct.unpack_from(">IIQQ", data, p)
        p += 24
    else:
        fail(f"sidx: unknown version {version}")
    if timescale == 0:
        fail("sidx: timescale is 0")
    if p + 4 > body_end:
        fail("sidx: box is truncated")
    _reserved, count = struct.unpack_from(">HH", data, p)
    p += 4
    if p + 12 * count > body_end:
        fail(f"sidx: {count} references do not fit in the box")
    if count > MAX_SEGMENTS:
        fail(f"sidx: {count} references, more than the limit of {MAX_SEGMENTS}")
    offset = data_offset + start + size + first_offset  # anchor: first byte after the box
    refs = []
    for i in range(count):
        word, duration, _sap = struct.unpack_from(">III", data, p + 12 * i)
        if word >> 31:
            fail(f"sidx: reference {i + 1} points to another sidx (hierarchical indexes are not supported)")
        ref_size = word & 0x7FFFFFFF
        if ref_size == 0:
            fail(f"sidx: reference {i + 1} has size 0")
        refs.append(((offset, offset + ref_size - 1), duration))
        offset += ref_size
    return Sidx(timescale=timescale, earliest_presentation_time=ept, references=tuple(refs))


def parse_sidx(data: bytes, data_offset: int) -> list[tuple[tuple[int, int], float]]:
    """[(byte_range, duration_s)] of each subsegment, byte ranges absolute in the media file.

    `data` are the bytes of the index range (they must contain the sidx box);
    `data_offset` is the file offset of `data[0]`, i.e. the first byte of the
    index range. Malformed boxes raise ManifestError.
    """
    sidx = parse_sidx_box(data, data_offset)
    return [(rng, dur / sidx.timescale) for rng, dur in sidx.references]


def with_sidx_segments(rep: Representation, data: bytes) -> Representation:
    """A copy of a SegmentBase representation with `segments` filled from its index bytes.

    `data` are the bytes of `rep.index_range` of `rep.media_url`.
    """
    if rep.index_range is None or rep.media_url is None:
        fail(f"Representation '{rep.id}' has no index range")
    sidx = parse_sidx_box(data, rep.index_range[0])
    t = sidx.earliest_presentation_time
    segments = []
    for i, (rng, dur) in enumerate(sidx.references):
        segments.append(
            SegmentRef(
                number=i + 1,
                start_s=rep.sidx_time_offset_s + t / sidx.timescale,
                duration_s=dur / sidx.timescale,
                url=rep.media_url,
                byte_range=rng,
                size_bytes=rng[1] - rng[0] + 1,
            )
        )
        t += dur
    return replace(rep, segments=tuple(segments))
