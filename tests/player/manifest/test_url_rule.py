"""The URL rule: segment URLs are resolved below the root, never against it.

The fetcher addresses a segment as urljoin(root_candidate.url, segment.url), so
the same reference reaches the same bytes on every candidate, while absolute
references stay put.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from player.manifest import build_hls_presentation, parse_dash, parse_hls_multivariant, parse_manifest
from player.manifest._common import relativize
from tests.player.manifest.helpers import load

MPD = b"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">
  <BaseURL serviceLocation="a">http://oca-a.example/c/tok/m1/</BaseURL>
  <BaseURL serviceLocation="b">http://oca-b.example/edge/m1/</BaseURL>
  <Period><BaseURL>p/</BaseURL>
    <AdaptationSet contentType="video" mimeType="video/mp4"><BaseURL>v/</BaseURL>
      <SegmentTemplate duration="4" initialization="init.mp4" media="$Number$.m4s"/>
      <Representation id="r1" bandwidth="1"><BaseURL>r1/</BaseURL></Representation>
      <Representation id="r2" bandwidth="2"><BaseURL>/top/</BaseURL></Representation>
      <Representation id="r3" bandwidth="3"><BaseURL>https://elsewhere.example/x/</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>"""


def test_dash_levels_below_the_root_are_applied_and_the_root_is_not() -> None:
    p = parse_dash(MPD, "http://origin.example/manifest.mpd")
    roots = [b.url for b in p.base_urls]
    assert roots == ["http://oca-a.example/c/tok/m1/", "http://oca-b.example/edge/m1/"]
    reps = {r.id: r for r in p.representations()}
    assert reps["r1"].segments[0].url == "p/v/r1/1.m4s"
    assert reps["r1"].init is not None and reps["r1"].init.url == "p/v/r1/init.mp4"
    assert [urljoin(root, reps["r1"].segments[0].url) for root in roots] == [
        "http://oca-a.example/c/tok/m1/p/v/r1/1.m4s",
        "http://oca-b.example/edge/m1/p/v/r1/1.m4s",
    ]
    # A path-absolute BaseURL below the root is resolved against each root's host.
    assert reps["r2"].segments[0].url == "/top/1.m4s"
    assert urljoin(roots[1], reps["r2"].segments[0].url) == "http://oca-b.example/top/1.m4s"
    # An absolute BaseURL stays absolute: failover across roots does not apply to it.
    assert reps["r3"].segments[0].url == "https://elsewhere.example/x/1.m4s"
    assert {urljoin(root, reps["r3"].segments[0].url) for root in roots} == {"https://elsewhere.example/x/1.m4s"}


def test_dash_without_mpd_base_url_uses_the_manifest_directory() -> None:
    mpd = MPD.replace(b'<BaseURL serviceLocation="a">http://oca-a.example/c/tok/m1/</BaseURL>', b"").replace(
        b'<BaseURL serviceLocation="b">http://oca-b.example/edge/m1/</BaseURL>', b""
    )
    p = parse_dash(mpd, "http://127.0.0.1:8000/c/tok/m1/manifest.mpd?x=1")
    assert [b.url for b in p.base_urls] == ["http://127.0.0.1:8000/c/tok/m1/"]
    assert urljoin(p.base_urls[0].url, p.representations()[0].segments[0].url) == "http://127.0.0.1:8000/c/tok/m1/p/v/r1/1.m4s"


def test_reference_service_layout_is_fetchable_from_every_oca() -> None:
    """The reference service's OCAs serve the same relative paths under different base URLs."""
    p = load("dash_multiperiod.mpd")
    ocas = ["http://127.0.0.1:9001/c/tok/m1/", "http://127.0.0.1:9002/c/tok/m1/"]
    seg = p.periods[1].video_ladder()[0].segments[0]
    assert [urljoin(o, seg.url) for o in ocas] == [o + "main/video/360p/seg-00001.m4s" for o in ocas]


