"""The QoE telemetry schema, version 1: defined once, used by the client and the collector.

Pure (stdlib only). A *batch* is what one upload carries::

    {"schema": 1, "batch_id": "<32 hex>", "installation_id": "<32 hex>", "sent_at": <unix s>,
     "app": "marquee/<version>", "dropped_total": int, "rejected_total": int,
     "events": [event, ...]}

and an *event* is::

    {"kind": <one of EVENTS>, "session_id": "<32 hex>", "seq": int, "ts": <unix s>, "t": <s since play>,
     "data": {<exactly the fields EVENTS[kind] names, with those types>}}

Nothing else is accepted: no free text beyond short codes and reasons, which are scrubbed
of anything that looks like an e-mail address, an IP address or a URL (``scrub``), and the
collector rejects a batch that still contains one (``privacy_violations``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

SCHEMA_VERSION = 1
MAX_EVENTS_PER_BATCH = 2000
MAX_STRING = 120

# type codes: "num" float/int, "int", "str", "bool", "num?"/"str?" may be null
EVENTS: Mapping[str, Mapping[str, str]] = {
    "attempt": {"title_id": "str?", "episode_id": "str?", "start_s": "num", "protocol": "str", "network": "str"},
    "startup": {"startup_ms": "num"},
    "exit_before_start": {"waited_ms": "num", "reason": "str"},
    "stall_start": {"position_s": "num", "buffer_s": "num", "throughput_kbps": "num"},
    "stall_end": {"stall_ms": "num", "buffer_s": "num", "throughput_kbps": "num"},
    "switch": {"from_rung": "int", "to_rung": "int", "from_kbps": "num", "to_kbps": "num", "reason": "str"},
    "segment": {"rung": "int", "bytes": "int", "download_ms": "num", "oca": "str", "throughput_kbps": "num",
                "bitrate_kbps": "num"},
    "failover": {"from_oca": "str", "to_oca": "str", "reason": "str", "cost_ms": "num"},
    "error": {"category": "str", "code": "str", "recoverable": "bool"},
    "heartbeat": {"position_s": "num", "buffer_s": "num", "bitrate_kbps": "num", "state": "str", "oca": "str"},
    "session_end": {"startup_ms": "num?", "played_s": "num", "stall_count": "int", "stall_ms": "num",
                    "switches": "int", "avg_bitrate_kbps": "num", "failovers": "int", "errors": "int", "ok": "bool",
                    "reason": "str"},
}
# Every number has a range for its field (a finite sum of in-range values stays finite), and the
# names that reach the dashboard's plots allow only plain characters (no '$' or '\\': matplotlib
# would read them as mathtext). The client clamps and cleans (``make_data``); the collector refuses.
NAME_FIELDS = frozenset({"title_id", "episode_id", "oca", "from_oca", "to_oca"})
NAME = re.compile(r"^[A-Za-z0-9 _.:<>/+()-]{0,64}$")
_NAME_BAD = re.compile(r"[^A-Za-z0-9 _.:<>/+()-]")


def bounds(key: str) -> tuple[float, float]:
    """The allowed range of the number field ``key``."""
    if key in ("ts", "sent_at"):
        return 0.0, 4_102_444_800.0  # 1970..2100
    if key == "t":
        return -1e6, 1e8
    if key in ("rung", "from_rung", "to_rung"):
        return -1, 1000
    if key == "bytes":
        return 0, 1e13
    for suffix, hi in (("_ms", 1e9), ("_s", 1e8), ("_kbps", 1e9)):
        if key.endswith(suffix):
            return 0.0, hi
    return 0, 1e12


def clean_name(text: str) -> str:
    return _NAME_BAD.sub("_", text)[:64]


ENVELOPE = ("kind", "session_id", "seq", "ts", "t", "data")
BATCH_KEYS = ("schema", "batch_id", "installation_id", "sent_at", "app", "dropped_total", "rejected_total", "events")

_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}\b|\[[0-9a-fA-F:]+\]")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


class SchemaError(ValueError):
    pass


def scrub(text: str) -> str:
    """Remove what could identify a person or a network: URLs, e-mail addresses, IP addresses."""
    text = _URL.sub("<url>", text)
    text = _EMAIL.sub("<email>", text)
    text = _IPV6.sub("<ip>", _IPV4.sub("<ip>", text))
    return text[:MAX_STRING]


def privacy_violations(value: Any) -> list[str]:
    """Strings anywhere in ``value`` that look like an e-mail address, an IP address or a URL."""
    found: list[str] = []
    if isinstance(value, str):
        if _EMAIL.search(value) or _IPV4.search(value) or _IPV6.search(value) or _URL.search(value):
            found.append(value[:60])
    elif isinstance(value, Mapping):
        for v in value.values():
            found.extend(privacy_violations(v))
    elif isinstance(value, (list, tuple)):
        for v in value:
            found.extend(privacy_violations(v))
    return found


def _check(kind: str, key: str, code: str, value: Any) -> None:
    base, optional = code.rstrip("?"), code.endswith("?")
    if value is None:
        if optional:
            return
        raise SchemaError(f"{kind}.{key} must not be null")
    ok = {
        "num": isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "str": isinstance(value, str) and len(value) <= MAX_STRING,
        "bool": isinstance(value, bool),
    }[base]
    if not ok:
        raise SchemaError(f"{kind}.{key} must be {base}" + (f" (at most {MAX_STRING} characters)" if base == "str" else ""))
    if base in ("num", "int"):
        lo, hi = bounds(key)
        if not lo <= value <= hi:
            raise SchemaError(f"{kind}.{key} must be between {lo:g} and {hi:g}")
    elif base == "str" and key in NAME_FIELDS and not NAME.match(value):
        raise SchemaError(f"{kind}.{key} may have at most 64 letters, digits, spaces and ._:<>/+()-")


def _clamped(key: str, code: str, value: Any) -> Any:
    """A client-side value made to fit its field: numbers into range, names cleaned."""
    if isinstance(value, str):
        value = scrub(value)
        return clean_name(value) if key in NAME_FIELDS else value
    if code.rstrip("?") in ("num", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = bounds(key)
        if isinstance(value, float) and not math.isfinite(value):
            return value  # left for _check to refuse: a client bug, not a value to invent
        return type(value)(min(max(value, lo), hi))
    return value


def make_data(kind: str, **fields: Any) -> dict[str, Any]:
    """The ``data`` of an event of ``kind``: exactly the schema's fields, strings scrubbed."""
    spec = EVENTS.get(kind)
    if spec is None:
        raise SchemaError(f"unknown event kind {kind!r}")
    missing = set(spec) - set(fields)
    extra = set(fields) - set(spec)
    if missing or extra:
        raise SchemaError(f"{kind}: missing {sorted(missing)}, unknown {sorted(extra)}")
    data = {k: _clamped(k, spec[k], v) for k, v in fields.items()}
    for key, code in spec.items():
        _check(kind, key, code, data[key])
    return data


