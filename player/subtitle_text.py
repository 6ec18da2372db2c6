"""Subtitle text in, timed cues out, WebVTT for mpv back (pure: no I/O).

What CDNs serve and what mpv needs differ in three ways this module settles:

* HLS cuts WebVTT into segments, each a whole file with its own ``WEBVTT`` header and
  an ``X-TIMESTAMP-MAP`` that ties its cue times to the media's 90 kHz clock; joined
  byte for byte they leave stray headers in cues and wrong times. Each segment is
  parsed on its own, mapped to media time, and cues repeated across a segment boundary
  are kept once.
* TTML / IMSC text (DASH ``stpp`` sidecars, ``application/ttml+xml``) is XML mpv does
  not read: its paragraphs are turned into cues.
* The engine feeds mpv a stream whose timestamps are the source's plus a fixed offset
  (``player.remux.TS_OFFSET_S``); a subtitle file added next to it is read on the same
  clock, so :func:`render_webvtt` shifts every cue by that offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Iterable
from xml.etree.ElementTree import Element

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

__all__ = ["Cue", "SubtitleFormatError", "parse_subtitle", "parse_ttml", "parse_webvtt", "render_webvtt"]


class SubtitleFormatError(ValueError):
    """Subtitle bytes that cannot be turned into cues; ``str()`` is a plain-words reason."""


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float  # media (content) time
    end_s: float
    text: str  # WebVTT cue payload (may hold <i>, <b>... tags); lines joined by "\n"
    settings: str = ""  # WebVTT cue settings ("line:90% align:center"), passed through


_TIMING = re.compile(r"^\s*(?P<start>[\d:.,]+)\s+-->\s+(?P<end>[\d:.,]+)(?P<settings>.*)$")
_VTT_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$")
_MAP_MPEGTS = re.compile(r"MPEGTS:(\d+)")
_MAP_LOCAL = re.compile(r"LOCAL:([\d:.]+)")


def _vtt_seconds(text: str) -> float:
    m = _VTT_TIME.match(text.strip())
    if m is None:
        raise SubtitleFormatError(f"the cue time {text.strip()!r} is not a WebVTT time")
    hours, minutes, seconds, fraction = m.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def _timestamp_map_shift(header: str) -> float:
    """Seconds to add to this file's cue times (HLS ``X-TIMESTAMP-MAP``), 0 without one."""
    for line in header.splitlines():
        if line.startswith("X-TIMESTAMP-MAP"):
            mpegts, local = _MAP_MPEGTS.search(line), _MAP_LOCAL.search(line)
            ticks = int(mpegts.group(1)) if mpegts else 0
            return ticks / 90_000 - (_vtt_seconds(local.group(1)) if local else 0.0)
    return 0.0


