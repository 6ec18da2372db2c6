"""Encrypted streams are refused at once with the protection system named."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from marquee.clock import SystemClock
from marquee.errors import MediaError
from player.control import PlayRequest
from player.manifest.detect import parse_manifest
from player.manifest.model import Presentation
from player.manifest.protection import dash_system, hls_system, refusal
from player.startup import load

WIDEVINE = "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY = "urn:uuid:9A04F079-9840-4286-AB92-E65BE0885F95"
CLEARKEY = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"


@pytest.mark.parametrize("uri, name", [(WIDEVINE, "Widevine"), (PLAYREADY, "PlayReady"), (CLEARKEY, "ClearKey"),
                                       ("urn:mpeg:dash:mp4protection:2011", "CENC"),
                                       ("urn:uuid:00000000-0000-0000-0000-000000000000", "an unknown DRM system")])
def test_dash_systems(uri: str, name: str) -> None:
    assert dash_system(uri) == name


@pytest.mark.parametrize("method, keyformat, name", [
    ("AES-128", None, "AES-128"), ("SAMPLE-AES", "com.apple.streamingkeydelivery", "FairPlay"),
    ("SAMPLE-AES-CTR", WIDEVINE, "Widevine"), ("SAMPLE-AES", "identity", "SAMPLE-AES"),
])
def test_hls_systems(method: str, keyformat: str | None, name: str) -> None:
    assert hls_system(method, keyformat) == name


def test_refusals_name_the_system() -> None:
    assert "Widevine" in refusal(["CENC", "Widevine", "PlayReady"]) and "PlayReady" in refusal(["PlayReady"])
    assert "DRM system Marquee does not support" in refusal(["FairPlay"])
    assert refusal(["AES-128"]) == "This stream is encrypted (AES-128); Marquee cannot decrypt it yet."
    assert "CENC" in refusal(["CENC"])


MPD = f"""<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT2S"
     profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4" codecs="avc1.64001f">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>
      <ContentProtection schemeIdUri="{WIDEVINE}"/>
      <SegmentTemplate timescale="1000" duration="2000" initialization="init.mp4" media="s$Number$.m4s" startNumber="1"/>
      <Representation id="v" bandwidth="500000" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>"""

M3U8 = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-KEY:METHOD=AES-128,URI="key.bin"
#EXTINF:2,
a.ts
#EXT-X-ENDLIST
"""


@pytest.mark.parametrize("body, url, systems, words", [
    (MPD.encode(), "http://cdn.test/s.mpd", ("CENC", "Widevine"), "protected with Widevine"),
    (M3U8.encode(), "http://cdn.test/s.m3u8", ("AES-128",), "encrypted (AES-128)"),
])
def test_an_encrypted_manifest_is_refused_before_playing(body: bytes, url: str, systems, words: str) -> None:
    parsed = parse_manifest(body, url)
    assert isinstance(parsed, Presentation)
    (rep,) = [r for t in parsed.periods[0].tracks for r in t.representations]
    assert rep.encrypted and rep.protection == systems

    async def run() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
        async with httpx.AsyncClient(transport=transport) as client:
            await load(client, PlayRequest(manifest_url=url), SystemClock(), 0.1)

    with pytest.raises(MediaError) as err:
        asyncio.run(run())
    assert err.value.code == "encrypted" and words in err.value.user_message
