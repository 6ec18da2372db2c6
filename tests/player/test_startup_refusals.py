"""``player.startup.check_playable``: what the engine cannot play yet is refused in plain words,
never played wrong and reported ok (a two-period stream once played its first period only, "ok")."""

from __future__ import annotations

from pathlib import Path

import pytest

from marquee.errors import ManifestError
from player.manifest import parse_manifest
from player.startup import check_playable

CORPUS = Path(__file__).parent / "manifest" / "corpus"


def _parse(name: str, url: str):  # type: ignore[no-untyped-def]
    return parse_manifest((CORPUS / name).read_bytes(), url)


def test_several_periods_are_refused_with_a_plain_message() -> None:
    presentation = _parse("dash_multiperiod.mpd", "http://cdn.example/v/manifest.mpd")
    with pytest.raises(ManifestError) as err:
        check_playable(presentation)
    assert "periods" in err.value.user_message and "2 parts" in err.value.user_message


def test_a_live_stream_is_refused_with_a_plain_message() -> None:
    presentation = _parse("dash_live.mpd", "http://cdn.example/live/manifest.mpd")
    with pytest.raises(ManifestError, match="live"):
        check_playable(presentation)


def test_a_single_period_on_demand_stream_passes() -> None:
    check_playable(_parse("dash_timeline.mpd", "http://cdn.example/v/manifest.mpd"))
