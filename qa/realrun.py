"""The scenario against the real player, in real time (the I/O edge of QA).

Starts the reference service and its OCAs in-process on loopback (``ServiceThread``), sets
each OCA's link (server-side pacing by the trace, so TCP and HTTP see a real slow link) and
applies the fault timeline at its moments from this thread, plays through
``PlaybackEngine`` with mpv's null outputs, and records every engine event, the faults and
seeks it applied, and snapshots (buffer, rung, OCA, throughput) every 0.2 s.

A third-party manifest URL gets the link through the client's own shaping
(``PlayRequest.throttle``) instead; faults need our OCAs.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from qa.metrics import Check, RunMetrics, real_metrics, verdict
from qa.network import OcaState, change_times, fault_points, link_trace, oca_state, serving_faults_due
from qa.scenario import Scenario, Variant

log = logging.getLogger("marquee.qa")

SAMPLE_EVERY_S = 0.2


@dataclass
class RealRun:
    variant: str
    events: list[dict[str, Any]] = field(default_factory=list)  # engine events, t = s since play
    samples: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)  # faults and seeks applied
    summary: dict[str, Any] = field(default_factory=dict)
    final_position_s: float = 0.0
    wall_s: float = 0.0
    timed_out: bool = False
    metrics: RunMetrics | None = None
    checks: list[Check] = field(default_factory=list)
    oca_counters: dict[str, Any] = field(default_factory=dict)  # what each OCA saw (requests, statuses)

    @property
    def passed(self) -> bool:
        return not self.timed_out and all(c.ok for c in self.checks)


class _Recorder:
    """Engine listener: events and throttled snapshots on one time base (s since play)."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.offset: float | None = None  # session clock -> ours
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self._last_sample = -1.0
        self._last_state = ""

    def _now(self) -> float:
        return time.monotonic() - self.t0

    def on_event(self, event: Any) -> None:
        now = self._now()
        with self.lock:
            if self.offset is None:
                self.offset = now - event.t
            row = event.to_json()
            row["t_session"] = row["t"]
            row["t"] = round(event.t + self.offset, 4)
            self.events.append(row)

    def on_snapshot(self, snap: Any) -> None:
        now = self._now()
        state = snap.state.value
        if now - self._last_sample < SAMPLE_EVERY_S and state == self._last_state:
            return
        self._last_sample, self._last_state = now, state
        with self.lock:
            self.samples.append({
                "t": round(now, 3), "state": state, "position_s": round(snap.position_s, 3),
                "buffer_s": round(snap.buffer_s, 3), "rung": snap.rung, "bitrate_kbps": snap.bitrate_kbps,
                "throughput_kbps": round(snap.throughput_kbps, 1), "oca": snap.oca, "message": snap.message,
            })


def _fault_spec(state: OcaState, points: tuple[tuple[float, float], ...], seed: int) -> Any:
    from service.faults import FaultSpec

    return FaultSpec(down=state.down, error_rate=state.error_rate, error_status=state.error_status,
                     latency_ms=state.latency_ms, trace=points, stall_after_bytes=state.stall_after_bytes,
                     truncate_after_bytes=state.truncate_after_bytes, corrupt=state.corrupt, seed=seed)


def run_real(scn: Scenario, variant: Variant, content_dir: Path | None, *, horizon_s: float,
             progress: Callable[[str], None] = lambda s: None) -> RealRun:
    if scn.url:
        return _run_url(scn, variant, horizon_s, progress)
    assert content_dir is not None
    from assets import ASSETS_DIR
    from service.config import ServiceConfig
    from service.server import ServiceThread

    with tempfile.TemporaryDirectory(prefix="marquee-qa-") as tmp:
        overrides: dict[str, Any] = {}
        if scn.token_expiry_s is not None:
            overrides["playback_token_ttl_s"] = max(1, int(round(scn.token_expiry_s)))
        config = ServiceConfig(content_dir=content_dir, catalog_path=ASSETS_DIR / "catalog.json",
                               db_path=Path(tmp) / "service.sqlite3", ocas=scn.ocas, **overrides)
        svc = ServiceThread(config).start()
        try:
            run = _run_with_service(scn, variant, svc, horizon_s, progress)
            run.oca_counters = {n.id: n.counters.to_json() for n in svc.runtime.ocas}
            return run
        finally:
            svc.stop()


def _run_with_service(scn: Scenario, variant: Variant, svc: Any, horizon_s: float,
                      progress: Callable[[str], None]) -> RealRun:
    from marquee.api import ServiceClient
    from player.launch import request_for_title

    traces = {oca: link_trace(scn.links[oca], horizon_s) for oca in scn.oca_ids}
    nodes = {n.id: n for n in svc.runtime.ocas}
    applied: dict[str, OcaState] = {}
    resolved: dict[int, str] = {}
    run = RealRun(variant.name)

    def apply(t: float, first: bool = False) -> None:
        for oca in scn.oca_ids:
            state = oca_state(scn, oca, t, resolved)
            if not first and applied.get(oca) == state:
                continue
            spec = _fault_spec(state, fault_points(traces[oca], t), scn.links[oca].seed)
            node = nodes[oca]
            svc.call(lambda node=node, spec=spec: node.set_faults(spec))
            applied[oca] = state
            if not first:
                what = ", ".join(f"{k}={v}" for k, v in vars(state).items() if v not in (False, 0, 0.0, None, 503)
                                 and not (k == "latency_ms" and v == round(scn.links[oca].rtt_ms)))
                run.marks.append({"kind": "qa_fault", "t": round(t, 3), "oca": oca, "state": what or "clear"})
                progress(f"  t={t:5.1f}s {oca}: {what or 'faults cleared'}")

    client = ServiceClient(svc.url)
    client.login()
    profile = client.profiles()[0]
    assert scn.title is not None
    request = request_for_title(client, profile.id, scn.title, start_s=scn.start_s,
                                abr_algorithm=variant.algo, abr_params=dict(variant.params))
    apply(0.0, first=True)
    return _play(scn, request, run, progress, on_tick=lambda t, engine: _tick(scn, t, engine, resolved, apply, run))


