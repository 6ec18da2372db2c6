"""``PlaybackTelemetry``: turns the engine's events and snapshots into schema-v1 events.

An observer (see ``telemetry.observed``): ``start(request)`` opens a session (new
random session id, an ``attempt`` event), engine events map onto the schema,
a ``heartbeat`` goes out every ``heartbeat_s`` of playback, and ``end()`` closes
the session with ``exit_before_start`` (if no frame was shown) and ``session_end``
(the summary, folded by ``player.state.SessionStats`` like the CLI's). Runs on the
engine thread: everything here is a few dict operations and a queue put.

It also answers CMCD for each segment request of the session (``cmcd_headers``,
``cmcd_query``) from the latest snapshot.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from marquee.clock import Clock, SystemClock
from player.events import (
    Ended,
    Failover,
    PlaybackError,
    PlayerEvent,
    SegmentFetched,
    StallEnd,
    StallStart,
    Startup,
    Switch,
)
from player.state import SessionStats
from telemetry.cmcd import CmcdData, as_headers, as_query, object_type
from telemetry.identity import new_session_id
from telemetry.schema import make_data

CMCD_MODES = ("off", "headers", "query")


class PlaybackTelemetry:
    def __init__(self, record: Callable[[dict[str, Any]], None], *, clock: Clock | None = None,
                 heartbeat_s: float = 30.0, cmcd: str = "headers", network: str = "") -> None:
        if cmcd not in CMCD_MODES:
            raise ValueError(f"cmcd must be one of {', '.join(CMCD_MODES)}")
        self.record = record
        self.clock = clock or SystemClock()
        self.heartbeat_s = heartbeat_s
        self.cmcd = cmcd
        self.network = network
        self.session_id = ""
        self._seq = 0
        self._t0 = 0.0
        self._open = False
        self._started = False
        self._stats = SessionStats()
        self._snap: Any = None
        self._last_heartbeat = 0.0
        self._format = "d"

    # ---------------------------------------------------------------- observer
    def start(self, request: Any) -> Any:
        self.end()
        self.session_id = new_session_id()
        self._seq = 0
        self._t0 = self.clock.monotonic()
        self._last_heartbeat = self._t0
        self._open, self._started, self._snap = True, False, None
        self._stats = SessionStats(start_s=request.start_s, last_position_s=request.start_s)
        path = (request.manifest_path or request.manifest_url).lower()
        protocol = "hls" if ".m3u8" in path else "dash"
        self._format = "h" if protocol == "hls" else "d"
        content = getattr(request, "content", None)
        self._emit("attempt", title_id=content.title_id if content else None,
                   episode_id=content.episode_id if content else None, start_s=float(request.start_s),
                   protocol=protocol, network=self.network or (request.throttle or ""))
        if self.cmcd == "headers" and request.extra_headers is None and request.ocas:
            request = replace(request, extra_headers=self.cmcd_headers)
        elif self.cmcd == "query" and request.extra_query is None and request.ocas:
            request = replace(request, extra_query=self.cmcd_query)
        return request

    def end(self, reason: str = "stopped") -> None:
        if not self._open:
            return
        self._open = False
        if not self._started:
            self._emit("exit_before_start", waited_ms=round((self.clock.monotonic() - self._t0) * 1000, 1),
                       reason=reason)
        s = self._stats.summary()
        self._emit("session_end", startup_ms=s.startup_ms, played_s=s.played_s, stall_count=s.stall_count,
                   stall_ms=s.stall_ms, switches=s.switches, avg_bitrate_kbps=s.avg_bitrate_kbps,
                   failovers=s.failovers, errors=len(s.errors), ok=s.ok, reason=reason)

    def on_snapshot(self, snap: Any) -> None:
        if not self._open:
            return
        self._snap = snap
        state = getattr(snap.state, "value", str(snap.state))
        self._stats.on_position(snap.position_s, state == "playing")
        now = self.clock.monotonic()
        if state == "playing" and now - self._last_heartbeat >= self.heartbeat_s:
            self._last_heartbeat = now
            self._emit("heartbeat", position_s=round(snap.position_s, 3), buffer_s=round(snap.buffer_s, 3),
                       bitrate_kbps=float(snap.bitrate_kbps), state=state, oca=snap.oca or "")

    def on_event(self, ev: PlayerEvent) -> None:
        if not self._open:
            return
        self._stats.on_event(ev)
        snap = self._snap
        thr = float(snap.throughput_kbps) if snap is not None else 0.0
        buf = float(snap.buffer_s) if snap is not None else 0.0
        if isinstance(ev, Startup):
            self._started = True
            self._emit("startup", startup_ms=float(ev.startup_ms), t=ev.t)
        elif isinstance(ev, StallStart):
            self._emit("stall_start", position_s=float(snap.position_s if snap else 0.0),
                       buffer_s=float(ev.buffer_s), throughput_kbps=thr, t=ev.t)
        elif isinstance(ev, StallEnd):
            self._emit("stall_end", stall_ms=float(ev.stall_ms), buffer_s=buf, throughput_kbps=thr, t=ev.t)
        elif isinstance(ev, Switch):
            self._emit("switch", from_rung=int(ev.from_rung), to_rung=int(ev.to_rung), from_kbps=float(ev.from_kbps),
                       to_kbps=float(ev.to_kbps), reason=ev.reason, t=ev.t)
        elif isinstance(ev, SegmentFetched) and ev.media == "video":
            self._emit("segment", rung=int(ev.rung), bytes=int(ev.bytes), download_ms=round(float(ev.seconds) * 1000, 1),
                       oca=ev.oca, throughput_kbps=float(ev.throughput_kbps), bitrate_kbps=float(ev.bitrate_kbps),
                       t=ev.t)
        elif isinstance(ev, Failover):
            self._emit("failover", from_oca=ev.from_oca, to_oca=ev.to_oca, reason=ev.reason,
                       cost_ms=float(ev.cost_ms), t=ev.t)
        elif isinstance(ev, PlaybackError):
            self._emit("error", category=ev.category or "internal", code=ev.code, recoverable=bool(ev.recoverable),
                       t=ev.t)
        elif isinstance(ev, Ended):
            self.end("ended")

    def _emit(self, kind: str, t: float | None = None, **fields: Any) -> None:
        self._seq += 1
        self.record({"kind": kind, "session_id": self.session_id, "seq": self._seq,
                     "ts": round(self.clock.wall(), 3),
                     "t": round(t if t is not None else self.clock.monotonic() - self._t0, 4),
                     "data": make_data(kind, **fields)})

    # ---------------------------------------------------------------- CMCD
    def cmcd_data(self, target: Any) -> CmcdData:
        snap = self._snap
        state = getattr(getattr(snap, "state", None), "value", "") if snap is not None else "loading"
        return CmcdData(
            session_id=self.session_id,
            object_type=object_type(getattr(target, "label", ""), getattr(target, "url", "")),
            bitrate_kbps=float(snap.bitrate_kbps) if snap is not None else None,
            buffer_ms=float(snap.buffer_s) * 1000 if snap is not None else None,
            throughput_kbps=float(snap.throughput_kbps) if snap is not None else None,
            streaming_format=self._format,
            startup=not self._started or state == "buffering",
        )

    def cmcd_headers(self, target: Any) -> dict[str, str]:
        return as_headers(self.cmcd_data(target))

    def cmcd_query(self, target: Any) -> str:
        return as_query(self.cmcd_data(target))
