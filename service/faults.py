"""OCA fault injection: the fault description, per-request planning and link pacing. Pure.

A ``FaultSpec`` (the wire contract's, ``contract.faults``) is what ``PUT /v1/admin/ocas/{id}/faults`` sets (it replaces the
previous one; ``DELETE`` clears it). ``plan_request`` turns it into what one
response must do, using an injected RNG (seeded from ``seed`` so tests repeat).
``Link`` paces bytes like a slow link: every chunk reserves time on the OCA's one
link (shared by its concurrent responses, FIFO in small chunks), so a single
response sees exactly the cap and parallel responses share it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import msgspec

from contract.faults import FIELDS, RULES, FaultSpec

__all__ = ["FIELDS", "FaultSpec", "FaultSpecError", "parse_fault_spec", "plan_request"]


class FaultSpecError(ValueError):
    pass


def parse_fault_spec(body: Any) -> FaultSpec:
    """``body`` as the contract's ``FaultSpec``, or ``FaultSpecError`` saying which field is wrong and how."""
    if not isinstance(body, Mapping):
        raise FaultSpecError("the fault description must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise FaultSpecError(f"unknown fault field(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    fields = {k: v for k, v in body.items() if k != "trace"}
    try:
        spec = msgspec.convert(fields, FaultSpec)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition("$.")[2].strip("`").split("[")[0].split(".")[0]
        raise FaultSpecError(f"{where} must be {RULES.get(where, 'valid')}" if where in RULES else str(exc)) from None
    if body.get("trace") is not None:
        if spec.throughput_kbps is not None:
            raise FaultSpecError("give either throughput_kbps or trace, not both")
        spec = msgspec.structs.replace(spec, trace=parse_trace(body["trace"]))
    return spec


def parse_trace(raw: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise FaultSpecError("trace must be a non-empty list of [t_s, mbps] pairs")
    points: list[tuple[float, float]] = []
    for i, p in enumerate(raw):
        if (not isinstance(p, Sequence) or isinstance(p, str) or len(p) != 2
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in p)):
            raise FaultSpecError(f"trace[{i}] must be a pair of numbers [t_s, mbps]")
        t, mbps = float(p[0]), float(p[1])
        if t < 0 or mbps < 0:
            raise FaultSpecError(f"trace[{i}] has a negative time or rate")
        if points and t <= points[-1][0]:
            raise FaultSpecError(f"trace[{i}]: times must increase")
        points.append((t, mbps))
    if all(m == 0 for _, m in points):
        raise FaultSpecError("trace never delivers any bytes (every rate is 0)")
    return tuple(points)


@dataclass(frozen=True)
class RequestPlan:
    """What one response does. ``error_status`` set: answer that and nothing else."""

    error_status: int | None = None
    latency_s: float = 0.0
    stall_after: int | None = None
    truncate_after: int | None = None
    corrupt: bool = False
    shaped: bool = False


def plan_request(spec: FaultSpec, rng: random.Random, path: str) -> RequestPlan:
    if spec.paths is not None and spec.paths not in path:
        return RequestPlan()
    if spec.error_rate > 0 and rng.random() < spec.error_rate:
        return RequestPlan(error_status=spec.error_status, latency_s=spec.latency_ms / 1000)
    return RequestPlan(latency_s=spec.latency_ms / 1000, stall_after=spec.stall_after_bytes,
                       truncate_after=spec.truncate_after_bytes, corrupt=spec.corrupt, shaped=spec.shapes())


def corrupt_chunk(chunk: bytes, offset: int) -> bytes:
    """Flip every bit of the bytes at file offsets 0..7, and of one byte in every 1 KiB
    (offset % 1024 == 512); deterministic, and every response of 8 bytes or more is damaged."""
    data = bytearray(chunk)
    for i in range(len(data)):
        pos = offset + i
        if pos < 8 or pos % 1024 == 512:
            data[i] ^= 0xFF
    if offset >= 8 and data == chunk and data:  # a range past the first bytes with no marked byte: flip its first
        data[0] ^= 0xFF
    return bytes(data)


@dataclass
class Rate:
    """Bytes per second over time: a constant cap or a trace (times relative to ``t0``)."""

    t0: float
    kbps: int | None = None
    trace: tuple[tuple[float, float], ...] = ()

    def segments(self, start: float) -> list[tuple[float, float, float]]:
        """(begin, end, bytes_per_s) pieces covering [start, inf) in absolute time."""
        if self.kbps is not None:
            return [(start, math.inf, self.kbps * 1000 / 8)]
        out = []
        pts = list(self.trace)
        for i, (t, mbps) in enumerate(pts):
            begin = self.t0 + (t if i > 0 else -math.inf)
            end = self.t0 + pts[i + 1][0] if i + 1 < len(pts) else math.inf
            if end <= start:
                continue
            out.append((max(begin, start), end, mbps * 1e6 / 8))
        return out

    def bytes_per_s(self, at: float) -> float:
        return self.segments(at)[0][2]

    def finish_time(self, start: float, nbytes: int) -> float:
        """When ``nbytes`` that begin at ``start`` have crossed the link (inf if never)."""
        remaining = float(nbytes)
        for begin, end, bps in self.segments(start):
            if bps <= 0:
                continue
            span = end - begin
            if remaining <= bps * span:
                return begin + remaining / bps
            remaining -= bps * span
        return math.inf


@dataclass
class Link:
    """One OCA's shaped link. ``reserve`` returns when a chunk's last byte may leave."""

    rate: Rate
    next_free: float = field(default=-math.inf)
    catch_up_s: float = 0.2

    def reserve(self, now: float, nbytes: int, *, continuing: bool) -> float:
        # A response that keeps sending may start where the link became free even if
        # that is slightly in the past (sleep overshoot must not slow the link); a new
        # one cannot claim idle time it did not use.
        earliest = now - self.catch_up_s if continuing else now
        start = max(self.next_free, earliest)
        done = self.rate.finish_time(start, nbytes)
        self.next_free = done
        return done

    def chunk_size(self, now: float) -> int:
        """About 10 ms of data at the current rate, 512 B .. 64 KiB."""
        bps = self.rate.bytes_per_s(max(now, self.next_free if math.isfinite(self.next_free) else now))
        return int(min(65536, max(512, bps * 0.01)))
