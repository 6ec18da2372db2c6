"""Network traces: file formats and synthetic presets.

A :class:`Trace` is a throughput step function: ``bw_mbps[i]`` applies to the interval
``(times_s[i-1], times_s[i]]`` (the value on line 0 is never used), as in Pensieve.

Readable formats (:func:`load_trace_file`, detected per file):

* Pensieve / cooked: ``<time_s> <Mbit/s>`` per line (tab or spaces), time starting at 0.
* Mahimahi packet delivery: one integer per line, a millisecond timestamp at which one
  1500-byte packet may be delivered (repeated timestamps = several packets). Converted to the
  step format by counting bytes in ``bin_s`` bins (default 1 s).

Synthetic presets (:data:`PRESETS`, generated deterministically from a seed, 620 s each so a
10-minute session fits): ``3g``, ``lte``, ``cable``, ``satellite``, ``wifi-lossy``. Each
preset trace carries its own round-trip time. ``fcc`` and ``hsdpa`` name the bundled
benchmark sets in ``assets/traces``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marquee.errors import ConfigError

MAHIMAHI_PACKET_BYTES = 1500


@dataclass(frozen=True)
class Trace:
    name: str
    times_s: tuple[float, ...]
    bw_mbps: tuple[float, ...]
    rtt_s: float | None = None  # None: the simulator's default (80 ms, as Pensieve)

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.bw_mbps) or len(self.times_s) < 2:
            raise ConfigError(f"trace {self.name}: needs at least two (time, bandwidth) samples")
        if any(b < 0 for b in self.bw_mbps):
            raise ConfigError(f"trace {self.name}: negative bandwidth")
        if any(b <= a for a, b in zip(self.times_s, self.times_s[1:])):
            raise ConfigError(f"trace {self.name}: times must increase")

    @property
    def duration_s(self) -> float:
        return self.times_s[-1] - self.times_s[0]

    @property
    def mean_mbps(self) -> float:
        t, b = self.times_s, self.bw_mbps
        return sum(b[i] * (t[i] - t[i - 1]) for i in range(1, len(t))) / self.duration_s


@dataclass(frozen=True)
class TraceSet:
    name: str
    traces: tuple[Trace, ...]


# ---------------------------------------------------------------- files

def _parse_lines(text: str, name: str, bin_s: float) -> Trace:
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"trace {name}: empty file")
    try:
        if all(len(r) == 1 for r in rows):
            return mahimahi_to_trace([int(r[0]) for r in rows], name, bin_s)
        times = [float(r[0]) for r in rows]
        bws = [float(r[1]) for r in rows]
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"trace {name}: unreadable line ({exc})") from exc
    return Trace(name, tuple(times), tuple(bws))


def mahimahi_to_trace(stamps_ms: list[int], name: str, bin_s: float = 1.0) -> Trace:
    """Packet-delivery timestamps (ms) -> step trace with ``bin_s`` bins.

    Bin ``i`` (``(i*bin_s, (i+1)*bin_s]`` in ms resolution: timestamps ``t`` with
    ``i*bin < t <= (i+1)*bin``, timestamp 0 counting in the first bin) gives the bandwidth of
    line ``i+1``; the trace covers up to the last timestamp rounded up to a whole bin.
    """
    if not stamps_ms or any(s < 0 for s in stamps_ms):
        raise ConfigError(f"trace {name}: empty or negative mahimahi timestamps")
    bin_ms = bin_s * 1000.0
    n_bins = max(1, math.ceil(max(stamps_ms) / bin_ms))
    counts = [0] * n_bins
    for s in stamps_ms:
        idx = max(0, math.ceil(s / bin_ms) - 1)
        counts[min(idx, n_bins - 1)] += 1
    times = [i * bin_s for i in range(n_bins + 1)]
    bws = [0.0] + [c * MAHIMAHI_PACKET_BYTES * 8 / bin_s / 1e6 for c in counts]
    bws[0] = bws[1]
    return Trace(name, tuple(times), tuple(bws))


def load_trace_file(path: Path, bin_s: float = 1.0) -> Trace:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read trace {path}: {exc}") from exc
    return _parse_lines(text, path.name, bin_s)


def load_trace_dir(path: Path, bin_s: float = 1.0) -> TraceSet:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                   and not p.name.upper().startswith("README")
                   and p.suffix.lower() not in (".md", ".json", ".html"))
    if not files:
        raise ConfigError(f"no trace files in {path}")
    return TraceSet(path.name, tuple(load_trace_file(p, bin_s) for p in files))


def bundled_traces_dir() -> Path:
    from assets import ASSETS_DIR

    return ASSETS_DIR / "traces"


# ---------------------------------------------------------------- presets

def _regimes(rng: np.random.Generator, n: int, levels: list[float], dwell_s: tuple[float, float],
             step_s: float) -> np.ndarray:
    """Piecewise-constant regime levels with random dwell times (Markov switching)."""
    out = np.empty(n)
    i = 0
    state = int(rng.integers(len(levels)))
    while i < n:
        dwell = int(max(1, rng.uniform(*dwell_s) / step_s))
        out[i:i + dwell] = levels[state]
        i += dwell
        state = int(rng.integers(len(levels)))
    return out


def _episodes(rng: np.random.Generator, n: int, every_s: float, length_s: tuple[float, float],
              depth: tuple[float, float], step_s: float) -> np.ndarray:
    """Multiplicative dips (outages, fades, handovers): 1 outside, ``depth`` inside."""
    factor = np.ones(n)
    t = rng.exponential(every_s)
    while t < n * step_s:
        length = rng.uniform(*length_s)
        a, b = int(t / step_s), int((t + length) / step_s) + 1
        factor[a:b] = rng.uniform(*depth)
        t += length + rng.exponential(every_s)
    return factor


def _make(name: str, bw: np.ndarray, step_s: float, rtt_s: float, idx: int) -> Trace:
    bw = np.clip(bw, 0.02, None)
    times = tuple(round(i * step_s, 6) for i in range(len(bw)))
    return Trace(f"{name}_{idx:02d}", times, tuple(round(float(x), 4) for x in bw), rtt_s)


def _gen_3g(rng: np.random.Generator, idx: int, seconds: float) -> Trace:
    step = 1.0
    n = int(seconds / step) + 1
    base = _regimes(rng, n, [0.35, 0.8, 1.4, 2.2], (8, 40), step)
    noise = np.exp(rng.normal(0, 0.35, n))
    dips = _episodes(rng, n, 45, (1, 5), (0.02, 0.15), step)
    return _make("3g", base * noise * dips, step, 0.15, idx)


def _gen_lte(rng: np.random.Generator, idx: int, seconds: float) -> Trace:
    step = 1.0
    n = int(seconds / step) + 1
    base = _regimes(rng, n, [1.2, 2.5, 4.5, 8.0], (10, 60), step)
    noise = np.exp(rng.normal(0, 0.3, n))
    handovers = _episodes(rng, n, 60, (0.5, 2.5), (0.05, 0.2), step)
    return _make("lte", base * noise * handovers, step, 0.06, idx)


def _gen_cable(rng: np.random.Generator, idx: int, seconds: float) -> Trace:
    step = 1.0
    n = int(seconds / step) + 1
    plan = rng.uniform(1.5, 8.0)
    noise = np.exp(rng.normal(0, 0.06, n))
    congestion = _episodes(rng, n, 120, (20, 90), (0.35, 0.7), step)
    return _make("cable", plan * noise * congestion, step, 0.025, idx)


def _gen_satellite(rng: np.random.Generator, idx: int, seconds: float) -> Trace:
    step = 1.0
    n = int(seconds / step) + 1
    plan = rng.uniform(1.2, 5.0)
    noise = np.exp(rng.normal(0, 0.2, n))
    fades = _episodes(rng, n, 150, (20, 80), (0.2, 0.5), step)
    return _make("satellite", plan * noise * fades, step, 0.6, idx)


def _gen_wifi_lossy(rng: np.random.Generator, idx: int, seconds: float) -> Trace:
    step = 0.5
    n = int(seconds / step) + 1
    plan = rng.uniform(1.5, 6.0)
    noise = np.exp(rng.normal(0, 0.5, n))
    bursts = _episodes(rng, n, 15, (0.5, 4), (0.03, 0.2), step)
    return _make("wifi-lossy", plan * noise * bursts, step, 0.03, idx)


PRESETS: dict[str, tuple[str, Callable[[np.random.Generator, int, float], Trace]]] = {
    "3g": ("HSDPA-like: 4 regimes 0.35-2.2 Mbit/s, 35% jitter, short outages; RTT 150 ms", _gen_3g),
    "lte": ("regimes 1.2-8 Mbit/s, 30% jitter, handover dips every ~60 s; RTT 60 ms", _gen_lte),
    "cable": ("steady plan 1.5-8 Mbit/s, 6% jitter, congestion episodes at 35-70%; RTT 25 ms", _gen_cable),
    "satellite": ("plan 1.2-5 Mbit/s, 20% jitter, rain fades to 20-50%; RTT 600 ms", _gen_satellite),
    "wifi-lossy": ("plan 1.5-6 Mbit/s, 50% jitter at 0.5 s, loss bursts to 3-20% every ~15 s; RTT 30 ms",
                   _gen_wifi_lossy),
}

PRESET_SESSIONS = 40
PRESET_SECONDS = 620.0


def preset(name: str, sessions: int = PRESET_SESSIONS, seconds: float = PRESET_SECONDS, seed: int = 7) -> TraceSet:
    if name not in PRESETS:
        raise ConfigError(f"unknown trace preset {name!r}; known: {', '.join(PRESETS)}")
    gen = PRESETS[name][1]
    base = sum(ord(c) for c in name) * 1000 + seed
    traces = tuple(gen(np.random.default_rng(base + i), i, seconds) for i in range(sessions))
    return TraceSet(name, traces)


def resolve_traces(spec: str) -> list[TraceSet]:
    """A directory, a file, a preset name, ``fcc``/``hsdpa`` (bundled) or ``presets`` (all five)."""
    if spec == "presets":
        return [preset(n) for n in PRESETS]
    if spec in PRESETS:
        return [preset(spec)]
    if spec in ("fcc", "hsdpa"):
        return [load_trace_dir(bundled_traces_dir() / spec)]
    path = Path(spec).expanduser()
    if path.is_dir():
        return [load_trace_dir(path)]
    if path.is_file():
        return [TraceSet(path.name, (load_trace_file(path),))]
    raise ConfigError(
        f"--traces {spec!r} is neither a directory, a file nor a preset "
        f"(fcc, hsdpa, presets, {', '.join(PRESETS)})"
    )
