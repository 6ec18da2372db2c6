"""HLS parsers (via `m3u8`), I/O-free in three steps (step 3 lives in `hls_build`).

1. `parse_hls_multivariant(text, url)` -> `HlsMultivariant`, whose
   `media_playlist_urls` says which media playlists are needed;
2. `parse_hls_media(text, url)` -> `HlsMediaPlaylist` (absolute URLs);
3. `build_hls_presentation(multivariant, {media_url: text})` -> `Presentation`
   with URLs rewritten to follow the URL rule (relative to the root
   candidate of the primary pathway wherever that is possible).

Every malformed input raises ManifestError naming the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin

import m3u8

from marquee.errors import ManifestError
from player.manifest import hls_lines
from player.manifest.protection import hls_system
from player.manifest._common import MAX_MANIFEST_BYTES, directory_of, fail, is_absolute, relativize
from player.manifest.model import BaseUrl, ContentSteering, SegmentRef

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
    protection: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()  # segment URIs as written, for the URL rule
    init_ref: str | None = None

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)


def decode_text(data: str | bytes, what: str) -> str:
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


def boundary(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ManifestError:
        raise
    except RecursionError as exc:
        raise ManifestError(f"{what}: nested too deeply") from exc
    except Exception as exc:  # the boundary: no other exception type leaves the parser
        raise ManifestError(f"{what}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _m3u8_parse(text: str, what: str) -> dict[str, Any]:
    """m3u8.parse, with the failing line located when it raises: read from the parser's own frame
    (its loop counter), else by bisection within a budget of twice the text, so a bad line in a
    large playlist costs about three parses instead of ~17."""
    try:
        return m3u8.parse(text)
    except Exception as exc:
        lines = text.splitlines()
        line = _failing_line(exc)
        lo, hi = (line, line) if line is not None and 0 < line <= len(lines) else _bisect(lines, 2 * len(text))
        where = f"line {lo}" if lo == hi else f"lines {lo}-{hi}"
        fail(f"{where}: {what} line {lines[lo - 1][:60]!r} cannot be read ({type(exc).__name__}: {exc})")


def _failing_line(exc: BaseException) -> int | None:
    """The line number m3u8's parser was at when it raised (its ``lineno`` loop variable)."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__") == "m3u8.parser" and isinstance(frame.f_locals.get("lineno"), int):
            found = frame.f_locals["lineno"]
        tb = tb.tb_next
    return found


def _bisect(lines: list[str], budget: int) -> tuple[int, int]:
    """The smallest failing prefix, narrowed while the parsed characters stay within ``budget``."""
    lo, hi, spent = 1, len(lines), 0
    while lo < hi:
        mid = (lo + hi) // 2
        prefix = "\n".join(lines[:mid])
        spent += len(prefix)
        if spent > budget:
            break
        try:
            m3u8.parse(prefix)
            lo = mid + 1
        except Exception:
            hi = mid
    return lo, hi


def parse_hls_media(data: str | bytes, url: str) -> HlsMediaPlaylist:
    """Parse a media playlist fetched from `url`."""
    return boundary("HLS media playlist", lambda: _parse_media(decode_text(data, "HLS media playlist"), url))


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
    systems: list[str] = []
    init_info = None
    for raw, lines in zip(raw_segments, scan.segments):
        key = raw.get("key") or {}
        if key.get("method") and str(key["method"]).upper() != "NONE":
            encrypted = True
            systems.append(hls_system(str(key["method"]), key.get("keyformat")))
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
        protection=tuple(dict.fromkeys(systems)),
        refs=tuple(str(raw["uri"]) for raw in raw_segments),
        init_ref=init_ref,
    )


def parse_hls_multivariant(data: str | bytes, url: str) -> HlsMultivariant:
    """Parse a multivariant (master) playlist fetched from `url`."""
    return boundary(
        "HLS multivariant playlist", lambda: _parse_multivariant(decode_text(data, "HLS multivariant playlist"), url)
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
