"""Rank OCAs by what we measured, not only by the order we were given.

Pure decision logic: every method takes ``now`` (monotonic seconds) explicitly.

Score (higher is better), in "log2 of effective throughput" units:

    score = log2(throughput_bps) - latency_s / LATENCY_UNIT_S - prior_rank * RANK_STEP - penalty

* throughput and latency are EWMAs of successful downloads (a cold OCA borrows the
  persisted history, or the median of the others, so it is not blind);
* ``prior_rank`` is the service's order: it breaks ties between OCAs we know little about;
* ``penalty`` is the sum of the OCA's failures, each decaying with ``penalty_half_life_s``.
  An OCA whose penalty is above ``bench_threshold`` is *benched*: it gets no traffic
  until the penalty decays below the threshold or a probe succeeds (probe back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

LATENCY_UNIT_S = 0.05  # 50 ms of latency costs as much as halving throughput
RANK_STEP = 0.25


@dataclass(frozen=True)
class RankingParams:
    ewma_alpha: float = 0.3
    penalty_half_life_s: float = 20.0
    penalty_per_failure: float = 4.0
    bench_threshold: float = 2.0
    probe_interval_s: float = 5.0
    # Stay on the OCA in use unless another scores this much better (1.0 = twice the
    # throughput): noise between healthy edges must not bounce traffic and its connections.
    stickiness: float = 1.0
    default_throughput_bps: float = 5_000_000.0
    default_latency_s: float = 0.05


@dataclass(frozen=True)
class OcaStats:
    """What we know of one OCA; persisted across sessions keyed by origin."""

    throughput_bps: float | None = None
    latency_s: float | None = None
    successes: int = 0
    failures: int = 0
    # (time, weight) of recent failures; decays, never persisted (monotonic time is per process).
    failure_marks: tuple[tuple[float, float], ...] = ()
    last_probe_t: float | None = None
    last_failure_reason: str = ""


def _ewma(old: float | None, sample: float, alpha: float) -> float:
    return sample if old is None else (1 - alpha) * old + alpha * sample


@dataclass
class OcaRanker:
    """Keeps per-OCA statistics and answers 'which OCA next' for one playback."""

    candidates: Sequence[str]  # OCA keys in the service's (prior) order
    params: RankingParams = field(default_factory=RankingParams)
    history: Mapping[str, OcaStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("an OCA ranker needs at least one candidate")
        self._prior = {key: i for i, key in enumerate(self.candidates)}
        self._stats: dict[str, OcaStats] = {}
        for key in self.candidates:
            past = self.history.get(key)
            # Keep what was measured, not the failures of another process's clock.
            self._stats[key] = replace(past, failure_marks=(), last_probe_t=None) if past else OcaStats()

    # -- observations -------------------------------------------------------
    def record_success(self, key: str, nbytes: int, seconds: float, latency_s: float, now: float) -> None:
        stats = self._stats[key]
        alpha = self.params.ewma_alpha
        throughput = stats.throughput_bps
        # Tiny bodies say little about throughput; they still prove the OCA is alive.
        if nbytes >= 16_384 and seconds > 0:
            throughput = _ewma(throughput, nbytes * 8 / seconds, alpha)
        self._stats[key] = replace(
            stats,
            throughput_bps=throughput,
            latency_s=_ewma(stats.latency_s, max(0.0, latency_s), alpha),
            successes=stats.successes + 1,
            # A success halves the outstanding penalty: one good answer after a probe brings a
            # benched OCA back, while an OCA that keeps failing accumulates penalty.
            failure_marks=tuple((t, w / 2) for t, w in stats.failure_marks),
        )

    def record_failure(self, key: str, reason: str, now: float, weight: float = 1.0) -> None:
        stats = self._stats[key]
        self._stats[key] = replace(
            stats,
            failures=stats.failures + 1,
            failure_marks=stats.failure_marks + ((now, weight * self.params.penalty_per_failure),),
            last_failure_reason=reason,
        )

    def record_probe(self, key: str, now: float) -> None:
        self._stats[key] = replace(self._stats[key], last_probe_t=now)

    # -- questions ----------------------------------------------------------
    def penalty(self, key: str, now: float) -> float:
        return sum(self._decayed(mark, now) for mark in self._stats[key].failure_marks)

    def is_benched(self, key: str, now: float) -> bool:
        return self.penalty(key, now) > self.params.bench_threshold

    def score(self, key: str, now: float) -> float:
        stats = self._stats[key]
        throughput = stats.throughput_bps or self._typical_throughput()
        latency = stats.latency_s if stats.latency_s is not None else self.params.default_latency_s
        return (
            math.log2(max(throughput, 1.0))
            - latency / LATENCY_UNIT_S
            - self._prior[key] * RANK_STEP
            - self.penalty(key, now)
        )

    def ranked(self, now: float, exclude: Iterable[str] = ()) -> list[str]:
        """Usable OCAs, best first. Benched ones are left out unless nothing else is left."""
        excluded = set(exclude)
        pool = [k for k in self.candidates if k not in excluded] or list(self.candidates)
        ordered = sorted(pool, key=lambda k: (-self.score(k, now), self._prior[k]))
        return [k for k in ordered if not self.is_benched(k, now)]

    def best(self, now: float, exclude: Iterable[str] = (), current: str | None = None) -> str | None:
        ranked = self.ranked(now, exclude)
        if not ranked:
            return None
        if current in ranked and self.score(current, now) >= self.score(ranked[0], now) - self.params.stickiness:
            return current
        return ranked[0]

    def all_benched(self, now: float) -> bool:
        return all(self.is_benched(k, now) for k in self.candidates)

    def least_penalized(self, now: float) -> str:
        """When every OCA is benched: the one to try first when backing off."""
        return min(self.candidates, key=lambda k: (self.penalty(k, now), self._prior[k]))

    def probes_due(self, now: float) -> list[str]:
        """Benched OCAs not probed for ``probe_interval_s``: check whether they came back."""
        due = []
        for key in self.candidates:
            last = self._stats[key].last_probe_t
            if self.is_benched(key, now) and (last is None or now - last >= self.params.probe_interval_s):
                due.append(key)
        return due

    def stats(self, key: str) -> OcaStats:
        return self._stats[key]

    def snapshot(self) -> dict[str, OcaStats]:
        return dict(self._stats)

    # -- internals ------------------------------------------------------------
    def _decayed(self, mark: tuple[float, float], now: float) -> float:
        t, weight = mark
        age = max(0.0, now - t)
        return weight * 0.5 ** (age / self.params.penalty_half_life_s)

    def _typical_throughput(self) -> float:
        known = sorted(s.throughput_bps for s in self._stats.values() if s.throughput_bps)
        return known[len(known) // 2] if known else self.params.default_throughput_bps
