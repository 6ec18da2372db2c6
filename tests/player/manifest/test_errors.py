"""Error table: each malformed variant raises ManifestError naming the element or line."""

from __future__ import annotations

import time

import pytest

from marquee.errors import ManifestError
from player.manifest import build_hls_presentation, parse_hls_multivariant, parse_manifest

URL = "https://media.example.com/m1/manifest"


def mpd(adaptation: str, *, mpd_attrs: str = 'mediaPresentationDuration="PT8S"', head: str = "", period: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" '
        f'xmlns:dvb="urn:dvb:dash:dash-extensions:2014-1" type="static" {mpd_attrs}>\n'
        f"{head}<Period {period}>\n{adaptation}\n</Period>\n</MPD>\n"
    ).encode()


def aset(inner: str, rep: str = '<Representation id="v1" bandwidth="1000"/>', attrs: str = 'id="video"') -> str:
    return f'<AdaptationSet {attrs} contentType="video" mimeType="video/mp4">{inner}{rep}</AdaptationSet>'


TEMPLATE = '<SegmentTemplate timescale="1" duration="4" media="$Number$.m4s"/>'
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL>&lol9;</BaseURL><Period/></MPD>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE MPD [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL>&xxe;</BaseURL><Period/></MPD>"""

DASH_ERRORS = [
    ("no media attribute", mpd(aset('<SegmentTemplate timescale="1" duration="4"/>')),
     "SegmentTemplate in AdaptationSet 'video' has no media attribute"),
    ("billion laughs", BILLION_LAUGHS, "forbidden XML construct"),
    ("external entity", XXE, "forbidden XML construct"),
    ("not well-formed", b"<MPD>\n<Period>\n</MPD>", "line 3: malformed XML"),
    ("wrong root", b"<html><body/></html>", "the root element is <html>, not <MPD>"),
    ("no period", b'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/>', "MPD: has no Period"),
    ("bandwidth not a number", mpd(aset(TEMPLATE, '<Representation id="v1" bandwidth="fast"/>')),
     "Representation 'v1': attribute bandwidth='fast' is not an integer"),
    ("no bandwidth", mpd(aset(TEMPLATE, '<Representation id="v1"/>')),
     "Representation 'v1' of AdaptationSet 'video' has no bandwidth attribute"),
    ("no representation id", mpd(aset(TEMPLATE, '<Representation bandwidth="5"/>')),
     "Representation in AdaptationSet 'video' has no id"),
    ("no representation", mpd(aset(TEMPLATE, "")), "AdaptationSet 'video' has no Representation"),
    ("bad duration", mpd(aset(TEMPLATE), mpd_attrs='mediaPresentationDuration="1 hour"'),
     "MPD@mediaPresentationDuration: '1 hour' is not an ISO 8601 duration"),
    ("bad period start", mpd(aset(TEMPLATE), period='start="PT"'), "Period '0'@start: 'PT' is not an ISO 8601 duration"),
    ("S without d", mpd(aset('<SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S t="0"/></SegmentTimeline></SegmentTemplate>')),
     "SegmentTimeline in AdaptationSet 'video': S element 1 needs a positive d attribute"),
    ("S with r=-2", mpd(aset('<SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S d="1" r="-2"/></SegmentTimeline></SegmentTemplate>')),
     "S element 1 has r=-2"),
    ("huge repeat", mpd(aset('<SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S d="1" r="999999999"/></SegmentTimeline></SegmentTemplate>')),
     "more than the limit of 100000"),
    ("huge count", mpd(aset('<SegmentTemplate media="$Number$.m4s" timescale="1000" duration="1"/>'), mpd_attrs='mediaPresentationDuration="P400D"'),
     "more than the limit"),
    ("empty timeline", mpd(aset('<SegmentTemplate media="$Time$.m4s"><SegmentTimeline/></SegmentTemplate>')),
     "SegmentTimeline in AdaptationSet 'video' has no S element"),
    ("unknown identifier", mpd(aset('<SegmentTemplate duration="4" media="$Foo$.m4s"/>')), "unknown identifier $Foo$"),
    ("unpaired dollar", mpd(aset('<SegmentTemplate duration="4" media="$Number.m4s"/>')), "has an unpaired '$'"),
    ("Time in init", mpd(aset('<SegmentTemplate duration="4" initialization="$Time$.mp4" media="$Number$.m4s"/>')),
     "uses $Time$, which has no value here"),
    ("no duration or timeline", mpd(aset('<SegmentTemplate media="$Number$.m4s"/>')),
     "SegmentTemplate in AdaptationSet 'video' has neither a duration attribute nor a SegmentTimeline"),
    ("template at representation level", mpd(aset("", '<Representation id="v9" bandwidth="1"><SegmentTemplate duration="4"/></Representation>')),
     "SegmentTemplate in Representation 'v9' of AdaptationSet 'video' has no media attribute"),
    ("reversed range", mpd(aset('<SegmentList duration="4"><SegmentURL media="a.mp4" mediaRange="10-5"/></SegmentList>')),
     "SegmentURL 1 of SegmentList in AdaptationSet 'video': byte range '10-5' ends before it starts"),
    ("bad range", mpd(aset('<SegmentList duration="4"><SegmentURL media="a.mp4" mediaRange="abc"/></SegmentList>')),
     "byte range 'abc' is not 'first-last'"),
    ("bad index range", mpd(aset('<BaseURL>a.mp4</BaseURL><SegmentBase indexRange="x"/>')), "indexRange: byte range 'x'"),
    ("list without durations", mpd(aset('<SegmentList><SegmentURL media="a"/><SegmentURL media="b"/></SegmentList>')),
     "SegmentList in AdaptationSet 'video' has several SegmentURLs but no duration"),
    ("unknown kind", mpd('<AdaptationSet id="x"><Representation id="r" bandwidth="1"><BaseURL>a</BaseURL></Representation></AdaptationSet>'),
     "AdaptationSet 'x': cannot tell whether it is video, audio or text"),
    ("bad frame rate", mpd(aset(TEMPLATE, '<Representation id="v1" bandwidth="1" frameRate="30/0"/>')),
     "Representation 'v1' of AdaptationSet 'video': frame rate '30/0'"),
    ("zero timescale", mpd(aset('<SegmentTemplate timescale="0" duration="4" media="$Number$.m4s"/>')), "timescale must be positive"),
    ("open r=-1", mpd(aset('<SegmentTemplate media="$Time$"><SegmentTimeline><S d="1" r="-1"/></SegmentTimeline></SegmentTemplate>'), mpd_attrs=""),
     "S element 1 has r=-1 but neither a following S@t nor a period end"),
    ("bad dvb priority", mpd(aset(TEMPLATE), head='<BaseURL dvb:priority="high">http://a/</BaseURL>'),
     "BaseURL 1 of MPD: priority='high' is not an integer"),
    ("empty base url", mpd(aset(TEMPLATE), head="<BaseURL> </BaseURL>"), "BaseURL 1 of MPD is empty"),
    ("steering without uri", mpd(aset(TEMPLATE), head='<ContentSteering defaultServiceLocation="a"/>'),
     "ContentSteering: has no server URI"),
    ("negative t", mpd(aset('<SegmentTemplate media="$Time$"><SegmentTimeline><S t="-5" d="1"/></SegmentTimeline></SegmentTemplate>')),
     "S element 1 has a negative t"),
    ("timeline going back", mpd(aset('<SegmentTemplate media="$Time$"><SegmentTimeline><S t="10" d="5"/><S t="3" d="1"/></SegmentTimeline></SegmentTemplate>')),
     "S element 2 starts at t=3, not after the previous segment's start"),
    ("period overlap", mpd(aset(TEMPLATE), period='start="PT10S"', mpd_attrs='mediaPresentationDuration="PT8S"'),
     "starts after the next one or after the presentation ends"),
]


def hls(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


HLS_ERRORS = [
    ("byterange without offset", hls("#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXTINF:4,", "a.mp4", "#EXTINF:4,",
                                     "#EXT-X-BYTERANGE:100@0", "#EXT-X-BYTERANGE:100", "b.mp4"),
     "line 7: EXT-X-BYTERANGE without an offset and without a preceding sub-range of the same resource"),
    ("first byterange without offset", hls("#EXTM3U", "#EXTINF:4,", "#EXT-X-BYTERANGE:100", "a.mp4"),
     "line 3: EXT-X-BYTERANGE without an offset"),
    ("no header", hls("#EXTINF:4,", "a.ts"), "line 1: playlist does not start with #EXTM3U"),
    ("empty", b"", "neither an MPD nor an M3U8"),
    ("bad extinf", hls("#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXTINF:abc,", "a.ts"), "line 3: EXTINF duration 'abc' is not a number"),
    ("negative extinf", hls("#EXTM3U", "#EXTINF:-4,", "a.ts"), "line 2: EXTINF duration '-4'"),
    ("nan extinf", hls("#EXTM3U", "#EXTINF:nan,", "a.ts"), "line 2: EXTINF duration 'nan'"),
    ("uri without extinf", hls("#EXTM3U", "#EXT-X-TARGETDURATION:4", "a.ts"), "line 3: segment URI 'a.ts' without a preceding EXTINF"),
    ("extinf without uri", hls("#EXTM3U", "#EXTINF:4,", "a.ts", "#EXTINF:4,", "#EXT-X-ENDLIST"), "line 4: EXTINF without a segment URI after it"),
    ("double extinf", hls("#EXTM3U", "#EXTINF:4,", "#EXTINF:4,", "a.ts"), "line 3: EXTINF follows the EXTINF of line 2"),
    ("bad byterange", hls("#EXTM3U", "#EXTINF:4,", "#EXT-X-BYTERANGE:12x", "a.ts"), "line 3: EXT-X-BYTERANGE '12x' is not length[@offset]"),
    ("zero byterange", hls("#EXTM3U", "#EXTINF:4,", "#EXT-X-BYTERANGE:0@5", "a.ts"), "line 3: EXT-X-BYTERANGE has length 0"),
    ("bad target duration", hls("#EXTM3U", "#EXT-X-TARGETDURATION:abc", "#EXTINF:4,", "a.ts"),
     "line 2: EXT-X-TARGETDURATION 'abc' is not a non-negative integer"),
    ("bad media sequence", hls("#EXTM3U", "#EXT-X-MEDIA-SEQUENCE:-1", "#EXTINF:4,", "a.ts"), "line 2: EXT-X-MEDIA-SEQUENCE '-1'"),
    ("map without uri", hls("#EXTM3U", '#EXT-X-MAP:BYTERANGE="10@0"', "#EXTINF:4,", "a.mp4"), "line 2: EXT-X-MAP has no URI"),
    ("unterminated quote", hls("#EXTM3U", '#EXT-X-MAP:URI="init.mp4', "#EXTINF:4,", "a.mp4"),
     "line 2: EXT-X-MAP has a malformed attribute list"),
    ("second map", hls("#EXTM3U", '#EXT-X-MAP:URI="i1.mp4"', "#EXTINF:4,", "a.mp4", '#EXT-X-MAP:URI="i2.mp4"', "#EXTINF:4,", "b.mp4"),
     "line 5: a second, different EXT-X-MAP"),
    ("key without method", hls("#EXTM3U", '#EXT-X-KEY:URI="k"', "#EXTINF:4,", "a.ts"), "line 2: EXT-X-KEY has no METHOD"),
    ("bad date", hls("#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-PROGRAM-DATE-TIME:yesterday", "#EXTINF:4,", "a.ts"),
     "line 3: HLS media playlist line '#EXT-X-PROGRAM-DATE-TIME:yesterday' cannot be read"),
    ("not utf-8", b"#EXTM3U\n#EXTINF:4,\n\xff\xfe.ts\n", "not UTF-8 text"),
    ("nul byte", b"#EXTM3U\n#EXTINF:4,\na\x00.ts\n", "line 3: HLS playlist contains a NUL character"),
    ("stream-inf without bandwidth", hls("#EXTM3U", '#EXT-X-STREAM-INF:RESOLUTION=640x360', "v.m3u8"),
     "line 2: EXT-X-STREAM-INF without BANDWIDTH"),
    ("stream-inf without uri", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1", "#EXT-X-STREAM-INF:BANDWIDTH=2", "v.m3u8"),
     "line 2: EXT-X-STREAM-INF without a URI line after it"),
    ("stream-inf at end", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1"), "line 2: EXT-X-STREAM-INF without a URI line after it"),
    ("bad bandwidth", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=lots", "v.m3u8"), "line 2: BANDWIDTH 'lots' is not a non-negative integer"),
    ("bad resolution", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=720p", "v.m3u8"), "line 2: RESOLUTION '720p' is not WIDTHxHEIGHT"),
    ("bad frame rate", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=fast", "v.m3u8"), "line 2: FRAME-RATE 'fast' is not a number"),
    ("undefined audio group", hls("#EXTM3U", '#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="aac"', "v.m3u8"),
     "line 2: EXT-X-STREAM-INF refers to AUDIO group 'aac', which no EXT-X-MEDIA defines"),
    ("media without name", hls("#EXTM3U", '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a"', "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"),
     "line 2: EXT-X-MEDIA without NAME"),
    ("bad media type", hls("#EXTM3U", '#EXT-X-MEDIA:TYPE=SOUND,GROUP-ID="a",NAME="x"', "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"),
     "line 2: EXT-X-MEDIA TYPE=SOUND"),
    ("subtitles without uri", hls("#EXTM3U", '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="en"', "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"),
     "line 2: EXT-X-MEDIA TYPE=SUBTITLES without URI"),
    ("segments in multivariant", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8", "#EXTINF:4,", "a.ts"),
     "line 4: EXTINF in a multivariant playlist"),
    ("uri without stream-inf", hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8", "w.m3u8"),
     "line 4: URI 'w.m3u8' without a preceding EXT-X-STREAM-INF"),
    ("steering without uri", hls("#EXTM3U", '#EXT-X-CONTENT-STEERING:PATHWAY-ID="A"', "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"),
     "line 2: EXT-X-CONTENT-STEERING without SERVER-URI"),
]


@pytest.mark.parametrize(("case", "data", "fragment"), DASH_ERRORS + HLS_ERRORS, ids=[r[0] for r in DASH_ERRORS + HLS_ERRORS])
def test_malformed_input_names_the_problem(case: str, data: bytes, fragment: str) -> None:
    started = time.monotonic()
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, URL, None)
    assert fragment in info.value.message, info.value.message
    assert type(info.value) is ManifestError
    assert time.monotonic() - started < 2.0  # entity expansion and huge repeats are refused, not computed


def test_missing_media_playlist_is_named() -> None:
    mv = parse_hls_multivariant(hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"), "http://h/x/master.m3u8")
    with pytest.raises(ManifestError, match=r"media playlist http://h/x/v.m3u8 was not provided"):
        build_hls_presentation(mv, {})


def test_error_in_a_media_playlist_names_playlist_and_line() -> None:
    mv = parse_hls_multivariant(hls("#EXTM3U", "#EXT-X-STREAM-INF:BANDWIDTH=1", "v.m3u8"), "http://h/x/master.m3u8")
    with pytest.raises(ManifestError) as info:
        build_hls_presentation(mv, {"http://h/x/v.m3u8": hls("#EXTM3U", "#EXTINF:x,", "a.ts")})
    assert info.value.message.startswith("http://h/x/v.m3u8: line 2: EXTINF duration 'x'")


def test_media_playlist_given_as_multivariant_is_refused() -> None:
    with pytest.raises(ManifestError, match="not a multivariant|no EXT-X-STREAM-INF"):
        parse_hls_multivariant(hls("#EXTM3U", "#EXTINF:4,", "a.ts"), "http://h/x/a.m3u8")


def test_error_carries_category_and_user_message() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(b"<MPD>", URL, "application/dash+xml")
    err = info.value
    assert err.category == "manifest" and err.user_message and err.to_dict()["severity"] == "fatal"
