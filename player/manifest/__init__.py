"""The manifest model and its DASH/HLS parsers: bytes in, immutable `Presentation` out.

Pure: nothing here does I/O except `player.manifest.loader`, which fetches.

URL rule (the contract with the fetcher)
-----------------------------------------
A segment's `url` (and an init segment's) is the manifest's reference resolved
against every BaseURL level *below the root*, but not against the root:

* DASH: Period, AdaptationSet and Representation BaseURLs are applied; the
  MPD-level BaseURL elements are the root candidates, `Presentation.base_urls`
  (each one an OCA, with serviceLocation, dvb:priority and dvb:weight). Without
  MPD-level BaseURLs the single candidate is the manifest URL's directory.
* HLS: the path from the multivariant playlist through the media playlist, as a
  reference relative to the root candidate (the multivariant's directory, or
  with content steering one root per pathway whose variants mirror each other).

The fetcher addresses a segment as `urljoin(root_candidate.url, segment.url)`,
so the same relative reference can be fetched from any candidate. A reference
that is absolute in the manifest (`http://...`) stays absolute: failover across
roots does not apply to it.

Other conventions: times in seconds on the presentation timeline (a segment's
`start_s` includes its period's start), byte ranges (first, last) inclusive,
bandwidth in bits per second. Any malformed input raises
`marquee.errors.ManifestError` whose message names the element or line.
"""

from __future__ import annotations

from player.manifest.dash import parse_dash
from player.manifest.detect import parse_manifest, sniff_kind
from player.manifest.hls import HlsMediaPlaylist, HlsMultivariant, parse_hls_media, parse_hls_multivariant
from player.manifest.hls_build import build_hls_presentation
from player.manifest.model import (
    BaseUrl,
    ContentSteering,
    Period,
    Presentation,
    Representation,
    SegmentRef,
    Track,
    segment_index_at,
)
from player.manifest.sidx import parse_sidx, with_sidx_segments

__all__ = [
    "BaseUrl",
    "ContentSteering",
    "HlsMediaPlaylist",
    "HlsMultivariant",
    "Period",
    "Presentation",
    "Representation",
    "SegmentRef",
    "Track",
    "build_hls_presentation",
    "parse_dash",
    "parse_hls_media",
    "parse_hls_multivariant",
    "parse_manifest",
    "parse_sidx",
    "segment_index_at",
    "sniff_kind",
    "with_sidx_segments",
]
