"""A QA campaign: a matrix of runs and its aggregate (pure: no I/O beyond reading the file).

A campaign file (TOML)::

    name = "nightly"
    scenarios = ["3g-commute", "steady-fast"]   # ready names or .toml paths (relative to this file)
    algorithms = ["default", "bola"]            # optional; default: each scenario's own variants
    traces = ["hsdpa"]                          # optional; each trace replaces the scenario's link rate
    max_traces = 3                              # optional: the first N of each trace set
    repeats = 2                                 # each repeat reseeds the link's jitter
    mode = "sim"                                # "sim" (parallel) or "real" (real time, one per core pair)
    ci = false                                  # apply the scenarios' [ci] short forms

:func:`cells` expands it into :class:`Cell` s with stable ids (what the result store keys
on, so a resumed campaign skips what is done); :func:`aggregate` gives per (scenario,
algorithm) means with 95 % confidence intervals and, per (scenario, trace), which algorithm won.
"""

from __future__ import annotations

import math
import statistics
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from marquee.errors import ConfigError

KEYS = ("name", "scenarios", "algorithms", "traces", "max_traces", "repeats", "mode", "ci")
MODES = ("sim", "real")


@dataclass(frozen=True)
class Campaign:
    name: str
    scenarios: tuple[str, ...]  # resolved scenario file paths
    algorithms: tuple[str, ...]  # empty: each scenario's own variants
    traces: tuple[str, ...]  # trace set references (abr.traces.resolve_traces)
    max_traces: int | None
    repeats: int
    mode: str
    ci: bool


@dataclass(frozen=True)
class Cell:
    """One run of the matrix. ``trace`` is ``"<set>#<index>"`` or ``""`` (the scenario's own link)."""

    scenario: str  # a scenario file path
    algorithm: str  # an ABR algorithm, or a scenario variant's name when the campaign names none
    trace: str
    repeat: int
    mode: str
    ci: bool

    @property
    def id(self) -> str:
        return f"{Path(self.scenario).stem}|{self.algorithm}|{self.trace or '-'}|{self.repeat}"


def parse_campaign(text: str, source: str, resolve_scenario: Any) -> Campaign:
    """``resolve_scenario(spec, base_dir) -> Path`` finds a scenario (raises ConfigError)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")

    def names(key: str, required: bool) -> tuple[str, ...]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{source}: {key} must be a list of names")
        if required and not value:
            raise ConfigError(f"{source}: {key} must name at least one")
        if len(set(value)) != len(value):
            raise ConfigError(f"{source}: {key} names one twice")
        return tuple(value)

    base = Path(source).parent
    scenarios = tuple(str(resolve_scenario(s, base)) for s in names("scenarios", True))
    algorithms = names("algorithms", False)
    if algorithms:
        from abr import algorithms as known

        bad = [a for a in algorithms if a.strip().lower() not in known()]
        if bad:
            raise ConfigError(f"{source}: unknown algorithm(s) {', '.join(bad)}; known: {', '.join(known())}")
    repeats = doc.get("repeats", 1)
    max_traces = doc.get("max_traces")
    for key, value in (("repeats", repeats), ("max_traces", max_traces)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000):
            raise ConfigError(f"{source}: {key} must be a whole number from 1 to 10000")
    mode = doc.get("mode", "sim")
    if mode not in MODES:
        raise ConfigError(f"{source}: mode must be one of {', '.join(MODES)}, not {mode!r}")
    ci = doc.get("ci", False)
    if not isinstance(ci, bool):
        raise ConfigError(f"{source}: ci must be true or false")
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: name must be a non-empty string")
    return Campaign(name, scenarios, algorithms, names("traces", False), max_traces, repeats, mode, ci)


def cells(campaign: Campaign, variants_of: Mapping[str, list[str]], trace_counts: Mapping[str, int]) -> list[Cell]:
    """The matrix, in a stable order. ``variants_of[scenario]``: its variant names (used when
    the campaign names no algorithms); ``trace_counts[set]``: how many traces the set has."""
    trace_refs = [""]
    if campaign.traces:
        trace_refs = [f"{t}#{i}" for t in campaign.traces
                      for i in range(min(trace_counts[t], campaign.max_traces or trace_counts[t]))]
    out = []
    for scn in campaign.scenarios:
        for algo in campaign.algorithms or tuple(variants_of[scn]):
            for trace in trace_refs:
                for rep in range(campaign.repeats):
                    out.append(Cell(scn, algo, trace, rep, campaign.mode, campaign.ci))
    return out


# ---------------------------------------------------------------- aggregate

# Two-sided 95 % Student t quantiles by degrees of freedom (1..30); 1.96 beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (0 for one value)."""
    if not values:
        return math.nan, math.nan
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    df = len(values) - 1
    t = _T95[df - 1] if df <= len(_T95) else 1.96
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


METRICS = ("qoe_lin", "avg_bitrate_kbps", "rebuffer_ratio", "startup_s", "switches_per_min")


def aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``rows``: stored results (``cell`` fields + ``metrics`` or ``error``)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    failed: dict[tuple[str, str], int] = {}
    per_trace: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in rows:
        key = (row["scenario"], row["algorithm"])
        if row.get("error"):
            failed[key] = failed.get(key, 0) + 1
            groups.setdefault(key, [])
            continue
        groups.setdefault(key, []).append(row["metrics"])
        per_trace.setdefault((row["scenario"], row["trace"]), {}).setdefault(row["algorithm"], []).append(
            row["metrics"]["qoe_lin"])
    wins: dict[tuple[str, str], int] = {}
    trace_winners = []
    for (scn, trace), by_algo in sorted(per_trace.items()):
        means = {a: statistics.fmean(v) for a, v in by_algo.items()}
        best = max(means.values())
        winners = sorted(a for a, m in means.items() if m == best)
        for a in winners:
            wins[(scn, a)] = wins.get((scn, a), 0) + 1
        trace_winners.append({"scenario": scn, "trace": trace or "-", "winners": winners, "qoe_lin": round(best, 3)})
    table = []
    for (scn, algo), metrics in sorted(groups.items()):
        entry: dict[str, Any] = {"scenario": scn, "algorithm": algo, "runs": len(metrics),
                                 "failed": failed.get((scn, algo), 0), "trace_wins": wins.get((scn, algo), 0)}
        for name in METRICS:
            values = [float(m[name]) for m in metrics if m.get(name) is not None]
            mean, half = mean_ci(values)
            entry[name] = None if math.isnan(mean) else {"mean": round(mean, 4), "ci95": round(half, 4)}
        table.append(entry)
    return {"groups": table, "trace_winners": trace_winners}


def format_aggregate(agg: Mapping[str, Any]) -> str:
    head = f"{'scenario':<16} {'algorithm':<12} {'runs':>4} {'fail':>4} {'QoE_lin (95% CI)':>20} " \
           f"{'kbps':>14} {'rebuf %':>13} {'wins':>4}"
    lines = [head, "-" * len(head)]
    for g in agg["groups"]:
        def cell(name: str, scale: float = 1.0, digits: int = 2) -> str:
            v = g[name]
            return "-" if v is None else f"{v['mean'] * scale:.{digits}f} ± {v['ci95'] * scale:.{digits}f}"
        lines.append(f"{g['scenario'][:16]:<16} {g['algorithm'][:12]:<12} {g['runs']:>4} {g['failed']:>4} "
                     f"{cell('qoe_lin'):>20} {cell('avg_bitrate_kbps', digits=0):>14} "
                     f"{cell('rebuffer_ratio', 100):>13} {g['trace_wins']:>4}")
    return "\n".join(lines)
