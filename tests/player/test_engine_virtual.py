"""The engine's scenarios in virtual time: the real session, model, pipeline, fetcher and
remuxer against fake OCAs (httpx MockTransport) and the fake mpv, on one FakeClock.

Each scenario plays the whole 8 s title (two rungs, 144p and 720p, plus AAC) with the
fault injected at an exact virtual moment; a few real-socket, real-mpv versions stay in
``test_engine_integration.py`` (marked slow).
"""

from __future__ import annotations

import pytest

from player.session import SessionSettings
from tests.player.conftest import DashContent
from tests.player.virtual_run import VirtualRun

DURATION_S = 8.0


def test_plays_to_the_end_with_startup_and_no_decoder_error(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root)
    summary = run.play()
    assert summary.ok, summary.errors
    assert summary.startup_ms is not None and summary.startup_ms < 100  # virtual: fetch latencies only
    assert summary.played_s == pytest.approx(DURATION_S, abs=0.3)
    assert summary.stall_count == 0
    assert [e.index for e in run.of("segment")] == [0, 1, 2, 3]
    assert run.mpv_errors == []
    assert run.of("ended") and run.snap.state.value == "ended"


@pytest.mark.parametrize(("fault", "reason"), [
    ({"down": True}, "connection failed"),
    ({"reset_after": 3000}, "connection broken"),
    ({"truncate_after": 3000}, "truncated body"),
    ({"status": 503}, "http 503"),
])
def test_the_serving_oca_failing_mid_stream_fails_over_without_a_stall(dash_content: DashContent, fault: dict,
                                                                       reason: str) -> None:
    run = VirtualRun(dash_content.root)
    victims: list[str] = []

    async def script(r: VirtualRun) -> None:
        await r.until_position(1.0)
        victims.append(r.serving_oca())
        r.ocas.fault(victims[0], **fault)

    summary = run.play(script)
    assert summary.ok, summary.errors
    failovers = run.of("failover")
    assert failovers and failovers[0].from_oca == victims[0] and failovers[0].reason.startswith(reason)
    assert failovers[0].cost_ms < 100
    assert summary.stall_count == 0 and summary.played_s == pytest.approx(DURATION_S, abs=0.3)


def test_a_silent_stall_is_abandoned_on_the_clock(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root)
    victims: list[str] = []

    async def script(r: VirtualRun) -> None:
        await r.until_position(1.0)
        victims.append(r.serving_oca())
        r.ocas.fault(victims[0], stall_after=2000)

    summary = run.play(script)
    assert summary.ok, summary.errors
    stalls = [e for e in run.of("failover") if e.reason.startswith("stalled")]
    assert stalls and stalls[0].from_oca == victims[0]
    assert stalls[0].cost_ms == pytest.approx(500, abs=50)  # the stall timeout, on the virtual clock
    assert summary.stall_count == 0


def test_a_corrupt_segment_is_fetched_again_elsewhere(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root)

    async def script(r: VirtualRun) -> None:
        await r.until_position(0.5)
        r.ocas.fault(r.serving_oca(), corrupt=True)

    summary = run.play(script)
    assert summary.ok, summary.errors
    corrupt = [e for e in run.of("error") if e.code == "corrupt_segment"]
    assert corrupt and all(e.recoverable for e in corrupt)
    assert run.mpv_errors == []


def test_an_expired_token_is_refreshed_and_playback_goes_on(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root)

    async def script(r: VirtualRun) -> None:
        await r.until_position(1.0)
        r.ocas.expire_tokens()

    summary = run.play(script)
    assert summary.ok, summary.errors
    assert summary.played_s == pytest.approx(DURATION_S, abs=0.3) and summary.stall_count == 0
    assert run.ocas.token == "t1"  # asked for fresh URLs once


def test_all_ocas_down_says_so_and_recovers_when_one_returns(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root, settings=SessionSettings(max_buffer_s=2.0))
    messages: list[str] = []

    async def script(r: VirtualRun) -> None:
        await r.until_position(0.5)
        for name in r.ocas.names:
            r.ocas.fault(name, down=True)
        await r.until(lambda: any(e.code == "all_ocas_down" for e in r.of("error")))
        messages.append(r.snap.message)
        await r.clock.sleep(5.0)
        r.ocas.clear("oca-2")  # one comes back

    summary = run.play(script)
    assert summary.ok, summary.errors
    assert messages and messages[0].startswith("No server is answering")
    assert summary.played_s == pytest.approx(DURATION_S, abs=0.3)
    assert run.snap.message == ""
    assert summary.stall_count >= 1  # the outage outlasted the buffer: playback waited, then went on