def _tick(scn: Scenario, now: float, engine: Any, resolved: dict[int, str], apply: Callable[[float], None],
          run: RealRun) -> None:
    pending = getattr(run, "_pending_changes", None)
    if pending is None:
        pending = change_times(scn)
        setattr(run, "_pending_changes", pending)
    while pending and pending[0] <= now:
        t = pending.pop(0)
        for index in serving_faults_due(scn, t, resolved):
            resolved[index] = engine.snapshot().oca or scn.oca_ids[0]
            run.marks.append({"kind": "qa_serving", "t": round(now, 3), "fault": index, "oca": resolved[index]})
        apply(t)


def _run_url(scn: Scenario, variant: Variant, horizon_s: float, progress: Callable[[str], None]) -> RealRun:
    from player.control import PlayRequest

    assert scn.url is not None
    link = scn.links[scn.oca_ids[0]]
    trace = link_trace(link, horizon_s)
    with tempfile.TemporaryDirectory(prefix="marquee-qa-") as tmp:
        path = Path(tmp) / "link.trace"
        path.write_text("".join(f"{t:.6f} {b:.6f}\n" for t, b in zip(trace.times_s, trace.bw_mbps)))
        request = PlayRequest(manifest_url=scn.url, title=scn.url, start_s=scn.start_s, abr_algorithm=variant.algo,
                              abr_params=dict(variant.params), throttle=str(path))
        return _play(scn, request, RealRun(variant.name), progress, on_tick=lambda t, e: None)


def _play(scn: Scenario, request: Any, run: RealRun, progress: Callable[[str], None],
          on_tick: Callable[[float, Any], None]) -> RealRun:
    from player.engine import PlaybackEngine
    from player.events import PlaybackState
    from player.mpv_adapter import MpvPlayer
    from player.session import SessionSettings

    t0 = time.monotonic()
    recorder = _Recorder(t0)
    engine = PlaybackEngine(lambda cb: MpvPlayer(cb, mode="headless"),
                            settings=SessionSettings(max_buffer_s=scn.max_buffer_s))
    engine.add_listener(recorder.on_snapshot, recorder.on_event)
    seeks = list(scn.seeks)
    outage = sum(((f.until_s or scn.duration_s) - f.at_s) for f in scn.faults if f.down)
    deadline = scn.duration_s * 2.5 + outage + 30
    summary = None
    last_print = 0.0
    try:
        recorder.t0 = t0 = time.monotonic()
        engine.play(request)
        while True:
            summary = engine.wait(timeout=0.05)
            if summary is not None:
                break
            now = time.monotonic() - t0
            on_tick(now, engine)
            while seeks and seeks[0].at_s <= now:
                s = seeks.pop(0)
                engine.seek(s.to_s)
                run.marks.append({"kind": "qa_seek", "t": round(now, 3), "to_s": s.to_s})
                progress(f"  t={now:5.1f}s seek to {s.to_s:g}s")
            snap = engine.snapshot()
            if snap.state in (PlaybackState.PLAYING, PlaybackState.BUFFERING) and snap.position_s > 0:
                current = engine.summary()
                if current is not None and current.played_s >= scn.duration_s and not seeks:
                    run.final_position_s = snap.position_s
                    engine.stop()
                    summary = engine.wait(timeout=10)
                    break
            if now - last_print >= 5:
                last_print = now
                progress(f"  t={now:5.1f}s {snap.state.value:<9} pos {snap.position_s:6.1f}s buffer "
                         f"{snap.buffer_s:5.1f}s {snap.bitrate_kbps:5.0f} kbps {snap.oca or '-'} {snap.message}")
            if now > deadline:
                run.timed_out = True
                engine.stop()
                summary = engine.wait(timeout=10)
                break
        if not run.final_position_s:
            run.final_position_s = engine.snapshot().position_s
    finally:
        engine.close()
        run.wall_s = time.monotonic() - t0
    with recorder.lock:
        run.events = list(recorder.events)
        run.samples = list(recorder.samples)
    run.summary = summary.to_json() if summary is not None else {"ok": False, "errors": ["no summary"],
                                                                 "startup_ms": None, "played_s": 0.0,
                                                                 "stall_count": 0, "stall_ms": 0.0}
    if run.timed_out:
        run.summary.setdefault("errors", []).append(f"timed out after {deadline:.0f} s")
    run.metrics = real_metrics(run.events, run.summary, run.final_position_s)
    run.checks = verdict(run.metrics, scn.thresholds)
    return run


def write_log(path: Path, runs: list[RealRun]) -> None:
    """The decision log: every engine event and QA action, one JSON object per line."""
    with path.open("w", encoding="utf-8") as fh:
        for run in runs:
            rows = sorted(run.events + run.marks, key=lambda r: r["t"])
            for row in rows:
                fh.write(json.dumps({"variant": run.variant, **row}) + "\n")
