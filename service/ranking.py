"""Server-side OCA ranking for the playback API. Pure.

score = weight x health x (1 - load)

- weight: configured per OCA (default 1.0, 0.95, 0.90, ... so the order is stable),
  changeable with ``PATCH /v1/admin/ocas/{id}``;
- health: 0 when the OCA is down, else 1 - (recent error ratio, an EWMA over
  requests with alpha 0.1), floored at 0.05 so a flaky OCA still ranks above a dead one;
- load: active responses / capacity (default 50), capped at 0.9.

Ties break by OCA id. Down OCAs are still listed (last), so a client that sees
every OCA refuse can keep retrying them; at most 10 are returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

MAX_RANKED = 10


@dataclass(frozen=True)
class OcaState:
    id: str
    weight: float
    down: bool
    error_ratio: float  # 0..1, recent
    active: int
    capacity: int = 50


@dataclass(frozen=True)
class RankedOca:
    id: str
    rank: int
    score: float


def score(oca: OcaState) -> float:
    if oca.down:
        return 0.0
    health = max(0.05, 1.0 - oca.error_ratio)
    load = min(0.9, oca.active / max(1, oca.capacity))
    return oca.weight * health * (1.0 - load)


def rank_ocas(ocas: Sequence[OcaState], limit: int = MAX_RANKED) -> list[RankedOca]:
    scored = sorted(((score(o), o.id) for o in ocas), key=lambda p: (-p[0], p[1]))
    return [RankedOca(id=oid, rank=i + 1, score=round(s, 4)) for i, (s, oid) in enumerate(scored[:limit])]


def ewma(previous: float, outcome_is_error: bool, alpha: float = 0.1) -> float:
    return (1 - alpha) * previous + alpha * (1.0 if outcome_is_error else 0.0)
