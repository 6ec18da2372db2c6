"""`marquee play`'s status line says what is on screen, and what is fetched when it differs."""

from player.cli import _status_line
from player.events import PlaybackSnapshot, PlaybackState


def test_the_status_line_shows_the_rung_on_screen_and_the_one_being_fetched() -> None:
    snap = PlaybackSnapshot(state=PlaybackState.PLAYING, position_s=11.6, duration_s=16, buffer_s=4.4,
                            rung=2, bitrate_kbps=800.0, shown_rung=0, shown_bitrate_kbps=200.0,
                            resolution=(256, 144), throughput_kbps=1809.0, oca="oca-1")
    line = _status_line(snap)
    assert "144p    200 kbps (fetching 800)" in line and "oca-1" in line
    settled = _status_line(PlaybackSnapshot(rung=2, bitrate_kbps=800.0, shown_rung=2, shown_bitrate_kbps=800.0,
                                            resolution=(640, 360)))
    assert "360p    800 kbps  net" in settled