def test_hls_chain_from_the_multivariant_through_the_media_playlist() -> None:
    master = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nvideo/hi/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n../shared/lo.m3u8\n"
    url = "http://oca-1.example/c/tok/m1/master.m3u8"
    mv = parse_hls_multivariant(master, url)
    assert [b.url for b in mv.base_urls] == ["http://oca-1.example/c/tok/m1/"]
    hi = b'#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\nseg1.m4s\n#EXTINF:4,\n/abs/seg2.m4s\n#EXTINF:4,\nhttp://cdn.example/seg3.m4s\n#EXT-X-ENDLIST\n'
    lo = b"#EXTM3U\n#EXTINF:4,\nlo1.ts\n#EXT-X-ENDLIST\n"
    p = build_hls_presentation(
        mv, {"http://oca-1.example/c/tok/m1/video/hi/index.m3u8": hi, "http://oca-1.example/c/tok/shared/lo.m3u8": lo}
    )
    by_bw = {r.bandwidth: r for r in p.representations()}
    assert by_bw[1].init is not None and by_bw[1].init.url == "video/hi/init.mp4"
    assert [s.url for s in by_bw[1].segments] == ["video/hi/seg1.m4s", "/abs/seg2.m4s", "http://cdn.example/seg3.m4s"]
    assert by_bw[2].segments[0].url == "../shared/lo1.ts"
    other_root = "http://oca-2.example/c/tok/m1/"
    assert urljoin(other_root, by_bw[1].segments[0].url) == "http://oca-2.example/c/tok/m1/video/hi/seg1.m4s"
    assert urljoin(other_root, by_bw[2].segments[0].url) == "http://oca-2.example/c/tok/shared/lo1.ts"
    # On the manifest's own root, every reference lands where the playlists say.
    root = p.base_urls[0].url
    assert urljoin(root, by_bw[1].segments[1].url) == "http://oca-1.example/abs/seg2.m4s"


def test_hls_steering_pathways_address_mirrored_bytes() -> None:
    p = load("hls_steering/master.m3u8")
    seg = p.video_ladder()[-1].segments[1]
    assert [urljoin(b.url, seg.url) for b in p.base_urls] == [
        "https://origin.example.com/vod/t1/video/1080p/seg-2.m4s",
        "https://cdn-b.example.net/mirror/vod/t1/video/1080p/seg-2.m4s",
    ]


def test_hls_redirected_media_playlist_resolves_against_the_redirect_target() -> None:
    mv = parse_hls_multivariant(b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", "http://h.example/m1/master.m3u8")
    p = build_hls_presentation(
        mv,
        {"http://h.example/m1/v.m3u8": b"#EXTM3U\n#EXTINF:4,\ns.ts\n#EXT-X-ENDLIST\n"},
        {"http://h.example/m1/v.m3u8": "http://h.example/m1/moved/v.m3u8"},
    )
    assert urljoin(p.base_urls[0].url, p.representations()[0].segments[0].url) == "http://h.example/m1/moved/s.ts"


def test_hls_media_playlist_opened_directly() -> None:
    p = parse_manifest(b"#EXTM3U\n#EXTINF:4,\nsub/a.ts\n#EXT-X-ENDLIST\n", "http://h.example/m1/v.m3u8", None)
    assert [b.url for b in p.base_urls] == ["http://h.example/m1/"]
    assert p.representations()[0].segments[0].url == "sub/a.ts"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("root", "url", "expected"),
    [
        ("http://h/a/b/", "http://h/a/b/c.ts", "c.ts"),
        ("http://h/a/b/", "http://h/a/x/c.ts?t=1", "../x/c.ts?t=1"),
        ("http://h/a/b/", "http://other/a/b/c.ts", "http://other/a/b/c.ts"),
        ("http://h/a/b/", "https://h/a/b/c.ts", "https://h/a/b/c.ts"),
        ("http://h/", "http://h/d/", "d/"),
    ],
)
def test_relativize_round_trips(root: str, url: str, expected: str) -> None:
    rel = relativize(root, url)
    assert rel == expected
    assert urljoin(root, rel) == url
