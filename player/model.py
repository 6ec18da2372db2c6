"""The playback model: what one playback is, as plain data in and commands out.

No asyncio, no HTTP, no mpv, no clock: every input carries its time ``now`` (seconds
since the session started) and returns the commands the shell must carry out
(publish a snapshot, emit an event, restart the feed, end). The same inputs always
give the same commands, so a playback replays in a unit test.

It owns the state machine, the buffer accounting, the rung cap, seek and restart,
the end of stream and the snapshot. It keeps the *fetched* rung (what the ABR chose
for the segment being downloaded) apart from the *shown* rung (the segment under
mpv's playhead), and the snapshot carries both.

Media time is one timeline (``position_s``): a presentation of several periods, a
live window or decrypted segments all reach the model as segments placed on that
timeline (``SegmentPlaced``), so none of them changes it.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Any

from abr.api import Controller, Decision, DecisionContext, Ladder
from marquee.errors import MarqueeError, MediaError
from player.decode_health import DecodeHealth
from player.events import (
    AbrDecision,
    Ended,
    Failover,
    MpvLog,
    PlaybackError,
    PlaybackSnapshot,
    PlaybackState,
    PlayerEvent,
    Seek,
    SeekDone,
    SegmentFetched,
    StallEnd,
    StallStart,
    StateChanged,
    Startup,
    Switch,
)
from player.model_io import Command, Emit, Finish, Publish, RestartFeed, Rung, SegmentPlaced
from player.state import PlaybackStateMachine, SessionStats

__all__ = ["Command", "Emit", "Finish", "PlaybackModel", "Publish", "RestartFeed", "Rung", "SegmentPlaced"]

S = PlaybackState

# Snapshot fields that change with every frame: published at most every PUBLISH_EVERY_S.
_CONTINUOUS = frozenset({"position_s", "buffer_s", "throughput_kbps", "dropped_frames"})
PUBLISH_EVERY_S = 0.1


class PlaybackModel:
    def __init__(self, title: str, start_s: float, *, max_bitrate_kbps: float | None = None) -> None:
        self.machine = PlaybackStateMachine()
        self.stats = SessionStats(start_s=start_s, last_position_s=start_s)
        self.decode = DecodeHealth()
        self.snap = PlaybackSnapshot(title=title, position_s=start_s)
        self.requested_start_s = start_s
        self.max_bitrate_kbps = max_bitrate_kbps
        self.rungs: tuple[Rung, ...] = ()
        self.fixed_rung: int | None = None
        self.fetched_rung: int | None = None
        self.buffered_until_s = start_s
        self.started = False
        self.user_paused = False
        self.seeking_since: float | None = None
        self.stall_since: float | None = None
        self.feed_complete = False  # every segment of the current feed was written
        self.done = False
        # The timeline of what was fetched: segment starts, and (end, rung) for each.
        self._starts: list[float] = []
        self._placed: list[tuple[float, int]] = []
        self._published_at = float("-inf")
        self._out: list[Command] = []

    # ------------------------------------------------------------- queries
    def buffer_s(self) -> float:
        return max(0.0, self.buffered_until_s - self.snap.position_s)

    def rung_shown_at(self, position_s: float) -> int | None:
        """The rung of the fetched segment that holds ``position_s`` (None: not fetched)."""
        i = bisect.bisect_right(self._starts, position_s + 1e-6) - 1
        if i < 0 or position_s >= self._placed[i][0]:
            return None
        return self._placed[i][1]

    def max_rung(self) -> int:
        cap_kbps = self.max_bitrate_kbps
        if not cap_kbps:
            return len(self.rungs) - 1
        allowed = [i for i, r in enumerate(self.rungs) if r.bandwidth_bps <= cap_kbps * 1000]
        return allowed[-1] if allowed else 0

    def context(self, ladder: Ladder, index: int, now: float) -> DecisionContext:
        return DecisionContext(ladder=ladder, buffer_s=self.buffer_s(), segment_index=index,
                               current_rung=self.fetched_rung, now_s=now, startup=not self.started)

    # -------------------------------------------------------------- inputs
    def loading(self, now: float) -> list[Command]:
        self._go(S.LOADING, now)
        return self._take()

    def presentation_ready(self, rungs: tuple[Rung, ...], duration_s: float, audio_language: str,
                           segment_s: float, now: float) -> tuple[float, list[Command]]:
        """The ladder is known: clamp the user's rung, pick the start position (the
        requested one unless it lies in the last segment or beyond the end: then from the
        top), and go to BUFFERING. Returns the start position and the commands."""
        self.rungs = rungs
        if self.fixed_rung is not None:
            self.fixed_rung = min(self.fixed_rung, len(rungs) - 1)
        self._update(now, duration_s=duration_s, rung_count=len(rungs), audio_language=audio_language,
                     quality_cap=self.fixed_rung)
        start = max(0.0, self.requested_start_s)
        if duration_s and start >= duration_s - segment_s:
            start = 0.0
        self.stats.start_s = self.stats.last_position_s = start
        self._update(now, position_s=start)
        self._go(S.BUFFERING, now)
        return start, self._take()

    def decide(self, controller: Controller, ladder: Ladder, index: int, now: float) -> tuple[Decision, list[Command]]:
        """The rung for segment ``index``: the user's fixed rung, else the ABR's choice
        under the settings' cap."""
        if self.fixed_rung is not None:
            decision = Decision(self.fixed_rung, "fixed by the user")
        else:
            decision = controller.choose(self.context(ladder, index, now))
            cap = self.max_rung()
            if decision.rung > cap:
                decision = Decision(cap, f"{decision.reason}; capped at rung {cap} by settings")
        self._emit(AbrDecision(now, index=index, rung=decision.rung, reason=decision.reason,
                               buffer_s=round(self.buffer_s(), 3)))
        return decision, self._take()

    def feed_restarted(self, position_s: float, first_segment_start_s: float) -> list[Command]:
        """A fresh feed starts at the segment beginning at ``first_segment_start_s``."""
        self.buffered_until_s = first_segment_start_s
        self.feed_complete = False
        return self._take()

    def segment_ready(self, seg: SegmentPlaced, now: float) -> list[Command]:
        """Segment ``seg.index`` is fetched and remuxed at ``seg.rung`` (the fetched rung moves)."""
        previous = self.fetched_rung
        if previous is not None and seg.rung != previous:
            old, new = self.rungs[previous], self.rungs[seg.rung]
            self._emit(Switch(now, from_rung=previous, to_rung=seg.rung, from_kbps=old.bandwidth_bps / 1000,
                              to_kbps=new.bandwidth_bps / 1000, reason=seg.reason, at_s=round(seg.start_s, 3)))
            self._update(now, last_switch_reason=seg.reason)
        self.fetched_rung = seg.rung
        return self._take()

    def segment_placed(self, seg: SegmentPlaced, now: float) -> list[Command]:
        """Segment ``seg`` is in the feed: the buffer reaches its end."""
        self.buffered_until_s = seg.end_s
        self._place(seg)
        rung = self.rungs[seg.rung]
        self._emit(SegmentFetched(now, media="video", index=seg.index, rung=seg.rung, bytes=seg.bytes,
                                  seconds=round(seg.seconds, 4), ttfb_s=round(seg.ttfb_s, 4), oca=seg.oca,
                                  start_s=round(seg.start_s, 3), duration_s=round(seg.duration_s, 3),
                                  bitrate_kbps=rung.bandwidth_bps / 1000,
                                  throughput_kbps=round(seg.bytes * 8 / max(seg.seconds, 1e-6) / 1000, 1)))
        self._update(now, rung=seg.rung, bitrate_kbps=rung.bandwidth_bps / 1000, oca=seg.oca,
                     fetch_resolution=(rung.width, rung.height), buffered_until_s=self.buffered_until_s)
        self._refresh_shown(now)
        return self._take()

    def feed_finished(self) -> list[Command]:
        """The last segment was written: mpv running dry now is the end of the stream."""
        self.feed_complete = True
        return self._take()

    def observe(self, event: PlayerEvent) -> list[Command]:
        """An event from elsewhere in the engine (the fetcher's failovers and retries)."""
        if isinstance(event, Failover):
            self._update(event.t, last_failover=f"{event.from_oca} → {event.to_oca}: {event.reason}")
        elif isinstance(event, PlaybackError) and event.code == "all_ocas_down":
            self._update(event.t, message=event.message)
        self._emit(event)
        return self._take()

    def tick(self, throughput_kbps: float, now: float) -> list[Command]:
        """The periodic snapshot (levels that change without an event)."""
        self._update(now, buffer_s=self.buffer_s(), throughput_kbps=throughput_kbps)
        return self._take()

    def output(self, kind: str, value: Any, now: float, throughput_kbps: float = 0.0) -> list[Command]:
        """One event of mpv (``player.mpv_adapter.MpvEvent`` kind and value)."""
        if kind == "position" and value is not None and self.seeking_since is None:
            # (during a seek, positions belong to the stream being replaced)
            self.stats.on_position(float(value), self.machine.state == S.PLAYING)
            self._update(now, position_s=float(value), buffer_s=max(0.0, self.buffered_until_s - float(value)))
            self._refresh_shown(now)
        elif kind == "first-frame":
            if not self.started:
                self.started = True
                self._emit(Startup(now, startup_ms=round(now * 1000, 1)))
            if self.seeking_since is not None:
                self._emit(SeekDone(now, ms=round((now - self.seeking_since) * 1000, 1)))
                self.seeking_since = None
            self._go(S.PAUSED if self.user_paused else S.PLAYING, now)
        elif kind == "paused":
            self._update(now, paused=bool(value))
            if self.started and self.seeking_since is None and self.machine.state in (S.PLAYING, S.PAUSED):
                self._go(S.PAUSED if value else S.PLAYING, now)
        elif kind == "buffering":
            self._buffering(bool(value), now, throughput_kbps)
        elif kind == "video-size" and value:
            self._update(now, resolution=tuple(value))
        elif kind in ("frame-drops", "decoder-drops") and value is not None:
            self._update(now, dropped_frames=int(value))
        elif kind == "volume" and value is not None:
            self._update(now, volume=int(value))
        elif kind == "muted" and value is not None:
            self._update(now, muted=bool(value))
        elif (kind == "eof" and value) or (kind == "ended" and value == "eof"):
            self._finish(now)
        elif kind == "ended" and value == "error":
            self._fail(MediaError("the decoder stopped with an error", user_message="The video could not be decoded."),
                       now)
        elif kind == "log":
            level, prefix, text = value
            if level in ("error", "fatal"):
                self._emit(MpvLog(now, level=level, prefix=prefix, text=str(text).strip()))
            if self.decode.observe(level, prefix, str(text)):
                self.stats.decode_errors = self.decode.errors
                if self.decode.failed and not self.done:
                    self._fail(MediaError(f"{self.decode.errors} decode errors", code="decode_errors",
                                          user_message=self.decode.message()), now)
        return self._take()

    def pause(self) -> None:
        self.user_paused = True

    def resume(self) -> None:
        self.user_paused = False

    def seek(self, position_s: float, now: float) -> tuple[float | None, list[Command]]:
        """A seek asked by the user: the clamped target (None: not now, nothing loaded)."""
        if not self.rungs or self.machine.state in (S.LOADING, S.ERROR, S.IDLE):
            return None, self._take()
        duration = self.snap.duration_s or position_s
        target = max(0.0, min(position_s, max(0.0, duration - 0.5)))
        self._emit(Seek(now, from_s=round(self.snap.position_s, 3), to_s=round(target, 3)))
        self.seeking_since = now
        self._go(S.SEEKING, now)
        self.stats.last_position_s = target
        self.stats.anchored = False
        self._update(now, position_s=target)  # the buffer is measured from here on
        return target, self._take()

    def seek_outside_cache(self, target: float) -> list[Command]:
        """mpv could not seek inside what it holds: refetch from ``target``."""
        self._out.append(RestartFeed(target))
        return self._take()

    def set_quality(self, rung: int | None, now: float) -> list[Command]:
        if rung is not None and self.rungs:  # before the ladder is known: clamped then
            rung = max(0, min(rung, len(self.rungs) - 1))
        self.fixed_rung = rung
        self._update(now, quality_cap=self.fixed_rung)
        return self._take()

    def set_language(self, now: float, **languages: str) -> list[Command]:
        self._update(now, **languages)
        return self._take()

    def message(self, text: str, now: float) -> list[Command]:
        self._update(now, message=text)
        return self._take()

    def stop(self, now: float) -> list[Command]:
        self._go(S.IDLE, now)
        self._end(S.IDLE)
        return self._take()

    def fail(self, exc: MarqueeError, now: float) -> list[Command]:
        """An error that ends the playback, whatever its severity where it arose."""
        self._fail(exc, now)
        return self._take()

    def _fail(self, exc: MarqueeError, now: float) -> None:
        self._emit(PlaybackError(now, category=exc.category, code=exc.code, message=exc.user_message,
                                 detail=exc.message, recoverable=False))
        self.snap = replace(self.snap, message=exc.user_message)
        self._go(S.ERROR, now)
        self._end(S.ERROR)

    def report(self, now: float, *, category: str, code: str, message: str) -> list[Command]:
        """A recoverable error: said, and playback goes on."""
        self._emit(PlaybackError(now, category=category, code=code, message=message, recoverable=True))
        return self._take()

    def final_snapshot(self) -> list[Command]:
        self._out.append(Publish(self.snap))
        return self._take()

    # ----------------------------------------------------------- internals
    def _buffering(self, buffering: bool, now: float, throughput_kbps: float) -> None:
        if not self.started or self.seeking_since is not None:
            return
        if buffering and self.stall_since is None:
            self.stall_since = now
            self._emit(StallStart(now, buffer_s=round(self.buffer_s(), 3), throughput_kbps=round(throughput_kbps, 1)))
            self._go(S.BUFFERING, now)
            self._update(now, message="Buffering…")
        elif not buffering and self.stall_since is not None:
            stall_ms = (now - self.stall_since) * 1000
            self.stall_since = None
            self._emit(StallEnd(now, stall_ms=round(stall_ms, 1)))
            self._go(S.PAUSED if self.user_paused else S.PLAYING, now)
            self._update(now, message="")

    def _finish(self, now: float) -> None:
        if self.machine.state in (S.ENDED, S.ERROR, S.IDLE):
            return
        if not self.feed_complete:
            return  # mpv drained what it had, but more is coming: not the end
        self._go(S.ENDED, now)
        self._emit(Ended(now, position_s=round(self.snap.position_s, 3)))
        self._end(S.ENDED)

    def _end(self, state: PlaybackState) -> None:
        if not self.done:
            self.done = True
            self._out.append(Finish(state))

    def _place(self, seg: SegmentPlaced) -> None:
        i = bisect.bisect_left(self._starts, seg.start_s)
        if i < len(self._starts) and abs(self._starts[i] - seg.start_s) < 1e-6:
            self._placed[i] = (seg.end_s, seg.rung)  # refetched (after a seek): the new copy shows
        else:
            self._starts.insert(i, seg.start_s)
            self._placed.insert(i, (seg.end_s, seg.rung))

    def _refresh_shown(self, now: float) -> None:
        shown = self.rung_shown_at(self.snap.position_s)
        if shown is None or shown == self.snap.shown_rung:
            return
        rung = self.rungs[shown]
        changes: dict[str, Any] = {"shown_rung": shown, "shown_bitrate_kbps": rung.bandwidth_bps / 1000}
        if rung.width:  # mpv's own video-size, when it reports one, follows at the same frame
            changes["resolution"] = (rung.width, rung.height)
        self._update(now, **changes)

    def _go(self, state: PlaybackState, now: float) -> None:
        if self.machine.state == state or not self.machine.can(state):
            return
        self.machine.go(state)
        self.snap = replace(self.snap, state=state, paused=state == S.PAUSED or self.snap.paused)
        self._emit(StateChanged(now, state=state.value))
        self._publish(now)

    def _update(self, now: float, **changes: Any) -> None:
        self.snap = replace(self.snap, **changes)
        # Position and levels change with every frame mpv shows: publishing each would cost
        # more than the rest of the engine. They go out at most every 100 ms (and with the
        # next periodic snapshot); anything else goes out at once.
        if _CONTINUOUS.issuperset(changes) and now - self._published_at < PUBLISH_EVERY_S:
            return
        self._publish(now)

    def _publish(self, now: float) -> None:
        self._published_at = now
        self._out.append(Publish(self.snap))

    def _emit(self, event: PlayerEvent) -> None:
        self.stats.on_event(event)
        if isinstance(event, SegmentFetched) and self.snap.message.startswith("No server"):
            self._update(event.t, message="")
        self._out.append(Emit(event))

    def _take(self) -> list[Command]:
        out, self._out = self._out, []
        return out
