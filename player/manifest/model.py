"""The immutable manifest model shared by the DASH and HLS parsers.

Everything here is a frozen dataclass holding tuples, so a `Presentation` can be
shared between tasks and threads and compared in tests. Times are seconds on
the presentation timeline (period start included); sizes are bytes; bandwidths
are bits per second. See the package docstring for the URL rule.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import Literal

TrackKind = Literal["video", "audio", "text"]
ManifestKind = Literal["dash", "hls"]


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """One fetchable piece: a media segment or an initialization segment.

    `url` follows the URL rule: relative to the root candidate unless absolute.
    `byte_range` is (first, last), both inclusive, as in an HTTP Range header.
    `discontinuity` is true for the first segment after an HLS
    EXT-X-DISCONTINUITY (timestamps may jump there).
    """

    number: int
    start_s: float
    duration_s: float
    url: str
    byte_range: tuple[int, int] | None = None
    size_bytes: int | None = None
    discontinuity: bool = False

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def range_header(self) -> str | None:
        """The value for an HTTP `Range` header, or None for the whole resource."""
        if self.byte_range is None:
            return None
        return f"bytes={self.byte_range[0]}-{self.byte_range[1]}"


@dataclass(frozen=True, slots=True)
class BaseUrl:
    """One root candidate (an OCA / CDN / steering pathway).

    `service_location` is DASH's BaseURL@serviceLocation or the HLS PATHWAY-ID.
    Lower `priority` is preferred (DVB semantics); `weight` splits load among
    candidates of equal priority.
    """

    url: str
    service_location: str | None = None
    priority: int = 1
    weight: int = 1


@dataclass(frozen=True, slots=True)
class ContentSteering:
    """Content steering: where to ask for pathway priorities, and the known pathways.

    DASH: the ContentSteering element (text = server URI,
    @defaultServiceLocation). HLS: EXT-X-CONTENT-STEERING SERVER-URI/PATHWAY-ID.
    `pathway_ids` lists every pathway the manifest names, default first.
    """

    server_uri: str
    default_pathway: str | None
    pathway_ids: tuple[str, ...]
    query_before_start: bool = False


@dataclass(frozen=True, slots=True)
class Representation:
    """One encoding of a track (DASH Representation / HLS variant or rendition).

    `segments` may be empty while `index_range` is set: a DASH SegmentBase
    representation whose segments are listed in a `sidx` box at
    `index_range` of `media_url`; fetch those bytes and call
    `player.manifest.sidx.with_sidx_segments`. `media_url` is the URL of the
    single media file for SegmentBase / sidecar representations, else None.
    `audio_group` / `subtitle_group` name the HLS rendition groups a variant
    pairs with (the id of the matching audio/text representations).
    `sidx_time_offset_s` is added to sidx times (period start minus
    presentationTimeOffset); `encrypted` flags ContentProtection / EXT-X-KEY.
    """

    id: str
    bandwidth: int
    codecs: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    average_bandwidth: int | None = None
    init: SegmentRef | None = None
    segments: tuple[SegmentRef, ...] = ()
    media_url: str | None = None
    index_range: tuple[int, int] | None = None
    audio_group: str | None = None
    subtitle_group: str | None = None
    encrypted: bool = False
    sidx_time_offset_s: float = 0.0
    protection: tuple[str, ...] = ()  # the systems named (player.manifest.protection): "Widevine", "AES-128"...

    @property
    def needs_index(self) -> bool:
        """True while the segment list still has to come from a sidx box."""
        return not self.segments and self.index_range is not None

    def segment_index_at(self, t_s: float) -> int | None:
        """Index into `segments` of the segment that holds presentation time `t_s`.

        Times before the first segment map to 0; times at or after the end map
        to None. Gaps between segments map to the next segment.
        """
        return segment_index_at(self.segments, t_s)


@dataclass(frozen=True, slots=True)
class Track:
    """An adaptation set (DASH) or rendition group member (HLS): one switchable set."""

    id: str
    kind: TrackKind
    representations: tuple[Representation, ...]
    language: str | None = None
    label: str | None = None
    codecs: str | None = None
    mime: str | None = None
    default: bool = False

    def ladder(self) -> tuple[Representation, ...]:
        """Representations sorted by bandwidth, lowest first (ties by height)."""
        return tuple(sorted(self.representations, key=lambda r: (r.bandwidth, r.height or 0, r.id)))


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    start_s: float
    duration_s: float | None
    tracks: tuple[Track, ...]

    @property
    def end_s(self) -> float | None:
        return None if self.duration_s is None else self.start_s + self.duration_s

    def tracks_of(self, kind: TrackKind) -> tuple[Track, ...]:
        return tuple(t for t in self.tracks if t.kind == kind)

    def video_ladder(self) -> tuple[Representation, ...]:
        """Every video representation of the period, sorted by bandwidth (lowest first)."""
        reps = [r for t in self.tracks_of("video") for r in t.representations]
        return tuple(sorted(reps, key=lambda r: (r.bandwidth, r.height or 0, r.id)))

    def audio_by_language(self) -> dict[str, tuple[Track, ...]]:
        """Audio tracks grouped by language ("und" when the manifest gives none)."""
        out: dict[str, list[Track]] = {}
        for t in self.tracks_of("audio"):
            out.setdefault(t.language or "und", []).append(t)
        return {k: tuple(v) for k, v in out.items()}

    def text_tracks(self) -> tuple[Track, ...]:
        return self.tracks_of("text")


@dataclass(frozen=True, slots=True)
class Presentation:
    """A parsed manifest.

    `base_urls` are the root candidates, in manifest order (rank them by
    `priority`/`weight` or measurements). `steering` is set when the manifest
    names a content-steering server. `update_period_s` is DASH
    @minimumUpdatePeriod or the HLS target duration of a live playlist.
    """

    kind: ManifestKind
    url: str
    is_live: bool
    duration_s: float | None
    periods: tuple[Period, ...]
    base_urls: tuple[BaseUrl, ...]
    steering: ContentSteering | None = None
    update_period_s: float | None = None
    notes: tuple[str, ...] = field(default=())

    def period_at(self, t_s: float) -> Period | None:
        """The period that holds presentation time `t_s` (the last one past the end)."""
        found: Period | None = None
        for p in self.periods:
            if p.start_s <= t_s:
                found = p
        return found if found is not None else (self.periods[0] if self.periods else None)

    def video_ladder(self, period: int = 0) -> tuple[Representation, ...]:
        return self.periods[period].video_ladder() if self.periods else ()

    def audio_by_language(self, period: int = 0) -> dict[str, tuple[Track, ...]]:
        return self.periods[period].audio_by_language() if self.periods else {}

    def text_tracks(self, period: int = 0) -> tuple[Track, ...]:
        return self.periods[period].text_tracks() if self.periods else ()

    def representations(self) -> tuple[Representation, ...]:
        return tuple(r for p in self.periods for t in p.tracks for r in t.representations)

    def replace_representation(self, old: Representation, new: Representation) -> Presentation:
        """A copy with `old` (matched by identity) swapped for `new` (e.g. after a sidx fetch)."""
        periods = []
        for p in self.periods:
            tracks = []
            for t in p.tracks:
                reps = tuple(new if r is old else r for r in t.representations)
                tracks.append(replace(t, representations=reps) if reps != t.representations else t)
            periods.append(replace(p, tracks=tuple(tracks)))
        return replace(self, periods=tuple(periods))


def segment_index_at(segments: tuple[SegmentRef, ...], t_s: float) -> int | None:
    """Index of the segment holding `t_s` in a start-ordered tuple (see Representation)."""
    if not segments:
        return None
    if t_s < segments[0].start_s:
        return 0
    starts = [s.start_s for s in segments]
    i = bisect.bisect_right(starts, t_s) - 1
    if t_s < segments[i].end_s:
        return i
    return i + 1 if i + 1 < len(segments) else None
