"""``player.tracks.select_tracks``: what the engine plays from a parsed presentation."""

from __future__ import annotations

from player.manifest import parse_manifest
from player.tracks import select_tracks

MEDIA_ONLY = b"""#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXTINF:4.0,
seg0.ts
#EXTINF:4.0,
seg1.ts
#EXT-X-ENDLIST
"""


def test_a_media_playlist_opened_directly_plays_as_one_rung() -> None:
    """A bare HLS media playlist declares no bit rate; it once failed as "Playback failed
    unexpectedly" (internal: bitrates must be positive)."""
    presentation = parse_manifest(MEDIA_ONLY, "http://cdn.example/live/index.m3u8")
    tracks = select_tracks(presentation, None)  # type: ignore[arg-type]
    assert len(tracks.video) == 1 and tracks.ladder.bitrates_bps[0] > 0
    assert tracks.ladder.segment_count == 2 and tracks.duration_s == 8.0
    assert tracks.video[0].bandwidth == 0  # the fetch cap sees "undeclared" and uses the hard cap
