"""``POST /v1/telemetry/batches``: the envelope of a QoE batch (schema version 1).

The per-kind fields of ``data`` and their ranges are ``telemetry.schema``'s (one table the
client's ``make_data`` and the collector's ``validate_batch`` share); this is the shape.
"""

from __future__ import annotations

import msgspec

Scalar = str | int | float | bool | None


class TelemetryEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str
    session_id: str
    seq: int
    ts: float
    t: float
    data: dict[str, Scalar]


class TelemetryBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    schema: int
    batch_id: str
    installation_id: str
    sent_at: float
    app: str
    dropped_total: int
    rejected_total: int
    events: tuple[TelemetryEvent, ...]


class BatchReceipt(msgspec.Struct, frozen=True):
    """The collector's answer: ``stored`` false for a batch it already has (a retry)."""

    batch_id: str
    stored: bool
    events: int