def validate_event(event: Any) -> None:
    if not isinstance(event, Mapping):
        raise SchemaError("an event must be an object")
    if set(event) != set(ENVELOPE):
        raise SchemaError(f"an event has exactly the keys {list(ENVELOPE)}")
    kind = event["kind"]
    if kind not in EVENTS:
        raise SchemaError(f"unknown event kind {kind!r}")
    if not isinstance(event["session_id"], str) or not _HEX_ID.match(event["session_id"]):
        raise SchemaError("session_id must be 32 lowercase hex digits")
    _check(kind, "seq", "int", event["seq"])
    _check(kind, "ts", "num", event["ts"])
    _check(kind, "t", "num", event["t"])
    data = event["data"]
    if not isinstance(data, Mapping) or set(data) != set(EVENTS[kind]):
        raise SchemaError(f"{kind}.data has exactly the keys {sorted(EVENTS[kind])}")
    for key, code in EVENTS[kind].items():
        _check(kind, key, code, data[key])


def validate_batch(batch: Any) -> None:
    """Raise ``SchemaError`` unless ``batch`` is a valid version-1 batch with no personal data."""
    if not isinstance(batch, Mapping) or set(batch) != set(BATCH_KEYS):
        raise SchemaError(f"a batch has exactly the keys {list(BATCH_KEYS)}")
    if batch["schema"] != SCHEMA_VERSION:
        raise SchemaError(f"unsupported schema version {batch['schema']!r} (this collector speaks {SCHEMA_VERSION})")
    for key in ("batch_id", "installation_id"):
        if not isinstance(batch[key], str) or not _HEX_ID.match(batch[key]):
            raise SchemaError(f"{key} must be 32 lowercase hex digits")
    _check("batch", "sent_at", "num", batch["sent_at"])
    _check("batch", "app", "str", batch["app"])
    for key in ("dropped_total", "rejected_total"):
        _check("batch", key, "int", batch[key])
    events = batch["events"]
    if not isinstance(events, list) or not 0 < len(events) <= MAX_EVENTS_PER_BATCH:
        raise SchemaError(f"events must be a list of 1..{MAX_EVENTS_PER_BATCH} events")
    for event in events:
        validate_event(event)
    leaks = privacy_violations(batch)
    if leaks:
        raise SchemaError(f"the batch contains personal or network data: {leaks[:3]}")
