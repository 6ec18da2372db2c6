"""Client-side throttling: our own downloads shaped to a throughput trace.

QA can throttle any stream, third-party ones included, without root: every byte the
fetcher reads waits for its turn on a virtual link whose capacity follows the trace.
All concurrent downloads share that one link, as they would share a real one.

``LinkSchedule`` is pure (when would n bytes finish if sent from t); ``TraceShaper``
is the thin async adapter that sleeps until then.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from abr.traces import PRESETS, Trace, load_trace_file, preset
from marquee.clock import Clock
from marquee.errors import ConfigError

_CONSTANT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(k|m)?bit(?:/s|ps)?\s*$", re.IGNORECASE)


class LinkSchedule:
    """Bandwidth as a step function of time (Pensieve semantics: ``bw[i]`` applies on
    ``(t[i-1], t[i]]``), wrapping around at the end of the trace."""

    def __init__(self, trace: Trace) -> None:
        t0 = trace.times_s[0]
        self._times = [t - t0 for t in trace.times_s]
        self._bytes_per_s = [mbps * 1e6 / 8 for mbps in trace.bw_mbps]
        self.period_s = self._times[-1]
        if not any(self._bytes_per_s[1:]):
            raise ConfigError(f"trace {trace.name}: bandwidth is zero throughout")

    def finish_time(self, start_s: float, nbytes: float) -> float:
        """When ``nbytes`` sent from ``start_s`` (seconds since the link opened) are delivered."""
        t = max(0.0, start_s)
        remaining = float(nbytes)
        while remaining > 1e-9:
            cycle, local = divmod(t, self.period_s)
            i = min(bisect.bisect_right(self._times, local), len(self._times) - 1)
            i = max(i, 1)
            interval_end = self._times[i]
            rate = self._bytes_per_s[i]
            span = interval_end - local
            if span <= 1e-12:  # exactly on a boundary: step into the next interval
                t = cycle * self.period_s + interval_end + 1e-9
                continue
            if rate * span >= remaining:
                return t + remaining / rate
            remaining -= rate * span
            t = cycle * self.period_s + interval_end
        return t


class TraceShaper:
    """Paces reads so the bytes of all downloads together follow the trace."""

    def __init__(self, schedule: LinkSchedule, clock: Clock) -> None:
        self.schedule = schedule
        self.clock = clock
        self.t0 = clock.monotonic()
        self._link_free_at = 0.0  # link time at which the previous bytes finish

    # A read that comes at most this late after the link became free continues where the
    # link stopped: the gap is our own sleep overshoot, not idle time (otherwise every
    # overshoot is lost and the link under-delivers by a few percent, as the OCAs' Link).
    catch_up_s = 0.2

    async def pace(self, nbytes: int) -> None:
        now = self.clock.monotonic() - self.t0
        free = self._link_free_at
        start = free if free >= now - self.catch_up_s else now
        done = self.schedule.finish_time(start, nbytes)
        self._link_free_at = done
        delay = done - now
        if delay > 0:
            await self.clock.sleep(delay)


def constant_trace(mbps: float, name: str = "constant") -> Trace:
    return Trace(name, (0.0, 3600.0), (mbps, mbps))


def resolve_throttle(spec: str) -> Trace:
    """A preset name (3g, lte, cable, satellite, wifi-lossy), a constant rate such as
    ``2mbit`` or ``800kbit``, or a trace file (``time_s Mbit/s`` lines, or Mahimahi)."""
    match = _CONSTANT.match(spec)
    if match:
        value = float(match.group(1)) * (1e-3 if (match.group(2) or "").lower() == "k" else 1.0)
        if value <= 0:
            raise ConfigError(f"--throttle {spec!r}: the rate must be positive")
        return constant_trace(value, spec)
    if spec in PRESETS:
        return preset(spec, sessions=1).traces[0]
    path = Path(spec).expanduser()
    if path.is_file():
        return load_trace_file(path)
    raise ConfigError(
        f"--throttle {spec!r} is neither a preset ({', '.join(PRESETS)}), "
        "a rate like 2mbit, nor a trace file"
    )
