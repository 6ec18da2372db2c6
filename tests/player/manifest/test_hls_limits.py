"""HLS media playlists: a segment cap like DASH's, and a bad line located at bounded cost."""

from __future__ import annotations

import pytest
from unittest import mock

from marquee.errors import ManifestError
from player.manifest import hls
from player.manifest._common import MAX_SEGMENTS


def playlist(n: int, bad_at: int | None = None) -> str:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-VERSION:3"]
    for i in range(n):
        if bad_at == i:
            lines.append("#EXT-X-PROGRAM-DATE-TIME:yesterday")
        lines += ["#EXTINF:4.0,", f"seg-{i}.ts"]
    return "\n".join(lines + ["#EXT-X-ENDLIST"])


def test_more_segments_than_the_cap_are_refused() -> None:
    with pytest.raises(ManifestError, match="more than 100000 segments"):
        hls.parse_hls_media(playlist(MAX_SEGMENTS + 1), "http://o/x/media.m3u8")


def test_a_bad_line_is_located_exactly_with_one_extra_parse_at_most() -> None:
    text = playlist(20_000, bad_at=19_990)
    calls = []
    real = hls.m3u8.parse

    def counting(content: str, *a: object, **k: object) -> object:
        calls.append(len(content))
        return real(content, *a, **k)

    with mock.patch.object(hls.m3u8, "parse", counting), pytest.raises(ManifestError) as info:
        hls.parse_hls_media(text, "http://o/x/media.m3u8")
    bad_line = text.splitlines().index("#EXT-X-PROGRAM-DATE-TIME:yesterday") + 1
    assert info.value.message.startswith(f"line {bad_line}:")
    assert sum(calls) <= len(text) * 1.01  # the parser's own position: no bisection needed


def test_the_fallback_bisection_stays_within_its_budget() -> None:
    lines = [f"line {i}" for i in range(10_000)]
    seen = []

    def failing_after_9000(content: str) -> None:
        seen.append(len(content))
        if content.count("\n") >= 9000:
            raise ValueError("bad")

    with mock.patch.object(hls.m3u8, "parse", failing_after_9000):
        lo, hi = hls._bisect(lines, 2 * len("\n".join(lines)))
    assert lo <= 9001 <= hi and sum(seen) <= 2 * len("\n".join(lines))
