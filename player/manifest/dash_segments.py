"""DASH segment addressing: SegmentTemplate ($Number$/$Time$, SegmentTimeline), SegmentList.

Pure functions from the (merged) segment information of one Representation to
`SegmentRef`s. URLs come out relative to the root, following the URL rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from player.manifest._common import MAX_SEGMENTS, fail, join, parse_dash_range
from player.manifest.model import SegmentRef

_IDENTIFIER = re.compile(r"(RepresentationID|Number|Bandwidth|Time|SubNumber)(?:%0?(\d{1,2})d)?")


@dataclass(frozen=True)
class SegmentInfo:
    """Segment information merged over Period, AdaptationSet and Representation levels."""

    kind: str  # "template" | "list" | "base" | "none"
    owner: str  # names the element that holds it, for error messages
    media: str | None = None
    initialization: str | None = None
    init_range: str | None = None
    index_range: str | None = None
    timescale: int = 1
    duration: int | None = None
    start_number: int = 1
    end_number: int | None = None
    presentation_time_offset: int = 0
    timeline: tuple[Any, ...] | None = None  # mpegdash S nodes
    segment_urls: tuple[Any, ...] = ()  # mpegdash SegmentURL nodes


@dataclass(frozen=True)
class Context:
    """What segment expansion needs to know about the Representation and its Period."""

    rep_id: str
    bandwidth: int
    base: str  # BaseURL chain below the root, "" when none
    period_start_s: float
    period_duration_s: float | None
    is_live: bool


def compile_template(template: str, where: str) -> Callable[..., str]:
    """Turn `seg-$RepresentationID$-$Number%05d$.m4s` into a fast formatter.

    The formatter takes keyword values (rep_id, number, bandwidth, time) and
    fails with a ManifestError if the template uses one that is None.
    """
    parts = template.split("$")
    if len(parts) % 2 == 0:
        fail(f"{where}: template {template!r} has an unpaired '$'")
    pieces: list[tuple[str, str | None, int]] = []  # (literal or key, key?, width)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pieces.append((part, None, 0))
        elif part == "":
            pieces.append(("$", None, 0))
        else:
            m = _IDENTIFIER.fullmatch(part)
            if not m:
                fail(f"{where}: template {template!r} uses unknown identifier ${part}$")
            pieces.append(("", m.group(1), int(m.group(2) or 0)))

    keys = {"RepresentationID": "rep_id", "Number": "number", "Bandwidth": "bandwidth", "Time": "time", "SubNumber": "sub"}

    def render(**values: Any) -> str:
        out = []
        for literal, key, width in pieces:
            if key is None:
                out.append(literal)
                continue
            value = values.get(keys[key])
            if value is None:
                fail(f"{where}: template {template!r} uses ${key}$, which has no value here")
            text = str(value)
            out.append(text.zfill(width) if width and key != "RepresentationID" else text)
        return "".join(out)

    return render


def _check_count(n: int, where: str) -> None:
    if n > MAX_SEGMENTS:
        fail(f"{where}: describes {n} segments, more than the limit of {MAX_SEGMENTS}")


def expand_timeline(info: SegmentInfo, ctx: Context) -> list[tuple[int, int, int]]:
    """(number, t, d) for every segment of a SegmentTimeline, `r` and `r=-1` expanded."""
    assert info.timeline is not None
    where = f"SegmentTimeline in {info.owner}"
    ts = info.timescale
    period_end = (
        info.presentation_time_offset + round(ctx.period_duration_s * ts) if ctx.period_duration_s is not None else None
    )
    out: list[tuple[int, int, int]] = []
    number = info.start_number
    t_next: int | None = None
    ss: Sequence[Any] = info.timeline
    if not ss and not ctx.is_live:
        fail(f"{where} has no S element")
    for i, s in enumerate(ss):
        if s.d is None or s.d <= 0:
            fail(f"{where}: S element {i + 1} needs a positive d attribute")
        if s.t is not None and s.t < 0:
            fail(f"{where}: S element {i + 1} has a negative t")
        t = s.t if s.t is not None else (t_next if t_next is not None else 0)
        if out and t <= out[-1][1]:
            fail(f"{where}: S element {i + 1} starts at t={t}, not after the previous segment's start")
        r = s.r if s.r is not None else 0
        if r < -1:
            fail(f"{where}: S element {i + 1} has r={r} (must be -1 or more)")
        if r == -1:
            following = ss[i + 1].t if i + 1 < len(ss) else None
            end = following if following is not None else period_end
            if end is None:
                if not ctx.is_live:
                    fail(f"{where}: S element {i + 1} has r=-1 but neither a following S@t nor a period end")
                r = 0  # live: the window end depends on the wall clock; engine support is VOD-only
            else:
                r = max(0, math.ceil((end - t) / s.d) - 1)
        _check_count(len(out) + r + 1, where)
        for _ in range(r + 1):
            out.append((number, t, s.d))
            number += 1
            t += s.d
        t_next = t
    return out


def template_segments(info: SegmentInfo, ctx: Context) -> tuple[SegmentRef | None, tuple[SegmentRef, ...]]:
    """Init and media segments of a SegmentTemplate."""
    where = f"SegmentTemplate in {info.owner}"
    if not info.media:
        fail(f"{where} has no media attribute")
    media = compile_template(info.media, where)
    init: SegmentRef | None = None
    if info.initialization:
        render_init = compile_template(info.initialization, where)
        url = join(ctx.base, render_init(rep_id=ctx.rep_id, bandwidth=ctx.bandwidth))
        init = SegmentRef(number=0, start_s=ctx.period_start_s, duration_s=0.0, url=url)
    ts = info.timescale
    segments: list[SegmentRef] = []
    if info.timeline is not None:
        for number, t, d in expand_timeline(info, ctx):
            url = join(ctx.base, media(rep_id=ctx.rep_id, bandwidth=ctx.bandwidth, number=number, time=t))
            start = ctx.period_start_s + (t - info.presentation_time_offset) / ts
            segments.append(SegmentRef(number=number, start_s=start, duration_s=d / ts, url=url))
    elif info.duration is not None:
        if info.duration <= 0:
            fail(f"{where}: duration must be positive")
        seg_s = info.duration / ts
        if info.end_number is not None:
            count = info.end_number - info.start_number + 1
        elif ctx.period_duration_s is not None:
            count = math.ceil(ctx.period_duration_s / seg_s - 1e-9)
        else:
            count = 0  # live without a known period end: the count depends on the wall clock
        _check_count(count, where)
        end = ctx.period_start_s + ctx.period_duration_s if ctx.period_duration_s is not None else None
        for k in range(max(count, 0)):
            number = info.start_number + k
            start = ctx.period_start_s + k * seg_s
            dur = seg_s if end is None else max(0.0, min(seg_s, end - start))
            url = join(
                ctx.base,
                media(rep_id=ctx.rep_id, bandwidth=ctx.bandwidth, number=number, time=info.presentation_time_offset + k * info.duration),
            )
            segments.append(SegmentRef(number=number, start_s=start, duration_s=dur, url=url))
    else:
        fail(f"{where} has neither a duration attribute nor a SegmentTimeline")
    return init, tuple(segments)


def list_segments(info: SegmentInfo, ctx: Context) -> tuple[SegmentRef | None, tuple[SegmentRef, ...]]:
    """Init and media segments of a SegmentList."""
    where = f"SegmentList in {info.owner}"
    init = _init_ref(info, ctx, where)
    urls = info.segment_urls
    if not urls:
        fail(f"{where} has no SegmentURL")
    _check_count(len(urls), where)
    ts = info.timescale
    times: list[tuple[float, float]]
    if info.timeline is not None:
        times = [
            (ctx.period_start_s + (t - info.presentation_time_offset) / ts, d / ts) for _, t, d in expand_timeline(info, ctx)
        ]
        if len(times) < len(urls):
            fail(f"{where}: SegmentTimeline lists {len(times)} segments but there are {len(urls)} SegmentURLs")
    elif info.duration is not None and info.duration > 0:
        seg_s = info.duration / ts
        end = ctx.period_start_s + ctx.period_duration_s if ctx.period_duration_s is not None else None
        times = [
            (ctx.period_start_s + k * seg_s, seg_s if end is None else max(0.0, min(seg_s, end - ctx.period_start_s - k * seg_s)))
            for k in range(len(urls))
        ]
    elif len(urls) == 1:
        times = [(ctx.period_start_s, ctx.period_duration_s or 0.0)]
    else:
        fail(f"{where} has several SegmentURLs but no duration attribute or SegmentTimeline")
    segments = []
    for k, su in enumerate(urls):
        url = join(ctx.base, su.media) if su.media else ctx.base
        byte_range = parse_dash_range(su.media_range, f"SegmentURL {k + 1} of {where}") if su.media_range else None
        start, dur = times[k]
        segments.append(
            SegmentRef(
                number=info.start_number + k,
                start_s=start,
                duration_s=dur,
                url=url,
                byte_range=byte_range,
                size_bytes=byte_range[1] - byte_range[0] + 1 if byte_range else None,
            )
        )
    return init, tuple(segments)


def _init_ref(info: SegmentInfo, ctx: Context, where: str) -> SegmentRef | None:
    if info.initialization is None and info.init_range is None:
        return None
    url = join(ctx.base, info.initialization) if info.initialization else ctx.base
    byte_range = parse_dash_range(info.init_range, f"Initialization in {where}") if info.init_range else None
    return SegmentRef(
        number=0,
        start_s=ctx.period_start_s,
        duration_s=0.0,
        url=url,
        byte_range=byte_range,
        size_bytes=byte_range[1] - byte_range[0] + 1 if byte_range else None,
    )


def base_init(info: SegmentInfo, ctx: Context) -> SegmentRef | None:
    """The Initialization of a SegmentBase (usually a byte range of the one media file)."""
    return _init_ref(info, ctx, f"SegmentBase in {info.owner}")
