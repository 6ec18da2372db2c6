"""Named, documented controller parameters, parsed from ``k=v`` strings.

Each controller declares a frozen dataclass; every field has a default and a ``doc`` in its
metadata (see :func:`param`). The CLI (``--param k=v``) and the app's QA settings both pass a
``Mapping[str, str]`` through :func:`parse_params`, which raises
:class:`marquee.errors.ConfigError` on an unknown name, a value of the wrong type or a value
out of range (``check`` in the metadata).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from marquee.errors import ConfigError

from abr.api import ParamDoc

T = TypeVar("T")


def param(default: Any, doc: str, check: Callable[[Any], bool] | None = None, rule: str = "") -> Any:
    """A dataclass field with documentation and an optional validity check."""
    return dataclasses.field(default=default, metadata={"doc": doc, "check": check, "rule": rule})


def positive(x: float) -> bool:
    return x > 0


def non_negative(x: float) -> bool:
    return x >= 0


def unit_interval(x: float) -> bool:
    return 0 < x <= 1


def _convert(raw: str, kind: Any, name: str) -> Any:
    text = raw.strip()
    try:
        if kind in (bool, "bool"):
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind in (int, "int"):
            return int(text)
        if kind in (float, "float"):
            return float(text)
        if kind in (str, "str"):
            return text
    except ValueError:
        pass
    else:
        raise ConfigError(f"parameter {name!r}: unsupported type {kind!r}")
    raise ConfigError(
        f"parameter {name!r}: {raw!r} is not a valid {getattr(kind, '__name__', kind)}",
        user_message=f"Invalid value for ABR setting {name}: {raw}",
        code="abr_param_invalid",
    )


def parse_params(cls: type[T], values: Mapping[str, str], algo: str) -> T:
    """Build ``cls`` from string values; unknown names and bad values raise ConfigError."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, raw in values.items():
        name = key.strip().replace("-", "_")
        if name not in fields:
            known = ", ".join(sorted(fields)) or "(none)"
            raise ConfigError(
                f"unknown parameter {key!r} for ABR algorithm {algo!r}; known: {known}",
                user_message=f"Unknown ABR setting {key} for {algo}",
                code="abr_param_unknown",
            )
        f = fields[name]
        value = raw if not isinstance(raw, str) else _convert(raw, f.type, name)
        check = f.metadata.get("check")
        if check is not None and not check(value):
            rule = f.metadata.get("rule") or "out of range"
            raise ConfigError(
                f"parameter {name!r} for {algo!r}: {raw!r} is invalid ({rule})",
                user_message=f"Invalid value for ABR setting {name}: {raw}",
                code="abr_param_invalid",
            )
        kwargs[name] = value
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        problem = validate()
        if problem:
            raise ConfigError(f"parameters for {algo!r}: {problem}", code="abr_param_invalid")
    return obj


def describe(cls: type) -> tuple[ParamDoc, ...]:
    return tuple(
        ParamDoc(f.name, str(f.default), str(f.metadata.get("doc", "")))
        for f in dataclasses.fields(cls)
    )


def parse_kv(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a pair without ``=`` is a ConfigError."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects k=v, got {pair!r}", code="abr_param_syntax")
        out[key.strip()] = value
    return out
