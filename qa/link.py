"""One emulated link for any player (the pure half of ``marquee qa link``).

* :func:`link_scenario`: the command line (``--trace``/``--mbps``, ``--rtt-ms``, ``--faults``)
  as a one-OCA :class:`~qa.scenario.Scenario`, so the link and the fault timeline are parsed,
  validated and timed exactly as a scenario's are (same keys, same errors).
* :class:`LinkTimeline`: what the link does at time ``t`` (fault state, the per-request plan).
* :func:`pace`: re-chunk a response body and release each chunk when the OCA-side pacing
  (``service.faults.Link``) says its last byte may leave. Clock and sleep are injected, so the
  pacing accuracy is measured in virtual time by the tests.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from abr.traces import Trace
from marquee.clock import Clock
from marquee.errors import ConfigError
from qa.network import OcaState, change_times, fault_points, link_trace, oca_state
from qa.scenario import Scenario, parse_scenario, trace_resolver
from service.faults import FaultSpec, Link, Rate, RequestPlan, corrupt_chunk, plan_request

OCA = "oca-1"
HORIZON_S = 6 * 3600.0  # the last trace value holds after this


def link_scenario(*, trace: str | None = None, mbps: float | None = None, rtt_ms: float = 0.0,
                  faults_text: str = "", faults_source: str = "<faults>", base_dir: Path = Path(".")) -> Scenario:
    """The link as a one-OCA scenario; a bad flag or faults file raises ``ConfigError`` in plain words."""
    if (trace is None) == (mbps is None):
        raise ConfigError("give exactly one of --trace FILE or --mbps X")
    if mbps is not None and not mbps > 0:
        raise ConfigError(f"--mbps must be a positive number, not {mbps:g}")
    if not 0 <= rtt_ms <= 10_000:
        raise ConfigError(f"--rtt-ms must be between 0 and 10000, not {rtt_ms:g}")
    source = f"trace = {json.dumps(trace)}" if trace is not None else f"mbps = {mbps!r}"
    # The faults file goes first so that its line numbers stay its own; "name" goes after the
    # faults' tables would be invalid TOML, so it is the one line before (corrected below).
    text = f'name = "link"\n{faults_text}\n[network]\n{source}\nrtt_ms = {float(rtt_ms)!r}\n'
    try:
        scn = parse_scenario(text, faults_source, resolve_trace=trace_resolver(base_dir))
    except ConfigError as exc:
        raise ConfigError(_own_lines(exc.message, faults_source)) from exc
    if scn.token_expiry_s is not None:
        raise ConfigError(f"{faults_source}: token_expiry needs the embedded service; the link cannot expire tokens")
    return scn


def _own_lines(message: str, source: str) -> str:
    message = re.sub(re.escape(source) + r":(\d+):", lambda m: f"{source}:{max(1, int(m.group(1)) - 1)}:", message)
    return message.replace("network.trace", "--trace").replace("network.mbps", "--mbps")


@dataclass(frozen=True)
class LinkTimeline:
    """The link's rate and fault timeline, on seconds since the link opened."""

    scenario: Scenario

    @property
    def trace(self) -> Trace:
        return link_trace(self.scenario.links[OCA], HORIZON_S)

    def state(self, t: float) -> OcaState:
        resolved = {i: OCA for i, f in enumerate(self.scenario.faults) if f.oca == "serving"}
        return oca_state(self.scenario, OCA, t, resolved)

    def change_times(self) -> list[float]:
        return change_times(self.scenario)

    def plan(self, t: float, rng: random.Random, path: str) -> RequestPlan:
        s = self.state(t)
        spec = FaultSpec(error_rate=s.error_rate, error_status=s.error_status, latency_ms=s.latency_ms,
                         stall_after_bytes=s.stall_after_bytes, truncate_after_bytes=s.truncate_after_bytes,
                         corrupt=s.corrupt, trace=((0.0, 1.0),))  # trace: any, so that the plan says "shaped"
        return plan_request(spec, rng, path)

    def new_link(self, t0: float) -> Link:
        """The one shared link, opened at ``t0`` on the proxy's clock."""
        return Link(Rate(t0, None, fault_points(self.trace)))


async def pace(body: AsyncIterator[bytes], link: Link, clock: Clock, sleep: Callable[[float], Awaitable[None]],
               *, limit: int | None = None, corrupt: bool = False) -> AsyncIterator[bytes]:
    """The body in link-sized chunks, each released when the link has carried it; stops after
    ``limit`` bytes (a stall or truncation: the caller decides which)."""
    sent = 0
    continuing = False
    async for data in body:
        view = memoryview(data)
        while view:
            if limit is not None and sent >= limit:
                return
            want = link.chunk_size(clock.monotonic())
            if limit is not None:
                want = min(want, limit - sent)
            chunk = bytes(view[:want])
            view = view[want:]
            if corrupt:
                chunk = corrupt_chunk(chunk, sent)
            now = clock.monotonic()
            due = link.reserve(now, len(chunk), continuing=continuing)
            continuing = True
            if due > now:
                await sleep(due - now)
            sent += len(chunk)
            yield chunk
