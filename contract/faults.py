"""``PUT /v1/admin/ocas/{id}/faults``: what an OCA edge server does wrong, on purpose (tests, QA).

The ranges are part of the contract (``Annotated`` bounds); the service's
``service.faults.parse_fault_spec`` checks a body against them and the trace's own rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Status = Annotated[int, msgspec.Meta(ge=400, le=599)]
Bytes = Annotated[int, msgspec.Meta(ge=0, le=1 << 40)]


class FaultSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    down: bool = False
    error_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    error_status: Status = 503
    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 0
    throughput_kbps: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | None = None
    trace: tuple[tuple[float, float], ...] = ()  # (t_s, mbps): piecewise constant from t_s, last value holds
    stall_after_bytes: Bytes | None = None
    truncate_after_bytes: Bytes | None = None
    corrupt: bool = False
    seed: Annotated[int, msgspec.Meta(ge=-(1 << 62), le=1 << 62)] | None = None
    paths: Annotated[str, msgspec.Meta(min_length=1)] | None = None  # only requests whose path contains it

    def is_empty(self) -> bool:
        return self == FaultSpec()

    def shapes(self) -> bool:
        return self.throughput_kbps is not None or bool(self.trace)

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from "no fault" (what the admin API shows and takes back)."""
        out: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if value != getattr(NO_FAULT, name):
                out[name] = [list(p) for p in value] if name == "trace" else value
        return out


FIELDS: tuple[str, ...] = FaultSpec.__struct_fields__
NO_FAULT = FaultSpec()
# In words, for a refusal a person reads ("latency_ms must be ..."), one per field.
RULES = {
    "down": "true or false", "corrupt": "true or false", "error_rate": "a number between 0 and 1",
    "error_status": "an integer between 400 and 599", "latency_ms": "an integer between 0 and 600000",
    "throughput_kbps": "an integer between 1 and 10000000", "stall_after_bytes": "an integer between 0 and 2^40",
    "truncate_after_bytes": "an integer between 0 and 2^40", "seed": "an integer between -2^62 and 2^62",
    "paths": "a non-empty string", "trace": "a non-empty list of [t_s, mbps] pairs",
}
