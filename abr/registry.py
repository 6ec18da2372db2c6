"""Controller registry: ``make_controller(name, params)`` and ``algorithms()``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marquee.errors import ConfigError

from abr.api import AlgorithmInfo, Controller
from abr.baselines import Bba0, Bola, RobustMpc, ThroughputRule
from abr.default import BufferHysteresis
from abr.params import describe, parse_params

_CLASSES: dict[str, tuple[Any, str]] = {
    "default": (BufferHysteresis, "Marquee: buffer-based rate map (BBA-1/2) with hysteresis, safety cap, abandonment"),
    "throughput": (ThroughputRule, "highest rung under 0.9 x dual-EWMA throughput (Sabre)"),
    "bba0": (Bba0, "BBA-0 as in Pensieve's bb.py (reservoir 5 s, cushion 10 s)"),
    "bola": (Bola, "BOLA-BASIC (Sabre's Bola)"),
    "robustmpc": (RobustMpc, "RobustMPC, horizon 5 (Pensieve's mpc.py)"),
}


def algorithms() -> list[str]:
    """Names accepted by :func:`make_controller`, the default first."""
    return list(_CLASSES)


def algorithm_info(name: str) -> AlgorithmInfo:
    cls, summary = _lookup(name)
    return AlgorithmInfo(name, summary, describe(cls.Params))


def _lookup(name: str) -> tuple[Any, str]:
    key = name.strip().lower()
    if key not in _CLASSES:
        raise ConfigError(
            f"unknown ABR algorithm {name!r}; known: {', '.join(_CLASSES)}",
            user_message=f"Unknown ABR algorithm {name}",
            code="abr_unknown_algorithm",
        )
    return _CLASSES[key]


def make_controller(name: str, params: Mapping[str, str] | None = None) -> Controller:
    """A fresh controller; ``params`` are ``name -> string value`` (ConfigError if unknown or invalid)."""
    cls, _ = _lookup(name)
    p = parse_params(cls.Params, params or {}, name)
    controller: Controller = cls(p)
    return controller


def factory(name: str, params: Mapping[str, str] | None = None) -> Callable[[], Controller]:
    """Validate now, build later (one controller per trace set)."""
    make_controller(name, params)
    return lambda: make_controller(name, params)
