"""The feed to mpv must hold the whole buffer target, or it caps the buffer instead."""

from player.session import SessionSettings, feed_capacity


def test_the_feed_holds_max_buffer_s_of_the_top_rung():
    settings = SessionSettings(max_buffer_s=30.0)
    cap = feed_capacity(settings, 5_000_000)
    assert cap >= 30 * 5_000_000 / 8  # 30 s of 5 Mbit/s, not the 4 MiB floor (~6 s)
    assert cap > settings.feed_capacity_bytes


def test_a_small_ladder_keeps_the_floor():
    settings = SessionSettings(max_buffer_s=10.0)
    assert feed_capacity(settings, 300_000) == settings.feed_capacity_bytes
