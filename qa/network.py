"""From a scenario to what each OCA does at each moment (pure).

* :func:`link_trace`: a link's rate over time (base trace, scale, seeded jitter, loss-like
  stalls as zero-rate windows) as an ``abr.traces.Trace`` (``bw[i]`` on ``(t[i-1], t[i]]``).
* :func:`fault_points`: the same as ``FaultSpec.trace`` points ``(t_s, mbps)`` (piecewise
  constant from ``t_s``), re-based to start at a given moment, so a fault set mid-run
  continues the trace where it is instead of restarting it.
* :func:`oca_state`: the fault fields active on one OCA at time ``t``.
* :func:`change_times`: when the OCA states change (the timeline to apply).
* :func:`effective_trace`: the best link still up at each moment (what the player, which
  ranks OCAs by measured throughput and fails over at once, can use); zero when all are down.
  This is what the simulator gets.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from typing import Mapping

from abr.traces import Trace
from qa.scenario import Fault, LinkSpec, Scenario


def link_trace(link: LinkSpec, horizon_s: float) -> Trace:
    """The link's delivered rate up to ``horizon_s`` (the last value holds after it)."""
    base = link.base
    t0 = base.times_s[0]
    times = [t - t0 for t in base.times_s]
    bws = [b * link.scale for b in base.bw_mbps]
    edges = set(times)
    if link.jitter > 0:
        step = link.jitter_step_s
        edges.update(k * step for k in range(int(horizon_s / step) + 2))
    stalls: list[tuple[float, float]] = []
    if link.stall_every_s:
        k = 1
        while k * link.stall_every_s < horizon_s:
            a = k * link.stall_every_s
            stalls.append((a, a + link.stall_for_s))
            edges.update((a, a + link.stall_for_s))
            k += 1
    grid = sorted(t for t in edges if t <= max(horizon_s, times[-1]) + 1e-9)
    if grid[-1] < horizon_s:
        grid.append(horizon_s)
    rng = random.Random(link.seed)
    noise: dict[int, float] = {}

    def rate_on(a: float, b: float) -> float:
        mid = (a + b) / 2
        i = bisect.bisect_left(times, mid)
        value = bws[min(max(i, 1), len(bws) - 1)]
        if link.jitter > 0:
            slot = int(mid // link.jitter_step_s)
            if slot not in noise:
                noise[slot] = math.exp(rng.gauss(-link.jitter ** 2 / 2, link.jitter))  # mean 1
            value *= noise[slot]
        if any(s <= mid < e for s, e in stalls):
            value = 0.0
        return round(value, 6)

    out_t = [0.0]
    out_b = [rate_on(0.0, grid[1] if len(grid) > 1 else 1.0)]
    for a, b in zip(grid, grid[1:]):
        out_t.append(round(b, 6))
        out_b.append(rate_on(a, b))
    return Trace(f"{link.source}", tuple(out_t), tuple(out_b), link.rtt_ms / 1000 if link.rtt_ms else None)


def fault_points(trace: Trace, from_s: float = 0.0) -> tuple[tuple[float, float], ...]:
    """``FaultSpec.trace`` points for the trace as seen from ``from_s`` on."""
    t, b = trace.times_s, trace.bw_mbps
    points: list[tuple[float, float]] = []
    for i in range(1, len(t)):
        start, end = t[i - 1], t[i]
        if end <= from_s:
            continue
        points.append((round(max(start - from_s, 0.0), 6), b[i]))
    if not points:
        points = [(0.0, b[-1])]
    if all(mbps == 0 for _, mbps in points):
        points.append((points[-1][0] + 3600.0, b[-1] or 0.01))
    return tuple(points)


@dataclass(frozen=True)
class OcaState:
    """The fault fields of one OCA at one moment (shaping is added when applied)."""

    down: bool = False
    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    stall_after_bytes: int | None = None
    truncate_after_bytes: int | None = None
    corrupt: bool = False


def _targets(fault: Fault, resolved: Mapping[int, str], index: int, oca_ids: list[str]) -> list[str]:
    if fault.oca == "all":
        return list(oca_ids)
    if fault.oca == "serving":
        oca = resolved.get(index)
        return [oca] if oca else []
    return [fault.oca]


def oca_state(scn: Scenario, oca: str, t: float, resolved: Mapping[int, str] | None = None) -> OcaState:
    """Faults active on ``oca`` at ``t``; ``resolved`` maps a "serving" fault's index to its OCA."""
    resolved = resolved or {}
    active = [f for i, f in enumerate(scn.faults) if f.active(t) and oca in _targets(f, resolved, i, scn.oca_ids)]
    link = scn.links.get(oca)
    rtt = int(round(link.rtt_ms)) if link else 0
    if not active:
        return OcaState(latency_ms=rtt)
    stall = [f.stall_after_bytes for f in active if f.stall_after_bytes is not None]
    trunc = [f.truncate_after_bytes for f in active if f.truncate_after_bytes is not None]
    rated = [f for f in active if f.error_rate > 0]
    return OcaState(
        down=any(f.down for f in active),
        error_rate=max((f.error_rate for f in active), default=0.0),
        error_status=rated[-1].error_status if rated else 503,
        latency_ms=rtt + sum(f.latency_ms for f in active),
        stall_after_bytes=min(stall) if stall else None,
        truncate_after_bytes=min(trunc) if trunc else None,
        corrupt=any(f.corrupt for f in active),
    )


def change_times(scn: Scenario) -> list[float]:
    """Moments (> 0) at which some OCA's fault state may change."""
    times = {f.at_s for f in scn.faults} | {f.until_s for f in scn.faults if f.until_s is not None}
    return sorted(t for t in times if t > 0)


def serving_faults_due(scn: Scenario, t: float, resolved: Mapping[int, str]) -> list[int]:
    """Indexes of "serving" faults that start by ``t`` and still need their OCA resolved."""
    return [i for i, f in enumerate(scn.faults) if f.oca == "serving" and f.at_s <= t and i not in resolved]


def effective_trace(scn: Scenario, horizon_s: float, resolved: Mapping[int, str] | None = None) -> Trace:
    """The best rate among the OCAs that are up, over time; 0 while all are down (the
    simulator's link). A "serving" fault counts as hitting the top-ranked OCA unless resolved."""
    resolved = dict(resolved or {})
    for i, f in enumerate(scn.faults):
        if f.oca == "serving" and i not in resolved and scn.oca_ids:
            resolved[i] = scn.oca_ids[0]
    traces = {oca: link_trace(scn.links[oca], horizon_s) for oca in scn.oca_ids if oca in scn.links}
    edges = {0.0, horizon_s} | set(change_times(scn))
    for tr in traces.values():
        edges.update(x for x in tr.times_s if x <= horizon_s)
    grid = sorted(e for e in edges if e <= horizon_s)
    times = [0.0]
    bws: list[float] = []
    for a, b in zip(grid, grid[1:]):
        mid = (a + b) / 2
        best = 0.0
        for oca, tr in traces.items():
            if oca_state(scn, oca, mid, resolved).down:
                continue
            best = max(best, rate_at(tr, mid))
        times.append(b)
        bws.append(best)
    bws.insert(0, bws[0] if bws else 0.0)
    rtt_ms = min((scn.links[o].rtt_ms for o in scn.oca_ids if o in scn.links), default=0.0)
    return Trace(f"{scn.name} (best OCA up)", tuple(times), tuple(bws), rtt_ms / 1000 if rtt_ms else None)


def rate_at(trace: Trace, t: float) -> float:
    """Mbit/s at ``t`` (the value of the interval holding ``t``; the last holds after the end)."""
    i = bisect.bisect_left(trace.times_s, t)
    return trace.bw_mbps[min(max(i, 1), len(trace.bw_mbps) - 1)]
