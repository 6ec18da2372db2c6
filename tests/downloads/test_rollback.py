"""Issue 18 #3: licenses fail closed. Through the real offline play path (``prepare_playback``,
what ``marquee download play`` calls): deleting the trusted-time mark, putting an older copy
back, NULLing or moving the first-play time in the journal. Offline each is refused (or
counted against the viewer); online the service's time and a renewal let it play again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from downloads.offline import prepare_playback
from drm.errors import LicenseError
from marquee.clock import FakeClock
from tests.downloads.conftest import FILM

HOUR = 3600.0


@pytest.fixture
def stored(svc, make_downloads):
    d = make_downloads(svc, clock=FakeClock(start_wall=svc.runtime.clock.wall()))
    d.add(FILM, quality="low")
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed"
    return d


def mark_path(d) -> Path:
    return d.drm.timemark().path


def offline(d):
    return prepare_playback(d, FILM, online=False)


def refused(d) -> LicenseError:
    with pytest.raises(LicenseError) as err:
        offline(d)
    return err.value


def test_a_deleted_mark_blocks_offline_play_until_the_service_is_reached(stored):
    d = stored
    offline(d)  # plays (and seals the first play)
    mark_path(d).unlink()
    err = refused(d)
    assert err.code == "clock_rollback" and "missing" in err.user_message and "Connect" in err.user_message
    d.clock.advance(60)
    assert prepare_playback(d, FILM, online=True).verdict.allowed  # the service vouches: plays again
    assert offline(d).verdict.allowed  # and a new mark is in place


def test_an_older_copy_of_the_mark_put_back_is_seen(stored):
    d = stored
    old = mark_path(d).read_bytes()  # as saved by `add`
    offline(d)
    d.clock.advance(2 * HOUR)
    offline(d)  # newer marks since
    mark_path(d).write_bytes(old)
    d.clock.set_wall(d.clock.wall() - 1.5 * HOUR)  # ...and the clock turned back, which the old mark allows
    err = refused(d)
    assert err.code == "clock_rollback" and "older copy" in err.user_message


def test_a_tampered_mark_fails_closed(stored):
    d = stored
    offline(d)
    data = bytearray(mark_path(d).read_bytes())
    data[-1] ^= 1
    mark_path(d).write_bytes(bytes(data))
    assert "changed" in refused(d).user_message


def test_the_clock_turned_back_beyond_the_tolerance_is_refused(stored):
    d = stored
    offline(d)
    d.clock.set_wall(d.clock.wall() - HOUR)
    assert refused(d).code == "clock_rollback"


def _sql(d, statement: str) -> None:
    path = d.journal._db.execute("PRAGMA database_list").fetchone()[2]
    db = sqlite3.connect(path, timeout=10)
    db.execute(statement, (FILM,))
    db.commit()
    db.close()


def test_nulling_the_first_play_does_not_restart_the_viewing_window(stored):
    d = stored
    offline(d)
    d.clock.advance(47 * HOUR)
    left = offline(d).verdict.playback_remaining_s
    assert left is not None and left <= 1 * HOUR + 1
    _sql(d, "UPDATE downloads SET first_play_at=NULL, first_play_seal=NULL WHERE id=?")
    left = offline(d).verdict.playback_remaining_s  # the sealed mark still knows the first play
    assert left is not None and left <= 1 * HOUR + 1
    d.clock.advance(2 * HOUR)
    assert refused(d).code == "playback_window_over"


def test_a_moved_first_play_time_counts_as_played_at_issue(stored):
    d = stored
    offline(d)
    mark_path(d).unlink()  # the mark gone too: only the journal's (sealed) value is left
    prepare_playback(d, FILM, online=True)  # the service restores a mark (without first plays)
    _sql(d, "UPDATE downloads SET first_play_at=first_play_at + 86400 WHERE id=?")  # seal no longer checks
    d.clock.advance(47 * HOUR)  # within 48 h of the real first play, but the forgery is caught
    verdict = offline(d).verdict
    assert verdict.playback_remaining_s is not None and verdict.playback_remaining_s <= 1 * HOUR + 1
