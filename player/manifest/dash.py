"""DASH MPD parser: bytes in, `Presentation` out.

The XML is parsed once with defusedxml (no DTD, no entities, no external
references), checked for malformed numbers (so errors can name the element),
then handed to `mpegdash` for the typed view. What mpegdash does not expose
(string AdaptationSet ids, dvb:priority/weight, ContentSteering, Label) is read
from the same DOM, walked in parallel with mpegdash's nodes.
"""

from __future__ import annotations

from typing import Any
from xml.dom.minidom import Element
from xml.parsers.expat import ExpatError

import defusedxml
import defusedxml.minidom
from mpegdash.nodes import MPEGDASH

from marquee.errors import ManifestError
from player.manifest import dash_segments as segs
from player.manifest._common import (
    MAX_MANIFEST_BYTES,
    directory_of,
    fail,
    join,
    parse_dash_range,
    parse_frame_rate,
    parse_iso_duration,
)
from player.manifest.protection import dash_system
from player.manifest.model import BaseUrl, ContentSteering, Period, Presentation, Representation, SegmentRef, Track, TrackKind

# Attributes mpegdash converts with int()/float(); checked first so a bad value
# is reported with its element instead of a bare ValueError.
_RB_INT = ("width", "height", "startWithSAP")
_SEG_INT = ("timescale", "presentationTimeOffset")
_MSEG_INT = _SEG_INT + ("duration", "startNumber", "endNumber")
_INT_ATTRS: dict[str, tuple[str, ...]] = {
    "S": ("t", "d", "r"),
    "SegmentBase": _SEG_INT,
    "SegmentTemplate": _MSEG_INT,
    "SegmentList": _MSEG_INT,
    "Event": ("presentationTime", "duration"),
    "EventStream": ("timescale",),
    "Representation": _RB_INT + ("bandwidth", "qualityRanking", "numChannels", "sampleRate"),
    "SubRepresentation": _RB_INT + ("level", "bandwidth"),
    "AdaptationSet": _RB_INT
    + ("minBandwidth", "maxBandwidth", "minWidth", "maxWidth", "minHeight", "maxHeight", "selectionPriority", "subsegmentStartsWithSAP"),
}
_FLOAT_ATTRS: dict[str, tuple[str, ...]] = {
    "BaseURL": ("availabilityTimeOffset",),
    "SegmentBase": ("availabilityTimeOffset",),
    "SegmentTemplate": ("availabilityTimeOffset",),
    "SegmentList": ("availabilityTimeOffset",),
    "Representation": ("maximumSAPPeriod", "maxPlayoutRate"),
    "SubRepresentation": ("maximumSAPPeriod", "maxPlayoutRate"),
    "AdaptationSet": ("maximumSAPPeriod", "maxPlayoutRate"),
}
# Attributes mpegdash wants as integers that real MPDs sometimes fill with words.
_LENIENT_INT_IDS = {"AdaptationSet": ("id", "group"), "ContentComponent": ("id",), "Event": ("id",)}
_INT_LIST_ATTRS = {"Subset": ("contains",), "SubRepresentation": ("dependencyLevel",)}


def parse_dash(data: bytes | str, url: str) -> Presentation:
    """Parse an MPD fetched from `url`. Any malformed input raises ManifestError."""
    try:
        return _parse(data, url)
    except ManifestError:
        raise
    except RecursionError as exc:
        raise ManifestError("MPD: nested too deeply") from exc
    except Exception as exc:  # the boundary: no other exception type leaves the parser
        raise ManifestError(f"MPD: cannot be read ({type(exc).__name__}: {exc})") from exc


def _parse(data: bytes | str, url: str) -> Presentation:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_MANIFEST_BYTES:
        fail(f"MPD: {len(raw)} bytes is larger than the limit of {MAX_MANIFEST_BYTES}")
    try:
        doc = defusedxml.minidom.parseString(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        fail(f"MPD: forbidden XML construct ({type(exc).__name__}): DTDs, entities and external references are refused")
    except ExpatError as exc:
        fail(f"line {exc.lineno}: malformed XML ({exc})")
    root = doc.documentElement
    if root is None or (root.localName or root.nodeName) != "MPD":
        name = root.localName if root is not None else None
        fail(f"MPD: the root element is <{name}>, not <MPD>")
    _check_numbers(root)
    mpd = MPEGDASH()
    mpd.parse(root)
    return _Builder(mpd, root, url).build()


def _elements(parent: Element, name: str) -> list[Element]:
    """Child elements named `name`, in the order mpegdash sees them."""
    return [
        n
        for n in parent.childNodes
        if n.nodeType == n.ELEMENT_NODE and (n.localName == name or n.nodeName == name)
    ]


def _attr(el: Element, local: str) -> str | None:
    """An attribute by local name, whatever its namespace prefix (dvb:priority, priority)."""
    if el.hasAttribute(local):
        return el.getAttribute(local)
    for a in el.attributes.values():
        if a.localName == local:
            return str(a.value)
    return None


def _text(el: Element) -> str:
    return "".join(n.data for n in el.childNodes if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE)).strip()


