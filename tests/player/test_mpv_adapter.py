"""Real libmpv (vo=null, ao=null) and the fake, playing the engine's TS through a ByteFeed.

The conformance test runs one engine-like scenario against both players and checks
that they agree on what the engine observes (the jellyfin-mpv-shim idea).
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from marquee.errors import MediaError
from player.feed import ByteFeed
from player.mpv_adapter import EVENT_KINDS, MpvEvent
from player.mpv_fake import FakeMpvPlayer
from player.remux import SegmentData, SegmentError, TsRemuxer

from .conftest import RUNGS, SEG_S, SEGMENTS, DashContent

SPEED = 4.0  # play faster than real time to keep the suite quick
END_S = SEG_S * SEGMENTS


def make_real(on_event: Callable[[MpvEvent], None], **kw: Any):
    from player.mpv_adapter import MpvPlayer

    return MpvPlayer(on_event, options={"speed": str(kw.pop("speed", SPEED))}, **kw)


def make_fake(on_event: Callable[[MpvEvent], None], **kw: Any):
    return FakeMpvPlayer(on_event, speed=kw.pop("speed", SPEED), **kw)


PLAYERS = [pytest.param(make_real, id="mpv", marks=pytest.mark.mpv), pytest.param(make_fake, id="fake")]


class Recorder:
    def __init__(self) -> None:
        self.events: list[MpvEvent] = []
        self.cond = threading.Condition()

    def __call__(self, ev: MpvEvent) -> None:  # called on the player's thread: only record
        with self.cond:
            self.events.append(ev)
            self.cond.notify_all()

    def wait(self, pred: Callable[[list[MpvEvent]], bool], timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def of(self, kind: str) -> list[Any]:
        return [e.value for e in list(self.events) if e.kind == kind]


def engine_writer(feed: ByteFeed, content: DashContent, rungs: list[int], *, first: int = 1,
                  corrupt: int | None = None, errors: list[Exception] | None = None) -> threading.Thread:
    """What the engine does: remux each fetched segment and ``await feed.write`` it.
    Segment ``corrupt`` first arrives truncated (SegmentError) and is 'refetched'."""

    async def run() -> None:
        rm = TsRemuxer()
        for n in range(first, content.segments + 1):
            v = content.video(rungs[(n - 1) % len(rungs)], n)
            if n == corrupt:
                try:
                    rm.remux(SegmentData(v.media[: len(v.media) // 2], v.init), content.audio(n))
                except SegmentError as exc:
                    if errors is not None:
                        errors.append(exc)
            r = rm.remux(v, content.audio(n))
            if not await feed.write(r.data, media_s=r.duration_s):
                return
        await feed.write(rm.finish())
        feed.close()

    t = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    t.start()
    return t


@dataclass
class Observed:
    sizes: list[tuple[int, int]] = field(default_factory=list)  # distinct, in order
    switch_at: list[float] = field(default_factory=list)  # position when the size changed
    first_position: float | None = None
    last_position: float | None = None
    positions_monotonic: bool = True
    first_frame_before_position: bool = False
    eof: bool = False
    error_logs: list[str] = field(default_factory=list)


def observe(events: list[MpvEvent]) -> Observed:
    o = Observed()
    pos: float | None = None
    pending_switch = False
    seen_first_frame = False
    for e in events:
        assert e.kind in EVENT_KINDS, e.kind
        if e.kind == "first-frame":
            seen_first_frame = True
        elif e.kind == "video-size" and e.value is not None:
            if not o.sizes or o.sizes[-1] != e.value:
                if o.sizes:
                    pending_switch = True
                o.sizes.append(e.value)
        elif e.kind == "position" and e.value is not None:
            if o.first_position is None:
                o.first_position = e.value
                o.first_frame_before_position = seen_first_frame
            if pos is not None and e.value < pos - 1e-6:
                o.positions_monotonic = False
            pos = e.value
            if pending_switch:  # first position showing the new size
                o.switch_at.append(e.value)
                pending_switch = False
        elif e.kind == "eof" and e.value:
            o.eof = True
        elif e.kind == "log" and e.value[0] in ("error", "fatal"):
            o.error_logs.append(f"{e.value[1]}: {e.value[2]}")
    o.last_position = pos
    return o


def play_scenario(factory: Callable[..., Any], content: DashContent) -> tuple[Observed, list[Exception], Any]:
    rec = Recorder()
    player = factory(rec)
    feed = ByteFeed(256 << 10)  # smaller than a 720p segment: backpressure is exercised
    errors: list[Exception] = []
    writer = engine_writer(feed, content, [0, 1], corrupt=2, errors=errors)
    try:
        player.play_feed(feed)
        assert rec.wait(lambda evs: any(e.kind == "eof" and e.value for e in evs), timeout=30), "no EOF"
        writer.join(5)
        return observe(rec.events), errors, player.status()
    finally:
        player.close()


@pytest.fixture(scope="module")
def scenarios(dash_content: DashContent) -> dict[str, Any]:
    return {}


@pytest.mark.parametrize("factory", PLAYERS)
def test_plays_feed_switches_rungs_at_boundaries(factory, dash_content, scenarios) -> None:
    obs, errors, status = play_scenario(factory, dash_content)
    scenarios[factory.__name__] = obs
    assert len(errors) == 1 and isinstance(errors[0], SegmentError)
    assert obs.sizes == [RUNGS[0], RUNGS[1], RUNGS[0], RUNGS[1]]
    assert obs.switch_at == pytest.approx([2.0, 4.0, 6.0], abs=0.1)
    assert obs.first_frame_before_position
    assert obs.first_position is not None and obs.first_position < 0.2
    assert obs.last_position == pytest.approx(END_S, abs=0.15)
    assert obs.positions_monotonic
    assert obs.eof and status.eof and status.first_frame
    assert obs.error_logs == []


def test_fake_and_mpv_agree(dash_content, scenarios) -> None:
    """Conformance: the fake is only useful while it reports what mpv reports."""
    for name, factory in (("make_real", make_real), ("make_fake", make_fake)):
        if name not in scenarios:
            if name == "make_real":
                pytest.importorskip("mpv")
            scenarios[name] = play_scenario(factory, dash_content)[0]
    real, fake = scenarios["make_real"], scenarios["make_fake"]
    assert fake.sizes == real.sizes
    assert fake.switch_at == pytest.approx(real.switch_at, abs=0.1)
    assert fake.last_position == pytest.approx(real.last_position, abs=0.15)  # mpv ends on audio
    assert (fake.eof, fake.positions_monotonic, fake.first_frame_before_position) == (
        real.eof, real.positions_monotonic, real.first_frame_before_position)
    assert fake.error_logs == real.error_logs == []


@pytest.mark.mpv
def test_controls_seek_restart_and_stop(dash_content, tmp_path: Path) -> None:
    rec = Recorder()
    player = make_real(rec, speed=1.0)
    try:
        feed = ByteFeed(256 << 10)
        engine_writer(feed, dash_content, [1])
        player.play_feed(feed)
        assert rec.wait(lambda evs: any(e.kind == "position" and (e.value or 0) > 2.5 for e in evs))
        # within mpv's cache: mpv seeks itself; far ahead: the engine must restart the feed
        assert player.seek(1.0) is True
        assert rec.wait(lambda evs: any(e.kind == "position" and e.value is not None and e.value < 2.0
                                        for e in evs[-20:]))
        assert player.seek(60.0) is False
        player.pause()
        assert rec.wait(lambda evs: player.status().paused)
        p0 = player.status().position_s
        time.sleep(0.4)
        assert player.status().position_s == pytest.approx(p0, abs=0.05)
        player.resume()
        player.set_volume(40)
        player.set_muted(True)
        assert rec.wait(lambda evs: player.status().volume == 40 and player.status().muted)
        vtt = tmp_path / "en.vtt"
        vtt.write_text("WEBVTT\n\n00:00.000 --> 00:08.000\nHello\n", encoding="utf-8")
        player.add_subtitle(str(vtt), language="en", title="English")
        assert rec.wait(lambda evs: any(t[0] == "sub" and t[2] == "en" for t in player.tracks()), 5)
        player.set_subtitle_track(None)

        # restart at 5.0 s: a new TS stream from segment 3, mpv starts at the target
        feed2 = ByteFeed(256 << 10)
        n0 = len(rec.events)
        engine_writer(feed2, dash_content, [0], first=3)
        player.play_feed(feed2, start_s=5.0)
        assert feed.aborted is False  # the old feed is the engine's to abort
        feed.abort()
        assert rec.wait(lambda evs: any(e.kind == "first-frame" for e in evs[n0:]))
        assert rec.wait(lambda evs: any(e.kind == "position" and e.value is not None for e in evs[n0:]))
        first = next(e.value for e in rec.events[n0:] if e.kind == "position" and e.value is not None)
        assert first == pytest.approx(5.0, abs=0.1)

        player.stop()
        assert rec.wait(lambda evs: "stop" in [e.value for e in evs[n0:] if e.kind == "ended"])
        assert feed2.aborted
        assert [m for m in player.status().errors] == []
    finally:
        player.close()


@pytest.mark.mpv
def test_render_context_without_gl_fails_cleanly() -> None:
    from player.mpv_adapter import MpvPlayer

    with MpvPlayer(lambda ev: None, mode="render") as player:
        with pytest.raises(MediaError) as err:
            player.create_render_context(lambda name: 0)
        assert err.value.code == "render_context"


@pytest.mark.slow
def test_read_callback_cost(capsys) -> None:
    """Our memmove read path vs python-mpv's stock per-byte copy, per MiB."""
    size = 1 << 20
    data = bytes(range(256)) * (size // 256)
    dest = ctypes.create_string_buffer(128 << 10)
    addr = ctypes.addressof(dest)

    feed = ByteFeed(size * 2)
    feed.write_blocking(data)
    feed.close()
    t0 = time.process_time()
    while feed.read_into(addr, len(dest)):
        pass
    ours = time.process_time() - t0

    buf = ctypes.cast(dest, ctypes.POINTER(ctypes.c_char))
    t0 = time.process_time()
    for off in range(0, size, len(dest)):  # what python-mpv's read_backend does
        chunk = data[off : off + len(dest)]
        for i in range(len(chunk)):
            buf[i] = chunk[i]
    stock = time.process_time() - t0
    with capsys.disabled():
        print(f"\nread callback per MiB: memmove {ours * 1e6:.0f} us, python-mpv stock {stock * 1e3:.1f} ms "
              f"({stock / max(ours, 1e-9):.0f}x)")
    assert ours * 20 < stock


def test_fake_runs_as_fast_as_the_feed_when_unpaced(dash_content) -> None:
    t0 = time.monotonic()
    obs, errors, status = play_scenario(lambda rec: FakeMpvPlayer(rec, speed=None), dash_content)
    assert time.monotonic() - t0 < 5
    assert obs.sizes == [RUNGS[0], RUNGS[1], RUNGS[0], RUNGS[1]]
    assert obs.eof and status.position_s == pytest.approx(END_S, abs=0.1)
    assert len(errors) == 1


@pytest.mark.mpv
def test_play_url_reports_file_positions_from_zero(alternating_ts, tmp_path: Path) -> None:
    path = tmp_path / "whole.ts"
    path.write_bytes(alternating_ts[0])
    rec = Recorder()
    with make_real(rec, speed=8.0) as player:
        player.play_url(str(path), start_s=4.0)
        assert rec.wait(lambda evs: any(e.kind == "eof" and e.value for e in evs), timeout=20)
        pos = [p for p in rec.of("position") if p is not None]
        assert pos[0] == pytest.approx(4.0, abs=0.1) and pos[-1] == pytest.approx(END_S, abs=0.15)
        assert player.status().errors == ()
