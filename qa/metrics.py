"""QoE of a run (real or simulated) and the verdict against the thresholds (pure).

The same definitions on both sides so they compare: per counted segment ``k`` (the
segments fetched for content that was played) with bitrate ``R_k`` in Mbit/s,

    QoE_lin = sum R_k - 4.3 * (startup_s + stall_s) - sum |R_k - R_{k-1}|

(Pensieve's linear QoE in the simulator's realistic mode, where the startup wait counts as
the first chunk's stall). ``qoe_per_segment`` divides by the number of segments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

from qa.scenario import Thresholds

# A fetched segment counts when at least this much of it was played (both sides use it,
# so a run stopped a few ms into a segment does not score that segment).
COUNT_MARGIN_S = 0.25


def counted(starts: list[float], final_position_s: float) -> list[int]:
    """Indexes (in fetch order) of the fetched segments that count: the first one always,
    then those starting before the final playhead position (minus the margin)."""
    return [k for k, s in enumerate(starts) if k == 0 or s < final_position_s - COUNT_MARGIN_S]


@dataclass(frozen=True)
class RunMetrics:
    startup_s: float | None
    played_s: float
    stall_count: int
    stall_s: float
    rebuffer_ratio: float
    avg_bitrate_kbps: float
    switches: int
    switches_per_min: float
    segments: int
    qoe_lin: float
    qoe_per_segment: float
    fatal_errors: int = 0
    failovers: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def qoe_lin(bitrates_kbps: list[float], startup_s: float, stall_s: float) -> float:
    mbps = [b / 1000 for b in bitrates_kbps]
    smooth = sum(abs(b - a) for a, b in zip(mbps, mbps[1:]))
    return sum(mbps) - 4.3 * (startup_s + stall_s) - smooth


def compute_metrics(bitrates_kbps: list[float], *, startup_s: float | None, stall_s: float, stall_count: int,
                    played_s: float, fatal_errors: int = 0, failovers: int = 0,
                    avg_bitrate_kbps: float | None = None) -> RunMetrics:
    switches = sum(1 for a, b in zip(bitrates_kbps, bitrates_kbps[1:]) if a != b)
    q = qoe_lin(bitrates_kbps, startup_s or 0.0, stall_s)
    avg = avg_bitrate_kbps if avg_bitrate_kbps is not None else (
        sum(bitrates_kbps) / len(bitrates_kbps) if bitrates_kbps else 0.0)
    return RunMetrics(
        startup_s=startup_s, played_s=played_s, stall_count=stall_count, stall_s=stall_s,
        rebuffer_ratio=stall_s / (played_s + stall_s) if played_s + stall_s > 0 else 0.0,
        avg_bitrate_kbps=avg, switches=switches,
        switches_per_min=switches / (played_s / 60) if played_s > 0 else 0.0,
        segments=len(bitrates_kbps), qoe_lin=q, qoe_per_segment=q / len(bitrates_kbps) if bitrates_kbps else 0.0,
        fatal_errors=fatal_errors, failovers=failovers,
    )


def real_metrics(events: Iterable[Mapping[str, Any]], summary: Mapping[str, Any], final_position_s: float) -> RunMetrics:
    """From the engine's events (``PlayerEvent.to_json``) and its summary."""
    events = list(events)
    segments = [e for e in events if e["kind"] == "segment" and e.get("media", "video") == "video"]
    keep = [segments[k] for k in counted([e.get("start_s", 0.0) for e in segments], final_position_s)]
    fatal = [e for e in events if e["kind"] == "error" and not e.get("recoverable", True)]
    startup_ms = summary.get("startup_ms")
    return compute_metrics(
        [float(e["bitrate_kbps"]) for e in keep],
        startup_s=None if startup_ms is None else startup_ms / 1000,
        stall_s=float(summary.get("stall_ms", 0.0)) / 1000,
        stall_count=int(summary.get("stall_count", 0)),
        played_s=float(summary.get("played_s", 0.0)),
        fatal_errors=max(len(fatal), 0 if summary.get("ok", True) else 1),
        failovers=int(summary.get("failovers", 0)),
    )


@dataclass(frozen=True)
class Check:
    name: str
    limit: float
    value: float | None
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "limit": self.limit,
                "value": None if self.value is None else round(self.value, 4), "ok": self.ok}

    def describe(self) -> str:
        value = "-" if self.value is None else f"{self.value:.3g}"
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {value} (limit {self.limit:g})"


def verdict(m: RunMetrics, th: Thresholds) -> list[Check]:
    checks = []
    if th.max_rebuffer_ratio is not None:
        checks.append(Check("max_rebuffer_ratio", th.max_rebuffer_ratio, m.rebuffer_ratio,
                            m.rebuffer_ratio <= th.max_rebuffer_ratio))
    if th.max_startup_s is not None:
        checks.append(Check("max_startup_s", th.max_startup_s, m.startup_s,
                            m.startup_s is not None and m.startup_s <= th.max_startup_s))
    if th.min_avg_bitrate_kbps is not None:
        checks.append(Check("min_avg_bitrate_kbps", th.min_avg_bitrate_kbps, m.avg_bitrate_kbps,
                            m.avg_bitrate_kbps >= th.min_avg_bitrate_kbps))
    if th.max_switches_per_min is not None:
        checks.append(Check("max_switches_per_min", th.max_switches_per_min, m.switches_per_min,
                            m.switches_per_min <= th.max_switches_per_min))
    if th.max_stalls is not None:
        checks.append(Check("max_stalls", th.max_stalls, m.stall_count, m.stall_count <= th.max_stalls))
    checks.append(Check("max_fatal_errors", th.max_fatal_errors, m.fatal_errors,
                        m.fatal_errors <= th.max_fatal_errors))
    return checks