def _check_numbers(root: Element) -> None:
    stack = [root]
    while stack:
        el = stack.pop()
        name = el.localName or el.nodeName
        label = f"{name}" + (f" '{el.getAttribute('id')}'" if el.hasAttribute("id") else "")
        for attr in _INT_ATTRS.get(name, ()):
            if el.hasAttribute(attr):
                value = el.getAttribute(attr)
                try:
                    int(value)
                except ValueError:
                    fail(f"{label}: attribute {attr}={value!r} is not an integer")
        for attr in _FLOAT_ATTRS.get(name, ()):
            if el.hasAttribute(attr):
                value = el.getAttribute(attr)
                try:
                    float(value)
                except ValueError:
                    fail(f"{label}: attribute {attr}={value!r} is not a number")
        for attr in _INT_LIST_ATTRS.get(name, ()):
            if el.hasAttribute(attr):
                el.removeAttribute(attr)  # unused by us, and mpegdash chokes on odd separators
        for attr in _LENIENT_INT_IDS.get(name, ()):
            if el.hasAttribute(attr):
                try:
                    int(el.getAttribute(attr))
                except ValueError:
                    el.setAttribute("data-marquee-" + attr, el.getAttribute(attr))
                    el.removeAttribute(attr)
        stack.extend(n for n in el.childNodes if n.nodeType == n.ELEMENT_NODE)


def _string_id(el: Element) -> str | None:
    for attr in ("id", "data-marquee-id"):
        if el.hasAttribute(attr):
            return el.getAttribute(attr)
    return None


def _first(nodes: list[Any] | None) -> Any:
    return nodes[0] if nodes else None