def test_a_switch_up_and_down_the_ladder_shows_at_segment_boundaries(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root, settings=SessionSettings(max_buffer_s=2.0))

    async def script(r: VirtualRun) -> None:
        assert r.session is not None
        r.session.set_quality(0)
        await r.until_position(0.5)
        r.session.set_quality(1)  # segment 2 (from 4 s) is fetched at the top
        await r.until_position(2.5)
        r.session.set_quality(0)  # segment 3 (from 6 s) at the bottom again

    summary = run.play(script)
    assert summary.ok, summary.errors
    switches = run.of("switch")
    assert [(e.from_rung, e.to_rung) for e in switches] == [(0, 1), (1, 0)]
    assert all(e.at_s % 2.0 == 0 for e in switches)
    heights = [size[1] for _, size in run.sizes]
    assert heights[0] == 144 and 720 in heights and heights[-1] == 144
    # The screen shows a rung a buffer after it was fetched: both are in the snapshots.
    assert any(s.rung == 1 and s.shown_rung == 0 for s in run.snapshots)
    assert run.mpv_errors == []


def test_a_seek_beyond_the_cache_restarts_the_feed_at_the_target(dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root, settings=SessionSettings(max_buffer_s=2.0))

    async def script(r: VirtualRun) -> None:
        assert r.session is not None
        await r.until_position(0.5)
        r.session.seek(5.0)

    summary = run.play(script)
    assert summary.ok, summary.errors
    seeks = run.of("seek")
    assert seeks and seeks[0].to_s == 5.0 and run.of("seek_done")
    assert summary.played_s < 4.5  # the skipped part was not played
    assert [e.index for e in run.of("segment")][-2:] == [2, 3]


def test_a_throttled_link_keeps_the_abr_low_and_a_fast_one_lets_it_climb(dash_content: DashContent) -> None:
    slow = VirtualRun(dash_content.root)
    for name in slow.ocas.names:
        slow.ocas.fault(name, trace=((0.0, 600.0),))  # ~3x the bottom rung, below the top one
    summary = slow.play()
    assert summary.ok, summary.errors
    assert {e.rung for e in slow.of("segment")} == {0}

    fast = VirtualRun(dash_content.root)
    for name in fast.ocas.names:
        fast.ocas.fault(name, trace=((0.0, 50_000.0),))
    assert fast.play().ok
    assert fast.of("segment")[-1].rung == 1


def test_the_model_waits_on_the_clock_not_on_the_wall(dash_content: DashContent) -> None:
    """A stall of an hour on every OCA but one costs nothing: virtual time jumps over it."""
    run = VirtualRun(dash_content.root, ocas=2)
    run.ocas.fault("oca-1", stall_after=0)
    summary = run.play()
    assert summary.ok, summary.errors
    assert run.ocas.served("oca-2", "seg-") >= 1


def test_a_segment_far_larger_than_the_manifest_says_is_refused_and_fetched_elsewhere(
        dash_content: DashContent) -> None:
    run = VirtualRun(dash_content.root)
    run.ocas.fault("oca-1", padding=64 << 20, paths="seg-")  # every media segment 64 MiB too long
    summary = run.play()
    assert summary.ok, summary.errors
    failovers = run.of("failover")
    assert failovers and failovers[0].from_oca == "oca-1" and failovers[0].reason.startswith("too large")
    assert run.ocas.served("oca-2", "seg-") >= 4


def test_a_bug_in_a_task_of_the_playback_ends_it_with_a_message_not_a_hang(
        dash_content: DashContent, monkeypatch: pytest.MonkeyPatch) -> None:
    from player.model import PlaybackModel

    real = PlaybackModel.output

    def broken(self: PlaybackModel, kind: str, value: object, now: float, throughput_kbps: float = 0.0) -> list:
        if kind == "first-frame":
            raise ZeroDivisionError("a bug")
        return real(self, kind, value, now, throughput_kbps)

    monkeypatch.setattr(PlaybackModel, "output", broken)
    run = VirtualRun(dash_content.root)
    summary = run.play(limit_s=60)
    assert not summary.ok and summary.errors == ["Playback failed unexpectedly."]
    errors = run.of("error")
    assert errors[-1].detail.startswith("internal error in reading mpv's events: a bug")
    assert run.snap.state.value == "error"
