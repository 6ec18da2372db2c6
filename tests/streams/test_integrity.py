"""A stream whose pictures are garbage (containers intact, slice data scrambled, as an
encrypted stream played without its key) fails with a message naming the codec, and
the summary counts mpv's decode errors; real engine, real mpv (vo=null)."""

from __future__ import annotations

import pytest

from player.decode_health import DECODE_ERROR_LIMIT
from tests.streams.conftest import url_of
from tests.streams.player_run import play

pytestmark = [pytest.mark.mpv, pytest.mark.slow]


def test_repeated_decode_errors_fail_the_playback(variants, static_server):
    played = play(url_of(static_server, variants["dash-undecodable"]))
    summary = played.summary
    assert not summary.ok
    assert summary.decode_errors >= DECODE_ERROR_LIMIT
    assert summary.to_json()["decode_errors"] == summary.decode_errors
    (message,) = summary.errors
    assert "H.264" in message and "could not be decoded" in message
