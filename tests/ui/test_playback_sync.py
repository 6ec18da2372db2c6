"""The app's play request names what plays (profile, title, episode) for position sync."""

from __future__ import annotations

from marquee.settings import defaults
from ui.catalog import PlaybackInfo
from ui.playback import make_request


def test_make_request_carries_the_content_ref() -> None:
    info = PlaybackInfo(playback_id="pb", title_id="t003", media_id="m0", dash_url="http://o/c/x/m0/manifest.mpd",
                        hls_url="", episode_id="t003-s1e02", manifests={"dash": "manifest.mpd"})
    req = make_request(info, "Show", 12.0, defaults(), profile_id="p1")
    assert req.content is not None and (req.content.profile_id, req.content.title_id, req.content.episode_id) == (
        "p1", "t003", "t003-s1e02")
    assert make_request(info, "Show", 0.0, defaults()).content is None