def parse_webvtt(text: str, *, require_header: bool = True) -> list[Cue]:
    """Cues of one WebVTT file (or SRT with ``require_header=False``), in media time."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    shift = 0.0
    if blocks and blocks[0].startswith("WEBVTT"):
        shift = _timestamp_map_shift(blocks[0])
        # The header block may run straight into the first cue when there is no blank line.
        header, *rest = blocks[0].split("\n")
        blocks[0] = "\n".join(line for line in rest if not line.startswith("X-TIMESTAMP-MAP"))
    elif require_header:
        raise SubtitleFormatError("the file does not start with WEBVTT")
    cues = []
    for block in blocks:
        lines = block.split("\n")
        if lines[0].startswith(("NOTE", "STYLE", "REGION")) or not any("-->" in line for line in lines[:2]):
            continue
        at = 0 if "-->" in lines[0] else 1
        m = _TIMING.match(lines[at])
        if m is None:
            continue  # a malformed cue is skipped, as browsers do
        payload = "\n".join(line for line in lines[at + 1:] if line.strip() not in ("", "WEBVTT"))
        start, end = _vtt_seconds(m.group("start")) + shift, _vtt_seconds(m.group("end")) + shift
        if end > start and payload.strip():
            cues.append(Cue(start, end, payload, m.group("settings").strip()))
    return cues


# ------------------------------------------------------------------ TTML

_TT_NS = "http://www.w3.org/ns/ttml"
_TTP_NS = "http://www.w3.org/ns/ttml#parameter"
_CLOCK = re.compile(r"^(\d+):(\d{2}):(\d{2})(?:\.(\d+))?(?::(\d+(?:\.\d+)?))?$")
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|ms|m|s|f|t)$")


@dataclass(frozen=True)
class _Rates:
    frame_rate: float = 30.0
    tick_rate: float = 1.0


def _ttml_seconds(value: str, rates: _Rates) -> float:
    value = value.strip()
    m = _CLOCK.match(value)
    if m:
        hours, minutes, seconds, fraction, frames = m.groups()
        out = int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(f"0.{fraction}" if fraction else 0)
        return out + (float(frames) / rates.frame_rate if frames else 0.0)
    m = _OFFSET.match(value)
    if m:
        number, unit = float(m.group(1)), m.group(2)
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001,
                 "f": 1 / rates.frame_rate, "t": 1 / rates.tick_rate}[unit]
        return number * scale
    raise SubtitleFormatError(f"the TTML time {value!r} is not one Marquee understands")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ttml_text(element: Element) -> str:
    """A paragraph's text: spans flattened, <br/> as a line break, whitespace collapsed."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if _local(child.tag) == "br":
            parts.append(_BREAK)
        else:
            parts.append(_ttml_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


_BREAK = "\u2028"  # a <br/>; literal newlines in TTML are only whitespace


def _clean_lines(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split(_BREAK))
    return "\n".join(escape(line, quote=False) for line in lines if line)


def parse_ttml(text: str) -> list[Cue]:
    """Cues of a TTML / IMSC text document (timing on <p>, or inherited from <body>/<div>)."""
    try:
        root = defusedxml.ElementTree.fromstring(text.encode("utf-8"))
    except (DefusedXmlException, SyntaxError) as exc:
        raise SubtitleFormatError(f"the TTML document is not well-formed XML ({exc})") from exc
    if _local(root.tag) != "tt":
        raise SubtitleFormatError("the XML document is not TTML (no <tt> root)")
    rates = _Rates(float(root.get(f"{{{_TTP_NS}}}frameRate", "30")), float(root.get(f"{{{_TTP_NS}}}tickRate", "1")))
    cues: list[Cue] = []

    def walk(node: Element, offset: float) -> None:
        begin = offset + _ttml_seconds(node.get("begin", "0s"), rates) if node.get("begin") else offset
        if _local(node.tag) == "p":
            if node.get("end"):
                end = offset + _ttml_seconds(node.get("end", ""), rates)
            elif node.get("dur"):
                end = begin + _ttml_seconds(node.get("dur", ""), rates)
            else:
                return  # an untimed paragraph has no place on the timeline
            body = _clean_lines(_ttml_text(node))
            if body and end > begin:
                cues.append(Cue(begin, end, body))
            return
        for child in node:
            walk(child, begin)

    for child in root:
        if _local(child.tag) == "body":
            walk(child, 0.0)
    return cues


# ------------------------------------------------------------------ dispatch


def parse_subtitle(parts: Iterable[bytes], *, mime: str = "", codecs: str = "") -> list[Cue]:
    """Cues of a subtitle track given as one file or a list of segments (HLS), sorted,
    each cue once. Raises :class:`SubtitleFormatError` for what cannot be shown."""
    cues: set[Cue] = set()
    for raw in parts:
        if raw.startswith(b"\x00\x00") or raw[4:8] in (b"ftyp", b"styp", b"moof"):
            raise SubtitleFormatError("subtitles packed in MP4 segments are not supported yet")
        text = raw.decode("utf-8-sig", "replace")
        head = text.lstrip()[:512]
        if head.startswith("WEBVTT") or "vtt" in mime:
            cues.update(parse_webvtt(text))
        elif head.startswith("<") or "ttml" in mime or "stpp" in codecs:
            cues.update(parse_ttml(text))
        elif re.match(r"^\d+\s*\n\s*[\d:,]+\s+-->", head):
            cues.update(parse_webvtt(text, require_header=False))  # SRT: same shape, comma decimals
        elif text.strip():
            raise SubtitleFormatError("the subtitles are in a format Marquee cannot read (not WebVTT, TTML or SRT)")
    return sorted(cues, key=lambda c: (c.start_s, c.end_s, c.text))


def _time(seconds: float) -> str:
    ms = max(0, int(round(seconds * 1000)))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def render_webvtt(cues: Iterable[Cue], *, shift_s: float = 0.0) -> str:
    """One WebVTT file of ``cues`` with every time moved by ``shift_s`` (the clock of the
    stream mpv plays). Cues that would start before 0 are dropped."""
    out = ["WEBVTT", ""]
    for cue in cues:
        start, end = cue.start_s + shift_s, cue.end_s + shift_s
        if end <= 0:
            continue
        timing = f"{_time(max(0.0, start))} --> {_time(end)}"
        out += [timing + (f" {cue.settings}" if cue.settings else ""), cue.text.replace("\n\n", "\n"), ""]
    return "\n".join(out)
