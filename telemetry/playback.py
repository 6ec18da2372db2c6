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

    def on_event(self, ev: Any) -> None:
        if not self._open:
            return
        self._stats.on_event(ev)
        d, snap = ev.data, self._snap
        thr = float(snap.throughput_kbps) if snap is not None else 0.0
        buf = float(snap.buffer_s) if snap is not None else 0.0
        kind = ev.kind
        if kind == "startup":
            self._started = True
            self._emit("startup", startup_ms=float(d["startup_ms"]), t=ev.t)
        elif kind == "stall_start":
            self._emit("stall_start", position_s=float(snap.position_s if snap else 0.0),
                       buffer_s=float(d.get("buffer_s", buf)), throughput_kbps=thr, t=ev.t)
        elif kind == "stall_end":
            self._emit("stall_end", stall_ms=float(d.get("stall_ms", 0.0)), buffer_s=buf, throughput_kbps=thr, t=ev.t)
        elif kind == "switch":
            self._emit("switch", from_rung=int(d["from_rung"]), to_rung=int(d["to_rung"]),
                       from_kbps=float(d["from_kbps"]), to_kbps=float(d["to_kbps"]), reason=str(d.get("reason", "")),
                       t=ev.t)
        elif kind == "segment" and d.get("media") == "video":
            self._emit("segment", rung=int(d["rung"]), bytes=int(d["bytes"]),
                       download_ms=round(float(d["seconds"]) * 1000, 1), oca=str(d["oca"]),
                       throughput_kbps=float(d.get("throughput_kbps", 0.0)),
                       bitrate_kbps=float(d.get("bitrate_kbps", 0.0)), t=ev.t)
        elif kind == "failover":
            self._emit("failover", from_oca=str(d["from_oca"]), to_oca=str(d["to_oca"]), reason=str(d["reason"]),
                       cost_ms=float(d.get("cost_ms", 0.0)), t=ev.t)
        elif kind == "error":
            self._emit("error", category=str(d.get("category", "internal")), code=str(d.get("code", "")),
                       recoverable=bool(d.get("recoverable", False)), t=ev.t)
        elif kind == "ended":
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
