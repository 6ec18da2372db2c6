"""HLS parsers (via `m3u8`), I/O-free in three steps.

1. `parse_hls_multivariant(text, url)` -> `HlsMultivariant`, whose
   `media_playlist_urls` says which media playlists are needed;
2. `parse_hls_media(text, url)` -> `HlsMediaPlaylist` (absolute URLs);
3. `build_hls_presentation(multivariant, {media_url: text})` -> `Presentation`
   with URLs rewritten to follow the URL rule (relative to the root
   candidate of the primary pathway wherever that is possible).

Every malformed input raises ManifestError naming the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urljoin

import m3u8

from marquee.errors import ManifestError
from player.manifest import hls_lines
from player.manifest._common import MAX_MANIFEST_BYTES, directory_of, fail, is_absolute, join, relativize
from player.manifest.model import (
    BaseUrl,
    ContentSteering,
    Period,
    Presentation,
    Representation,
    SegmentRef,
    Track,
    TrackKind,
)

DEFAULT_PATHWAY = "."  # the PATHWAY-ID of a variant that names none (RFC 8216bis)
_VIDEO_CODECS = ("avc1", "avc3", "hvc1", "hev1", "vp09", "av01", "dvh1", "dvhe", "mp4v")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HlsVariant:
    url: str  # absolute URL of the media playlist
    ref: str  # its URI as written in the multivariant playlist
    bandwidth: int
    average_bandwidth: int | None
    width: int | None
    height: int | None
    frame_rate: float | None
    codecs: str | None
    audio_group: str | None
    subtitle_group: str | None
    pathway_id: str
    stable_id: str | None
    line: int

    @property
    def audio_only(self) -> bool:
        if self.width is not None or not self.codecs:
            return False
        return not any(c.strip().split(".")[0] in _VIDEO_CODECS for c in self.codecs.split(","))


@dataclass(frozen=True, slots=True)
class HlsRendition:
    type: str  # AUDIO | SUBTITLES | VIDEO | CLOSED-CAPTIONS
    group_id: str
    name: str
    language: str | None
    default: bool
    autoselect: bool
    url: str | None  # absolute, None when the rendition is carried in the variant
    ref: str | None  # its URI as written
    line: int


@dataclass(frozen=True, slots=True)
class HlsMultivariant:
    url: str
    variants: tuple[HlsVariant, ...]  # every pathway
    renditions: tuple[HlsRendition, ...]
    steering: ContentSteering | None
    primary_pathway: str
    base_urls: tuple[BaseUrl, ...]  # one per usable pathway, primary first
    notes: tuple[str, ...] = ()

    def primary_variants(self) -> tuple[HlsVariant, ...]:
        return tuple(v for v in self.variants if v.pathway_id == self.primary_pathway)

    def used_renditions(self) -> tuple[HlsRendition, ...]:
        """AUDIO and SUBTITLES renditions with a URI whose group a primary variant refers to."""
        groups = {("AUDIO", v.audio_group) for v in self.primary_variants()} | {
            ("SUBTITLES", v.subtitle_group) for v in self.primary_variants()
        }
        return tuple(r for r in self.renditions if r.url and (r.type, r.group_id) in groups)

    @property
    def media_playlist_urls(self) -> tuple[str, ...]:
        """The media playlists `build_hls_presentation` needs, deduplicated, in order."""
        urls = [v.url for v in self.primary_variants()] + [r.url for r in self.used_renditions() if r.url]
        return tuple(dict.fromkeys(urls))


@dataclass(frozen=True, slots=True)
class HlsMediaPlaylist:
    url: str
    segments: tuple[SegmentRef, ...]  # absolute URLs
    init: SegmentRef | None
    is_live: bool
    target_duration_s: float | None
    encrypted: bool
    refs: tuple[str, ...] = ()  # segment URIs as written, for the URL rule
    init_ref: str | None = None

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)


def _decode(data: str | bytes, what: str) -> str:
    if isinstance(data, str):
        text = data
    else:
        if len(data) > MAX_MANIFEST_BYTES:
            fail(f"{what}: {len(data)} bytes is larger than the limit of {MAX_MANIFEST_BYTES}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            fail(f"{what}: not UTF-8 text (byte {exc.start})")
    if len(text) > MAX_MANIFEST_BYTES:
        fail(f"{what}: larger than the limit of {MAX_MANIFEST_BYTES} characters")
    if "\x00" in text:
        fail(f"line {text[: text.index(chr(0))].count(chr(10)) + 1}: {what} contains a NUL character")
    return text.lstrip("\ufeff")


def _boundary(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ManifestError:
        raise
    except RecursionError as exc:
        raise ManifestError(f"{what}: nested too deeply") from exc
    except Exception as exc:  # the boundary: no other exception type leaves the parser
        raise ManifestError(f"{what}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _m3u8_parse(text: str, what: str) -> dict[str, Any]:
    """m3u8.parse, with the failing line located by bisection when it raises."""
    try:
        return m3u8.parse(text)
    except Exception as exc:
        lines = text.splitlines()
        lo, hi = 1, len(lines)
        while lo < hi:  # smallest prefix that still fails
            mid = (lo + hi) // 2
            try:
                m3u8.parse("\n".join(lines[:mid]))
                lo = mid + 1
            except Exception:
                hi = mid
        fail(f"line {lo}: {what} line {lines[lo - 1][:60]!r} cannot be read ({type(exc).__name__}: {exc})")


def parse_hls_media(data: str | bytes, url: str) -> HlsMediaPlaylist:
    """Parse a media playlist fetched from `url`."""
    return _boundary("HLS media playlist", lambda: _parse_media(_decode(data, "HLS media playlist"), url))


def _parse_media(text: str, url: str) -> HlsMediaPlaylist:
    if hls_lines.is_multivariant(text):
        fail(f"HLS: {url} is a multivariant playlist, not a media playlist")
    scan = hls_lines.scan_media(text, url)
    parsed = _m3u8_parse(text, "HLS media playlist")
    raw_segments = parsed.get("segments") or []
    if len(raw_segments) != len(scan.segments):
        fail(f"HLS media playlist: found {len(scan.segments)} segments but m3u8 read {len(raw_segments)}")
    number = parsed.get("media_sequence") or 0
    start = 0.0
    segments = []
    encrypted = False
    init_info = None
    for raw, lines in zip(raw_segments, scan.segments):
        key = raw.get("key") or {}
        if key.get("method") and str(key["method"]).upper() != "NONE":
            encrypted = True
        init_info = init_info or raw.get("init_section")
        byte_range = lines.byte_range
        segments.append(
            SegmentRef(
                number=number,
                start_s=start,
                duration_s=float(raw["duration"]),
                url=urljoin(url, raw["uri"]),
                byte_range=byte_range,
                size_bytes=byte_range[1] - byte_range[0] + 1 if byte_range else None,
                discontinuity=bool(raw.get("discontinuity")),
            )
        )
        number += 1
        start += float(raw["duration"])
    init = None
    init_ref = None
    if init_info is not None or scan.map_line is not None:
        info = init_info or (parsed.get("segment_map") or [{}])[0]
        init_ref = str(info["uri"])
        rng = scan.map_range
        init = SegmentRef(
            number=0,
            start_s=0.0,
            duration_s=0.0,
            url=urljoin(url, info["uri"]),
            byte_range=rng,
            size_bytes=rng[1] - rng[0] + 1 if rng else None,
        )
    playlist_type = (parsed.get("playlist_type") or "").upper()
    target = parsed.get("targetduration")
    return HlsMediaPlaylist(
        url=url,
        segments=tuple(segments),
        init=init,
        is_live=not parsed.get("is_endlist") and playlist_type != "VOD",
        target_duration_s=float(target) if target is not None else None,
        encrypted=encrypted,
        refs=tuple(str(raw["uri"]) for raw in raw_segments),
        init_ref=init_ref,
    )


def parse_hls_multivariant(data: str | bytes, url: str) -> HlsMultivariant:
    """Parse a multivariant (master) playlist fetched from `url`."""
    return _boundary(
        "HLS multivariant playlist", lambda: _parse_multivariant(_decode(data, "HLS multivariant playlist"), url)
    )


def _parse_multivariant(text: str, url: str) -> HlsMultivariant:
    if not hls_lines.is_multivariant(text) and any(line.startswith("#EXTINF") for _, line in hls_lines.lines_of(text)):
        fail(f"HLS: {url} is a media playlist, not a multivariant playlist")
    var_lines, media_lines = hls_lines.scan_multivariant(text)
    parsed = _m3u8_parse(text, "HLS multivariant playlist")
    playlists = parsed.get("playlists") or []
    if len(playlists) != len(var_lines):
        fail(f"HLS multivariant playlist: found {len(var_lines)} variants but m3u8 read {len(playlists)}")
    variants = []
    for pl, vl in zip(playlists, var_lines):
        info = pl["stream_info"]
        width = height = None
        if info.get("resolution"):
            w, h = str(info["resolution"]).lower().split("x")
            width, height = int(w), int(h)
        variants.append(
            HlsVariant(
                url=urljoin(url, pl["uri"]),
                ref=pl["uri"],
                bandwidth=int(info["bandwidth"]),
                average_bandwidth=info.get("average_bandwidth"),
                width=width,
                height=height,
                frame_rate=info.get("frame_rate"),
                codecs=info.get("codecs"),
                audio_group=info.get("audio"),
                subtitle_group=info.get("subtitles"),
                pathway_id=info.get("pathway_id") or DEFAULT_PATHWAY,
                stable_id=info.get("stable_variant_id"),
                line=vl.line,
            )
        )
    renditions = []
    raw_media = parsed.get("media") or []
    if len(raw_media) != len(media_lines):
        fail(f"HLS multivariant playlist: found {len(media_lines)} EXT-X-MEDIA but m3u8 read {len(raw_media)}")
    for md, ml in zip(raw_media, media_lines):
        renditions.append(
            HlsRendition(
                type=md["type"],
                group_id=md["group_id"],
                name=md["name"],
                language=md.get("language") or None,
                default=str(md.get("default", "NO")).upper() == "YES",
                autoselect=str(md.get("autoselect", "NO")).upper() == "YES",
                url=urljoin(url, md["uri"]) if md.get("uri") else None,
                ref=md.get("uri") or None,
                line=ml.line,
            )
        )
    pathways = list(dict.fromkeys(v.pathway_id for v in variants))
    steering = None
    cs = parsed.get("content_steering")
    primary = pathways[0]
    if cs:
        default = cs.get("pathway_id")
        if default and default in pathways:
            primary = default
        ordered = [primary] + [p for p in pathways if p != primary]
        steering = ContentSteering(
            server_uri=urljoin(url, cs["server_uri"]),
            default_pathway=default or None,
            pathway_ids=tuple(ordered),
        )
    base_urls, notes = _pathway_roots(url, variants, primary, pathways, steering is not None)
    return HlsMultivariant(
        url=url,
        variants=tuple(variants),
        renditions=tuple(renditions),
        steering=steering,
        primary_pathway=primary,
        base_urls=base_urls,
        notes=notes,
    )


def _common_directory(urls: list[str]) -> str:
    common = directory_of(urls[0])
    for d in map(directory_of, urls[1:]):
        while not d.startswith(common):
            trimmed = common.rstrip("/")
            if "/" not in trimmed.split("://", 1)[-1]:
                return common
            common = trimmed[: trimmed.rfind("/") + 1]
    return common


def _aligned_root(urls: list[str], rels: list[str]) -> str | None:
    """The root R with `urljoin(R, rels[i]) == urls[i]` for all i, if there is one."""
    first_rel = rels[0].split("?", 1)[0]
    first = urls[0].split("?", 1)[0]
    if first_rel.startswith(("/", "..")) or is_absolute(first_rel) or not first.endswith("/" + first_rel):
        return None
    root = first[: len(first) - len(first_rel)]
    return root if all(urljoin(root, r) == u for r, u in zip(rels, urls)) else None


def _pathway_roots(
    url: str, variants: list[HlsVariant], primary: str, pathways: list[str], steered: bool
) -> tuple[tuple[BaseUrl, ...], tuple[str, ...]]:
    """Root candidates: the primary pathway's, then every pathway laid out like it.

    The primary root is the multivariant's directory (its common directory when
    its variants live on another host). Another pathway becomes a candidate when
    one root maps the primary's relative references onto all of its variants.
    """
    manifest_dir = directory_of(url)
    primary_urls = [v.url for v in variants if v.pathway_id == primary]
    rels = [relativize(manifest_dir, u) for u in primary_urls]
    root = manifest_dir
    if any(is_absolute(r) for r in rels):
        root = _common_directory(primary_urls)
        rels = [relativize(root, u) for u in primary_urls]
    roots = [BaseUrl(url=root, service_location=primary if steered else None, priority=1)]
    notes = []
    for p in pathways:
        if p == primary:
            continue
        urls = [v.url for v in variants if v.pathway_id == p]
        other = _aligned_root(urls, rels) if len(urls) == len(rels) else None
        if other is None:
            notes.append(f"pathway {p!r} ignored: its variants do not mirror those of pathway {primary!r}")
        else:
            roots.append(BaseUrl(url=other, service_location=p, priority=len(roots) + 1))
    return tuple(roots), tuple(notes)


def build_hls_presentation(
    multivariant: HlsMultivariant,
    media: Mapping[str, str | bytes],
    final_urls: Mapping[str, str] | None = None,
) -> Presentation:
    """Assemble the Presentation from a multivariant playlist and its media playlists' text.

    `media` maps each of `multivariant.media_playlist_urls` to its text;
    `final_urls` optionally maps one to the URL it was redirected to (segment
    references are then resolved against the redirect target).
    """
    return _boundary("HLS", lambda: _build(multivariant, media, final_urls or {}))


def _build(mv: HlsMultivariant, media: Mapping[str, str | bytes], final_urls: Mapping[str, str]) -> Presentation:
    root = mv.base_urls[0].url
    playlists: dict[str, HlsMediaPlaylist] = {}
    for u in mv.media_playlist_urls:
        if u not in media:
            fail(f"HLS: media playlist {u} was not provided")
        try:
            playlists[u] = parse_hls_media(media[u], final_urls.get(u, u))
        except ManifestError as exc:
            raise ManifestError(f"{u}: {exc.message}") from exc
    refs = _References(root, mv.url, final_urls)
    notes = list(mv.notes)
    variants = mv.primary_variants()
    video = [v for v in variants if not v.audio_only] or list(variants)
    if len(video) != len(variants):
        notes.append(f"{len(variants) - len(video)} audio-only variant(s) left out of the video ladder")
    reps = []
    for i, v in enumerate(video):
        reps.append(
            _representation(
                playlists[v.url],
                refs.parent(v.url, v.ref),
                refs,
                id=v.stable_id or f"v{i}",
                bandwidth=v.bandwidth,
                codecs=v.codecs,
                width=v.width,
                height=v.height,
                frame_rate=v.frame_rate,
                average_bandwidth=v.average_bandwidth,
                audio_group=v.audio_group,
                subtitle_group=v.subtitle_group,
            )
        )
    kind: TrackKind = "audio" if all(v.audio_only for v in video) else "video"
    tracks = [Track(id="main", kind=kind, representations=tuple(reps))]
    tracks += _rendition_tracks(mv, playlists, refs)
    lists = [playlists[u] for u in mv.media_playlist_urls]
    is_live = any(p.is_live for p in lists)
    main_lists = [playlists[v.url] for v in video]
    duration = None if is_live else max((p.duration_s for p in main_lists), default=0.0)
    target = max((p.target_duration_s or 0.0 for p in lists), default=0.0) or None
    return Presentation(
        kind="hls",
        url=mv.url,
        is_live=is_live,
        duration_s=duration,
        periods=(Period(id="0", start_s=0.0, duration_s=duration, tracks=(*tracks,)),),
        base_urls=mv.base_urls,
        steering=mv.steering,
        update_period_s=target if is_live else None,
        notes=tuple(notes),
    )


class _References:
    """Applies the URL rule to HLS references: the chain of URIs below the root."""

    def __init__(self, root: str, manifest_url: str, final_urls: Mapping[str, str]) -> None:
        self.root = root
        self.manifest_dir = directory_of(manifest_url)
        self.final_urls = final_urls

    def parent(self, url: str, ref: str) -> str:
        """The reference of a media playlist below the root, or its absolute URL."""
        if url in self.final_urls:
            return self.final_urls[url]
        if self.root == self.manifest_dir and not is_absolute(ref):
            return ref.strip()
        return url

    def segment(self, parent: str, raw: str) -> str:
        if is_absolute(raw):
            return raw.strip()  # absolute in the manifest: stays absolute
        chain = join(parent, raw)
        return relativize(self.root, chain) if is_absolute(chain) else chain


def _representation(pl: HlsMediaPlaylist, parent: str, refs: _References, **fields: Any) -> Representation:
    raws = pl.refs or tuple(s.url for s in pl.segments)
    segments = tuple(replace(s, url=refs.segment(parent, raw)) for s, raw in zip(pl.segments, raws))
    init = None
    if pl.init is not None:
        init = replace(pl.init, url=refs.segment(parent, pl.init_ref or pl.init.url))
    mime = "video/mp4" if pl.init is not None else "video/mp2t"
    if fields.get("bandwidth") in (None, 0):
        fields["bandwidth"] = _measured_bandwidth(pl)
    return Representation(
        mime=fields.pop("mime", None) or mime,
        init=init,
        segments=segments,
        encrypted=pl.encrypted,
        **fields,
    )


def _measured_bandwidth(pl: HlsMediaPlaylist) -> int:
    """Bits per second from byte ranges when every segment has one, else 0 (unknown)."""
    if not pl.segments or any(s.size_bytes is None for s in pl.segments) or pl.duration_s <= 0:
        return 0
    return int(sum(s.size_bytes or 0 for s in pl.segments) * 8 / pl.duration_s)


def _rendition_tracks(mv: HlsMultivariant, playlists: dict[str, HlsMediaPlaylist], refs: _References) -> list[Track]:
    """One Track per (type, language, name); one Representation per rendition group."""
    grouped: dict[tuple[str, str | None, str], list[HlsRendition]] = {}
    for r in mv.used_renditions():
        grouped.setdefault((r.type, r.language, r.name), []).append(r)
    tracks = []
    for (rtype, language, name), members in grouped.items():
        kind: TrackKind = "audio" if rtype == "AUDIO" else "text"
        reps = []
        for r in members:
            assert r.url is not None and r.ref is not None
            pl = playlists[r.url]
            if kind == "audio":
                mime = "audio/mp4" if pl.init is not None else "audio/aac" if r.url.endswith(".aac") else "video/mp2t"
            else:
                mime = "text/vtt" if pl.init is None else "application/mp4"
            reps.append(_representation(pl, refs.parent(r.url, r.ref), refs, id=r.group_id, bandwidth=0, mime=mime))
        tracks.append(
            Track(
                id=f"{kind}:{language or 'und'}:{name}",
                kind=kind,
                representations=tuple(reps),
                language=language,
                label=name,
                mime=reps[0].mime,
                default=any(r.default for r in members),
            )
        )
    return tracks


def media_only_presentation(playlist: HlsMediaPlaylist) -> Presentation:
    """A Presentation for a media playlist opened directly (no multivariant around it)."""
    root = directory_of(playlist.url)
    rep = _representation(playlist, "", _References(root, playlist.url, {}), id="v0", bandwidth=0)
    duration = None if playlist.is_live else playlist.duration_s
    return Presentation(
        kind="hls",
        url=playlist.url,
        is_live=playlist.is_live,
        duration_s=duration,
        periods=(Period(id="0", start_s=0.0, duration_s=duration, tracks=(Track(id="main", kind="video", representations=(rep,)),)),),
        base_urls=(BaseUrl(url=root),),
        update_period_s=playlist.target_duration_s if playlist.is_live else None,
    )