class _Builder:
    def __init__(self, mpd: Any, root: Element, url: str) -> None:
        self.mpd = mpd
        self.root = root
        self.url = url
        self.is_live = (mpd.type or "static").strip() == "dynamic"
        self.notes: list[str] = []

    def build(self) -> Presentation:
        mpd = self.mpd
        if not mpd.periods:
            fail("MPD: has no Period")
        total = (
            parse_iso_duration(mpd.media_presentation_duration, "MPD@mediaPresentationDuration")
            if mpd.media_presentation_duration
            else None
        )
        timing = self._period_timing(total)
        period_els = _elements(self.root, "Period")
        multi = len(mpd.periods) > 1
        periods = []
        for i, (p, el, (start, dur)) in enumerate(zip(mpd.periods, period_els, timing)):
            pid = p.id if p.id else str(i)
            suffix = f" in Period '{pid}'" if multi else ""
            periods.append(self._period(p, el, pid, start, dur, suffix))
        if total is None and all(p.duration_s is not None for p in periods) and periods:
            last = periods[-1]
            total = (last.start_s + last.duration_s) if last.duration_s is not None else None
        update = (
            parse_iso_duration(mpd.minimum_update_period, "MPD@minimumUpdatePeriod") if mpd.minimum_update_period else None
        )
        return Presentation(
            kind="dash",
            url=self.url,
            is_live=self.is_live,
            duration_s=total,
            periods=tuple(periods),
            base_urls=self._base_urls(),
            steering=self._steering(),
            update_period_s=update,
            notes=tuple(self.notes),
        )

    def _period_timing(self, total: float | None) -> list[tuple[float, float | None]]:
        starts: list[float | None] = []
        durs: list[float | None] = []
        prev_end: float | None = 0.0
        for i, p in enumerate(self.mpd.periods):
            where = f"Period '{p.id or i}'"
            start = parse_iso_duration(p.start, f"{where}@start") if p.start else prev_end
            if start is None:
                fail(f"{where}: has no start and the previous Period has no duration")
            dur = parse_iso_duration(p.duration, f"{where}@duration") if p.duration else None
            starts.append(start)
            durs.append(dur)
            prev_end = start + dur if dur is not None else None
        out: list[tuple[float, float | None]] = []
        for i, (start, dur) in enumerate(zip(starts, durs)):
            assert start is not None
            if dur is None:
                nxt = starts[i + 1] if i + 1 < len(starts) else total
                dur = nxt - start if nxt is not None else None
            if dur is not None and dur < 0:
                fail(f"Period '{self.mpd.periods[i].id or i}': starts after the next one or after the presentation ends")
            out.append((start, dur))
        return out

    def _base_urls(self) -> tuple[BaseUrl, ...]:
        els = _elements(self.root, "BaseURL")
        if not els:
            return (BaseUrl(url=directory_of(self.url)),)
        out = []
        for i, (node, el) in enumerate(zip(self.mpd.base_urls or [], els)):
            where = f"BaseURL {i + 1} of MPD"
            value = _text(el)
            if not value:
                fail(f"{where} is empty")
            out.append(
                BaseUrl(
                    url=join(self.url, value),
                    service_location=node.service_location,
                    priority=self._int_attr(el, "priority", 1, where),
                    weight=self._int_attr(el, "weight", 1, where),
                )
            )
        return tuple(out)

    @staticmethod
    def _int_attr(el: Element, name: str, default: int, where: str) -> int:
        value = _attr(el, name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            fail(f"{where}: {name}={value!r} is not an integer")

    def _steering(self) -> ContentSteering | None:
        els = _elements(self.root, "ContentSteering")
        if not els:
            return None
        el = els[0]
        server = _text(el)
        if not server:
            fail("ContentSteering: has no server URI")
        defaults = (el.getAttribute("defaultServiceLocation") or "").split()
        pathways = list(defaults)
        for b in self.mpd.base_urls or []:
            if b.service_location and b.service_location not in pathways:
                pathways.append(b.service_location)
        return ContentSteering(
            server_uri=join(self.url, server),
            default_pathway=defaults[0] if defaults else None,
            pathway_ids=tuple(pathways),
            query_before_start=el.getAttribute("queryBeforeStart").strip().lower() == "true",
        )

    def _period(self, p: Any, el: Element, pid: str, start: float, dur: float | None, suffix: str) -> Period:
        base = self._base(p, "", f"Period '{pid}'")
        tracks = []
        for i, (a, a_el) in enumerate(zip(p.adaptation_sets or [], _elements(el, "AdaptationSet"))):
            aid = _string_id(a_el) or a.content_type or str(i)
            track = self._track(p, a, a_el, aid, base, start, dur, suffix)
            if track is not None:
                tracks.append(track)
        return Period(id=pid, start_s=start, duration_s=dur, tracks=tuple(tracks))

    @staticmethod
    def _base(node: Any, parent: str, where: str) -> str:
        if not node.base_urls:
            return parent
        value = node.base_urls[0].base_url_value
        if not value or not str(value).strip():
            fail(f"BaseURL of {where} is empty")
        return join(parent, str(value))

    def _track(
        self, p: Any, a: Any, a_el: Element, aid: str, pbase: str, start: float, dur: float | None, suffix: str
    ) -> Track | None:
        where = f"AdaptationSet '{aid}'{suffix}"
        if not a.representations:
            fail(f"{where} has no Representation")
        kind = self._kind(a, where)
        if kind is None:
            self.notes.append(f"{where}: skipped (not video, audio or text)")
            return None
        abase = self._base(a, pbase, where)
        reps = tuple(
            self._representation(p, a, r, abase, where, start, dur) for r in a.representations
        )
        label = a.label
        if not label:
            labels = _elements(a_el, "Label")
            label = _text(labels[0]) if labels else None
        roles = [(r.value or "").strip().lower() for r in a.roles or []]
        return Track(
            id=aid,
            kind=kind,
            representations=reps,
            language=a.lang,
            label=label or None,
            codecs=a.codecs,
            mime=a.mime_type,
            default="main" in roles,
        )

    @staticmethod
    def _kind(a: Any, where: str) -> TrackKind | None:
        ct = (a.content_type or "").strip().lower()
        if ct in ("video", "audio", "text"):
            return ct  # type: ignore[return-value]
        if ct:
            return None
        rep0 = a.representations[0]
        mime = (a.mime_type or rep0.mime_type or "").strip().lower()
        codecs = (a.codecs or rep0.codecs or "").strip().lower()
        first_codec = codecs.split(",")[0].split(".")[0]
        roles = {(r.value or "").strip().lower() for r in a.roles or []}
        if mime.startswith("video/"):
            return "video"
        if mime.startswith("audio/"):
            return "audio"
        if mime.startswith("text/") or mime in ("application/ttml+xml", "application/x-subrip"):
            return "text"
        if mime.startswith("image/"):
            return None
        if first_codec in ("stpp", "wvtt", "tx3g") or roles & {"subtitle", "caption", "forced-subtitle"}:
            return "text"
        if first_codec in ("avc1", "avc3", "hvc1", "hev1", "vp09", "vp8", "vp9", "av01", "dvh1", "dvhe"):
            return "video"
        if first_codec in ("mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "dtsc"):
            return "audio"
        fail(f"{where}: cannot tell whether it is video, audio or text (no contentType, mimeType or known codecs)")

    def _representation(
        self, p: Any, a: Any, r: Any, abase: str, a_where: str, start: float, dur: float | None
    ) -> Representation:
        rid = (r.id or "").strip()
        if not rid:
            fail(f"Representation in {a_where} has no id")
        where = f"Representation '{rid}' of {a_where}"
        if r.bandwidth is None:
            fail(f"{where} has no bandwidth attribute")
        if r.bandwidth < 0:
            fail(f"{where}: bandwidth is negative")
        base = self._base(r, abase, where)
        ctx = segs.Context(
            rep_id=rid, bandwidth=r.bandwidth, base=base, period_start_s=start, period_duration_s=dur, is_live=self.is_live
        )
        info = self._segment_info(p, a, r, a_where, where)
        init: SegmentRef | None = None
        segments: tuple[SegmentRef, ...] = ()
        media_url: str | None = None
        index_range: tuple[int, int] | None = None
        time_offset = start
        if info.kind == "template":
            init, segments = segs.template_segments(info, ctx)
        elif info.kind == "list":
            init, segments = segs.list_segments(info, ctx)
        else:
            if not base and not self.mpd.base_urls:
                fail(f"{where} has no segment information and no BaseURL")
            media_url = base
            if info.kind == "base":
                init = segs.base_init(info, ctx)
                if info.index_range:
                    index_range = parse_dash_range(info.index_range, f"SegmentBase in {info.owner}: indexRange")
                time_offset = start - info.presentation_time_offset / info.timescale
            if index_range is None:  # one segment: the whole file (sidecar subtitles, plain MP4)
                segments = (SegmentRef(number=1, start_s=start, duration_s=dur or 0.0, url=base),)
        width = r.width if r.width is not None else a.width
        height = r.height if r.height is not None else a.height
        if (width is not None and width < 0) or (height is not None and height < 0):
            fail(f"{where}: negative width or height")
        return Representation(
            id=rid,
            bandwidth=r.bandwidth,
            codecs=r.codecs or a.codecs,
            mime=r.mime_type or a.mime_type,
            width=width,
            height=height,
            frame_rate=parse_frame_rate(r.frame_rate or a.frame_rate, where),
            init=init,
            segments=segments,
            media_url=media_url,
            index_range=index_range,
            encrypted=bool(r.content_protections or a.content_protections),
            sidx_time_offset_s=time_offset,
            protection=tuple(dict.fromkeys(
                dash_system(str(cp.scheme_id_uri or "")) for cp in (r.content_protections or a.content_protections or []))),
        )

    @staticmethod
    def _segment_info(p: Any, a: Any, r: Any, a_where: str, r_where: str) -> segs.SegmentInfo:
        levels = [(p, "Period"), (a, a_where), (r, r_where)]
        for attr, kind in (("segment_templates", "template"), ("segment_lists", "list"), ("segment_bases", "base")):
            found = [(_first(getattr(node, attr)), name) for node, name in levels]
            found = [(n, name) for n, name in found if n is not None]
            if not found:
                continue
            owner = found[-1][1]
            merged: dict[str, Any] = {}
            for node, _ in found:  # lower levels override higher ones
                for key, value in _segment_attrs(node).items():
                    if value is not None:
                        merged[key] = value
            timescale = merged.get("timescale", 1)
            if timescale <= 0:
                fail(f"{found[-1][1]}: timescale must be positive")
            return segs.SegmentInfo(kind=kind, owner=owner, **merged)
        return segs.SegmentInfo(kind="none", owner=r_where)


def _segment_attrs(node: Any) -> dict[str, Any]:
    init_el = _first(getattr(node, "initializations", None))
    out: dict[str, Any] = {
        "timescale": node.timescale,
        "presentation_time_offset": node.presentation_time_offset,
        "index_range": node.index_range,
        "init_range": init_el.range if init_el is not None else None,
        "initialization": getattr(node, "initialization", None) or (init_el.source_url if init_el is not None else None),
    }
    if hasattr(node, "start_number"):
        timeline = _first(node.segment_timelines)
        out.update(
            duration=node.duration,
            start_number=node.start_number,
            end_number=node.end_number,
            timeline=tuple(timeline.Ss or ()) if timeline is not None else None,
        )
    if hasattr(node, "media"):
        out["media"] = node.media
    if hasattr(node, "segment_urls"):
        out["segment_urls"] = tuple(node.segment_urls or ())
    return out
