"""Line-level checks of M3U8 text, so every HLS error can name its line.

The `m3u8` package is lenient: it skips a URI without EXTINF, turns a bad
number into a bare ValueError, and knows nothing of implicit byte-range
offsets. These passes run first, reject what is malformed with
"line N: ..." messages, and record per segment / per variant the facts the
builder needs (line numbers, resolved byte ranges).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from player.manifest._common import MAX_SEGMENTS, fail

_ATTR = re.compile(r'\s*([A-Za-z0-9-]+)\s*=\s*("[^"\r\n]*"|[^",]*)\s*(?:,|$)')
_BYTERANGE = re.compile(r"\s*(\d+)\s*(?:@\s*(\d+)\s*)?")


def lines_of(text: str) -> list[tuple[int, str]]:
    """(1-based line number, stripped line) for every non-blank line."""
    return [(i, s.strip()) for i, s in enumerate(text.splitlines(), 1) if s.strip()]


def attributes(rest: str, lineno: int, tag: str) -> dict[str, str]:
    """Parse `KEY=value,KEY="quoted"`, unquoting values; malformed lists fail with the line."""
    out: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _ATTR.match(rest, pos)
        if not m or m.end() == pos:
            fail(f"line {lineno}: {tag} has a malformed attribute list near {rest[pos:pos + 30]!r}")
        value = m.group(2).strip()
        if value.startswith('"'):
            value = value[1:-1]
        out[m.group(1).upper()] = value
        pos = m.end()
    return out


def check_header(lines: list[tuple[int, str]]) -> None:
    if not lines or not lines[0][1].startswith("#EXTM3U"):
        fail(f"line {lines[0][0] if lines else 1}: playlist does not start with #EXTM3U")


def _int(value: str, lineno: int, what: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()):
        fail(f"line {lineno}: {what} {value!r} is not a non-negative integer")
    return int(value)


def parse_byterange(value: str, lineno: int, tag: str) -> tuple[int, int | None]:
    m = _BYTERANGE.fullmatch(value)
    if not m:
        fail(f"line {lineno}: {tag} {value!r} is not length[@offset]")
    length = int(m.group(1))
    if length <= 0:
        fail(f"line {lineno}: {tag} has length 0")
    return length, int(m.group(2)) if m.group(2) is not None else None


@dataclass(frozen=True)
class SegmentLines:
    line: int  # the URI line
    byte_range: tuple[int, int] | None


@dataclass(frozen=True)
class MediaLines:
    segments: tuple[SegmentLines, ...]
    map_line: int | None
    map_range: tuple[int, int] | None


def scan_media(text: str, url: str) -> MediaLines:
    """Validate a media playlist line by line; resolve byte ranges (implicit offsets included)."""
    lines = lines_of(text)
    check_header(lines)
    segments: list[SegmentLines] = []
    extinf: int | None = None
    pending_range: tuple[int, int | None, int] | None = None  # length, offset, line
    last: tuple[str, int] | None = None  # absolute URI and next offset of the previous sub-range
    map_key: tuple[str, str | None] | None = None
    map_line: int | None = None
    map_range: tuple[int, int] | None = None
    for n, line in lines:
        if line.startswith("#EXT-X-STREAM-INF") or line.startswith("#EXT-X-MEDIA:"):
            fail(f"line {n}: {line.split(':')[0]} in a media playlist (segments and variants cannot mix)")
        if line.startswith("#EXTINF"):
            if extinf is not None:
                fail(f"line {n}: EXTINF follows the EXTINF of line {extinf} without a segment URI between them")
            value = line.partition(":")[2].split(",", 1)[0].strip()
            try:
                duration = float(value)
            except ValueError:
                fail(f"line {n}: EXTINF duration {value!r} is not a number")
            if not math.isfinite(duration) or duration < 0:
                fail(f"line {n}: EXTINF duration {value!r} is not a finite, non-negative number")
            extinf = n
        elif line.startswith("#EXT-X-BYTERANGE"):
            length, offset = parse_byterange(line.partition(":")[2], n, "EXT-X-BYTERANGE")
            pending_range = (length, offset, n)
        elif line.startswith("#EXT-X-TARGETDURATION"):
            _int(line.partition(":")[2], n, "EXT-X-TARGETDURATION")
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE") or line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE"):
            _int(line.partition(":")[2], n, line.split(":")[0][1:])
        elif line.startswith("#EXT-X-MAP"):
            attrs = attributes(line.partition(":")[2], n, "EXT-X-MAP")
            if not attrs.get("URI"):
                fail(f"line {n}: EXT-X-MAP has no URI")
            key = (urljoin(url, attrs["URI"]), attrs.get("BYTERANGE"))
            if map_key is not None and key != map_key:
                fail(f"line {n}: a second, different EXT-X-MAP (line {map_line} was the first) is not supported")
            if map_key is None:
                if "BYTERANGE" in attrs:
                    length, offset = parse_byterange(attrs["BYTERANGE"], n, "EXT-X-MAP BYTERANGE")
                    start = offset or 0
                    map_range = (start, start + length - 1)
                map_key, map_line = key, n
        elif line.startswith("#EXT-X-KEY"):
            attrs = attributes(line.partition(":")[2], n, "EXT-X-KEY")
            if "METHOD" not in attrs:
                fail(f"line {n}: EXT-X-KEY has no METHOD")
        elif line.startswith("#"):
            continue  # other tags and comments: m3u8 reads what we need
        else:  # a segment URI
            if extinf is None:
                fail(f"line {n}: segment URI {line[:60]!r} without a preceding EXTINF")
            absolute = urljoin(url, line)
            byte_range = None
            if pending_range is not None:
                length, offset, range_line = pending_range
                if offset is None:
                    if last is None or last[0] != absolute:
                        fail(
                            f"line {range_line}: EXT-X-BYTERANGE without an offset and without a preceding"
                            " sub-range of the same resource"
                        )
                    offset = last[1]
                byte_range = (offset, offset + length - 1)
                last = (absolute, offset + length)
            else:
                last = None
            segments.append(SegmentLines(line=n, byte_range=byte_range))
            if len(segments) > MAX_SEGMENTS:
                fail(f"line {n}: more than {MAX_SEGMENTS} segments")
            extinf, pending_range = None, None
    if extinf is not None:
        fail(f"line {extinf}: EXTINF without a segment URI after it")
    if pending_range is not None:
        fail(f"line {pending_range[2]}: EXT-X-BYTERANGE without a segment URI after it")
    return MediaLines(segments=tuple(segments), map_line=map_line, map_range=map_range)


@dataclass(frozen=True)
class VariantLines:
    line: int
    attrs: dict[str, str]


@dataclass(frozen=True)
class MediaTagLines:
    line: int
    attrs: dict[str, str]


def scan_multivariant(text: str) -> tuple[tuple[VariantLines, ...], tuple[MediaTagLines, ...]]:
    """Validate a multivariant playlist line by line."""
    lines = lines_of(text)
    check_header(lines)
    variants: list[VariantLines] = []
    media: list[MediaTagLines] = []
    pending: VariantLines | None = None
    for n, line in lines:
        tag = line.split(":", 1)[0]
        if tag in ("#EXTINF", "#EXT-X-BYTERANGE", "#EXT-X-MAP"):
            fail(f"line {n}: {tag[1:]} in a multivariant playlist (segments and variants cannot mix)")
        if pending is not None and not line.startswith("#"):
            variants.append(pending)
            pending = None
            continue
        if tag == "#EXT-X-STREAM-INF":
            if pending is not None:
                fail(f"line {pending.line}: EXT-X-STREAM-INF without a URI line after it")
            attrs = attributes(line.partition(":")[2], n, "EXT-X-STREAM-INF")
            _check_variant(attrs, n)
            pending = VariantLines(line=n, attrs=attrs)
        elif tag == "#EXT-X-MEDIA":
            attrs = attributes(line.partition(":")[2], n, "EXT-X-MEDIA")
            for required in ("TYPE", "GROUP-ID", "NAME"):
                if not attrs.get(required):
                    fail(f"line {n}: EXT-X-MEDIA without {required}")
            if attrs["TYPE"] not in ("AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"):
                fail(f"line {n}: EXT-X-MEDIA TYPE={attrs['TYPE']} is not AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS")
            if attrs["TYPE"] == "SUBTITLES" and not attrs.get("URI"):
                fail(f"line {n}: EXT-X-MEDIA TYPE=SUBTITLES without URI")
            media.append(MediaTagLines(line=n, attrs=attrs))
        elif tag == "#EXT-X-CONTENT-STEERING":
            attrs = attributes(line.partition(":")[2], n, "EXT-X-CONTENT-STEERING")
            if not attrs.get("SERVER-URI"):
                fail(f"line {n}: EXT-X-CONTENT-STEERING without SERVER-URI")
        elif not line.startswith("#"):
            fail(f"line {n}: URI {line[:60]!r} without a preceding EXT-X-STREAM-INF")
    if pending is not None:
        fail(f"line {pending.line}: EXT-X-STREAM-INF without a URI line after it")
    if not variants:
        fail("multivariant playlist: no EXT-X-STREAM-INF")
    groups = {(m.attrs["TYPE"], m.attrs["GROUP-ID"]) for m in media}
    for v in variants:
        for attr, kind in (("AUDIO", "AUDIO"), ("SUBTITLES", "SUBTITLES")):
            if attr in v.attrs and (kind, v.attrs[attr]) not in groups:
                fail(f"line {v.line}: EXT-X-STREAM-INF refers to {attr} group {v.attrs[attr]!r}, which no EXT-X-MEDIA defines")
    return tuple(variants), tuple(media)


def _check_variant(attrs: dict[str, str], n: int) -> None:
    if "BANDWIDTH" not in attrs:
        fail(f"line {n}: EXT-X-STREAM-INF without BANDWIDTH")
    _int(attrs["BANDWIDTH"], n, "BANDWIDTH")
    if "AVERAGE-BANDWIDTH" in attrs:
        _int(attrs["AVERAGE-BANDWIDTH"], n, "AVERAGE-BANDWIDTH")
    if "RESOLUTION" in attrs and not re.fullmatch(r"\d+x\d+", attrs["RESOLUTION"]):
        fail(f"line {n}: RESOLUTION {attrs['RESOLUTION']!r} is not WIDTHxHEIGHT")
    if "FRAME-RATE" in attrs:
        try:
            rate = float(attrs["FRAME-RATE"])
        except ValueError:
            rate = -1.0
        if not math.isfinite(rate) or rate < 0:
            fail(f"line {n}: FRAME-RATE {attrs['FRAME-RATE']!r} is not a number")
    if "PROGRAM-ID" in attrs:
        _int(attrs["PROGRAM-ID"], n, "PROGRAM-ID")


def is_multivariant(text: str) -> bool:
    return any(line.startswith("#EXT-X-STREAM-INF") for _, line in lines_of(text))
