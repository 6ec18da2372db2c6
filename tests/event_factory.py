"""Typed engine events for tests: name the kind and the fields that matter; the rest
take neutral values (0, "", False), so a test says only what it is about."""

from __future__ import annotations

import dataclasses
from typing import Any

from player.events import EVENT_TYPES, PlayerEvent, TrackInfo

_NEUTRAL: dict[str, Any] = {"int": 0, "float": 0.0, "str": "", "bool": False}


def event(kind: str, t: float = 0.0, **fields: Any) -> PlayerEvent:
    cls = EVENT_TYPES[kind]
    values: dict[str, Any] = {"t": t}
    for f in dataclasses.fields(cls):
        if f.name == "t":
            continue
        if f.name in fields:
            value = fields[f.name]
            if f.name == "tracks":
                value = tuple(v if isinstance(v, TrackInfo) else TrackInfo(**v) for v in value)
            values[f.name] = value
        elif f.default is dataclasses.MISSING:
            values[f.name] = _NEUTRAL[str(f.type).split(" ")[0]]
    unknown = set(fields) - set(values)
    if unknown:
        raise TypeError(f"{kind} has no field(s) {sorted(unknown)}")
    return cls(**values)  # type: ignore[return-value]
