"""Scenario files: schema, validation with line numbers, the ``[ci]`` short form (pure).

A scenario is TOML (``tomllib``); positions come from :mod:`qa.tomllines`. Every problem
is collected and reported at once as one ``ConfigError`` whose lines read
``FILE:LINE: key.path: what is wrong``. Trace files are read through an injected resolver,
so parsing stays free of I/O (``load_scenario`` is the edge that reads files).

Schema (all times in seconds from the moment play is pressed; see ``qa/scenarios/``)::

    name = "Sudden drop"                 # required
    description = "..."
    [content]                            # title (catalogue id) or url (any DASH/HLS manifest)
    title = "t001"                       #   url = "http://host/manifest.mpd"
    start_s = 0                          # content position to start from
    duration_s = 60                      # stop after this much content has played
    seeks = [{at_s = 10, to_s = 40}]     # at wall time at_s, seek to content position to_s
    [service]
    ocas = 3                             # OCAs of the embedded service (oca-1 .. oca-N)
    [network]                            # the link of every OCA (one source key of four):
    mbps = 5                             #   a constant rate
    profile = [{mbps = 5, for_s = 30}, {mbps = 0.8}]   # piecewise; the last step holds
    preset = "3g"                        #   a synthetic preset (preset_index picks the session)
    trace = "hsdpa/norway_bus_10"        #   a file: `time_s Mbit/s` lines or Mahimahi;
                                         #   relative to the scenario, then to assets/traces
    scale = 1.0                          # multiply the rate
    rtt_ms = 40                          # added before the first byte of every response
    jitter = 0.1                         # lognormal rate noise per jitter_step_s (seeded)
    stall_every_s = 20                   # loss-like stalls: no bytes at all for stall_for_s
    stall_for_s = 0.5                    #   every stall_every_s (first one at stall_every_s)
    seed = 1
    [network.ocas.oca-2]                 # per-OCA override (a source key replaces the source)
    [[faults]]                           # the fault timeline
    oca = "serving"                      # oca-N, "all", or "serving" (the OCA in use at at_s)
    at_s = 10
    until_s = 30                         # back at (omit: for the rest of the run)
    down = true                          # or error_rate/error_status, latency_ms,
                                         # stall_after_bytes, truncate_after_bytes, corrupt
    [[faults]]
    token_expiry = true                  # playback tokens expire at_s after they are issued
    at_s = 8
    [[variants]]                         # ABR variants to compare (default: one, "default")
    name = "default"
    algo = "default"
    params = {reservoir_s = "4"}
    [player]
    max_buffer_s = 30
    [thresholds]
    max_rebuffer_ratio = 0.02
    max_startup_s = 3
    min_avg_bitrate_kbps = 800
    max_switches_per_min = 6
    max_stalls = 2
    max_fatal_errors = 0                 # the default
    [ci]                                 # overrides for the short form (marquee qa run --ci):
    content = {duration_s = 12}          # tables merge key by key, arrays replace
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from abr.traces import PRESETS, Trace
from marquee.errors import ConfigError
from qa.tomllines import key_lines, line_of

TOP_KEYS = ("name", "description", "content", "service", "network", "faults", "variants", "player", "thresholds", "ci")
SOURCE_KEYS = ("mbps", "profile", "preset", "trace")
LINK_KEYS = SOURCE_KEYS + ("preset_index", "scale", "rtt_ms", "jitter", "jitter_step_s", "stall_every_s",
                           "stall_for_s", "seed", "ocas")
FAULT_KEYS = ("oca", "at_s", "until_s", "down", "error_rate", "error_status", "latency_ms", "stall_after_bytes",
              "truncate_after_bytes", "corrupt", "token_expiry")
THRESHOLD_KEYS = ("max_rebuffer_ratio", "max_startup_s", "min_avg_bitrate_kbps", "max_switches_per_min",
                  "max_stalls", "max_fatal_errors")

TraceResolver = Callable[[str], Trace]


@dataclass(frozen=True)
class ProfileStep:
    mbps: float
    for_s: float | None  # None: holds to the end


@dataclass(frozen=True)
class LinkSpec:
    """One OCA's network: a base rate over time plus RTT, jitter and loss-like stalls."""

    source: str  # "mbps 5", "profile", "preset 3g#0", "trace <name>"
    base: Trace
    scale: float = 1.0
    rtt_ms: float = 0.0
    jitter: float = 0.0
    jitter_step_s: float = 1.0
    stall_every_s: float | None = None
    stall_for_s: float = 0.0
    seed: int = 1


@dataclass(frozen=True)
class Fault:
    oca: str  # oca-N, "all" or "serving"
    at_s: float
    until_s: float | None = None
    down: bool = False
    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    stall_after_bytes: int | None = None
    truncate_after_bytes: int | None = None
    corrupt: bool = False
    line: int = 0

    def active(self, t: float) -> bool:
        return self.at_s <= t and (self.until_s is None or t < self.until_s)

    def describe(self) -> str:
        parts = []
        if self.down:
            parts.append("down")
        if self.error_rate:
            parts.append(f"HTTP {self.error_status} x{self.error_rate:g}")
        if self.latency_ms:
            parts.append(f"+{self.latency_ms} ms")
        if self.stall_after_bytes is not None:
            parts.append(f"stall after {self.stall_after_bytes} B")
        if self.truncate_after_bytes is not None:
            parts.append(f"truncate after {self.truncate_after_bytes} B")
        if self.corrupt:
            parts.append("corrupt")
        return f"{self.oca}: {', '.join(parts) or 'no-op'}"


@dataclass(frozen=True)
class Seek:
    at_s: float
    to_s: float


@dataclass(frozen=True)
class Variant:
    name: str
    algo: str = "default"
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    max_rebuffer_ratio: float | None = None
    max_startup_s: float | None = None
    min_avg_bitrate_kbps: float | None = None
    max_switches_per_min: float | None = None
    max_stalls: int | None = None
    max_fatal_errors: int = 0


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    description: str = ""
    title: str | None = "t001"
    url: str | None = None
    start_s: float = 0.0
    duration_s: float = 30.0
    seeks: tuple[Seek, ...] = ()
    ocas: int = 3
    links: Mapping[str, LinkSpec] = field(default_factory=dict)  # oca id -> its link
    faults: tuple[Fault, ...] = ()
    token_expiry_s: float | None = None
    variants: tuple[Variant, ...] = (Variant("default"),)
    max_buffer_s: float = 30.0
    thresholds: Thresholds = Thresholds()
    short: bool = False  # the [ci] form

    @property
    def oca_ids(self) -> list[str]:
        return [f"oca-{i + 1}" for i in range(self.ocas)]


# ---------------------------------------------------------------- validation

class _Checker:
    def __init__(self, source: str, lines: dict[str, int], prefer: str | None) -> None:
        self.source = source
        self.lines = lines
        self.prefer = prefer  # "ci": keys overridden by [ci] are reported at their [ci] line
        self.errors: list[tuple[int, str]] = []

    def line(self, path: str) -> int:
        if self.prefer:
            found = self.lines.get(f"{self.prefer}.{path}")
            if found is not None:
                return found
        return line_of(self.lines, path) or 1

    def error(self, path: str, message: str) -> None:
        self.errors.append((self.line(path), f"{path}: {message}"))

    def unknown(self, table: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.error(where, f"unknown key; expected one of {', '.join(allowed)}")

    def table(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"must be a table, not {type(value).__name__}")
            return {}
        return value

    def number(self, table: Mapping[str, Any], key: str, path: str, *, lo: float = -math.inf, hi: float = math.inf,
               default: float | None = None, integer: bool = False, strict_lo: bool = False) -> float | None:
        if key not in table:
            return default
        value = table[key]
        where = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            self.error(where, f"must be {'an integer' if integer else 'a number'}, not {value!r}")
            return default
        if not math.isfinite(value) or value < lo or value > hi or (strict_lo and value <= lo):
            bound = f"> {lo:g}" if strict_lo else f">= {lo:g}"
            self.error(where, f"{value!r} is out of range (must be {bound}" + (f" and <= {hi:g})" if hi < math.inf else ")"))
            return default
        return value

    def flag(self, table: Mapping[str, Any], key: str, path: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", f"must be true or false, not {value!r}")
            return False
        return value

    def text(self, table: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str | None:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.error(f"{path}.{key}" if path else key, f"must be a non-empty string, not {value!r}")
            return default
        return value

    def fail_if_any(self) -> None:
        if self.errors:
            self.errors.sort()
            text = "\n".join(f"{self.source}:{line}: {msg}" for line, msg in self.errors)
            raise ConfigError(f"invalid scenario:\n{text}", user_message=f"The scenario {self.source} is invalid:\n{text}")


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key (recursively); anything else in ``over`` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_scenario(text: str, source: str = "<scenario>", *, resolve_trace: TraceResolver | None = None,
                   ci: bool = False) -> Scenario:
    """Parse and validate; ``ci`` applies the ``[ci]`` overrides (the short form)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names line and column
        raise ConfigError(f"{source}: not valid TOML: {exc}",
                          user_message=f"The scenario {source} is not valid TOML: {exc}") from exc
    lines = key_lines(text)
    chk = _Checker(source, lines, "ci" if ci else None)
    chk.unknown(doc, TOP_KEYS, "")
    overrides = chk.table(doc.get("ci"), "ci")
    if "ci" in overrides:
        chk.error("ci.ci", "a [ci] section cannot contain another one")
    if ci and overrides:
        doc = merge({k: v for k, v in doc.items() if k != "ci"}, overrides)
    name = chk.text(doc, "name", "")
    if "name" not in doc:
        chk.error("name", "missing: every scenario needs a name")
    description = doc.get("description", "")
    if not isinstance(description, str):
        chk.error("description", "must be a string")
        description = ""

    content = chk.table(doc.get("content"), "content")
    chk.unknown(content, ("title", "url", "start_s", "duration_s", "seeks"), "content")
    title = chk.text(content, "title", "content")
    url = chk.text(content, "url", "content")
    if title and url:
        chk.error("content.url", "give either title or url, not both")
    if url and not url.startswith(("http://", "https://")):
        chk.error("content.url", "must be an http:// or https:// manifest URL")
    if not title and not url:
        title = "t001"
    start_s = chk.number(content, "start_s", "content", lo=0, default=0.0) or 0.0
    duration_s = chk.number(content, "duration_s", "content", lo=0, strict_lo=True, default=30.0) or 30.0
    seeks = _seeks(chk, content.get("seeks", []))

    service = chk.table(doc.get("service"), "service")
    chk.unknown(service, ("ocas",), "service")
    ocas = int(chk.number(service, "ocas", "service", lo=1, hi=10, integer=True, default=3) or 3)
    oca_ids = [f"oca-{i + 1}" for i in range(ocas)]

    links = _network(chk, chk.table(doc.get("network"), "network"), oca_ids, resolve_trace)
    faults, token_expiry = _faults(chk, doc.get("faults", []), oca_ids)
    if url and (faults or token_expiry is not None):
        chk.error("faults", "faults need the embedded service's OCAs; a third-party url only gets client-side shaping")
    variants = _variants(chk, doc.get("variants"))

    player = chk.table(doc.get("player"), "player")
    chk.unknown(player, ("max_buffer_s",), "player")
    max_buffer_s = chk.number(player, "max_buffer_s", "player", lo=2, hi=600, default=30.0) or 30.0

    th = chk.table(doc.get("thresholds"), "thresholds")
    chk.unknown(th, THRESHOLD_KEYS, "thresholds")
    thresholds = Thresholds(
        max_rebuffer_ratio=chk.number(th, "max_rebuffer_ratio", "thresholds", lo=0, hi=1),
        max_startup_s=chk.number(th, "max_startup_s", "thresholds", lo=0, strict_lo=True),
        min_avg_bitrate_kbps=chk.number(th, "min_avg_bitrate_kbps", "thresholds", lo=0),
        max_switches_per_min=chk.number(th, "max_switches_per_min", "thresholds", lo=0),
        max_stalls=_int_or_none(chk.number(th, "max_stalls", "thresholds", lo=0, integer=True)),
        max_fatal_errors=int(chk.number(th, "max_fatal_errors", "thresholds", lo=0, integer=True, default=0) or 0),
    )
    chk.fail_if_any()
    assert name is not None
    return Scenario(
        name=name, source=source, description=description, title=title, url=url, start_s=start_s,
        duration_s=duration_s, seeks=seeks, ocas=ocas, links=links, faults=faults, token_expiry_s=token_expiry,
        variants=variants, max_buffer_s=max_buffer_s, thresholds=thresholds, short=ci and bool(overrides),
    )


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def _seeks(chk: _Checker, raw: Any) -> tuple[Seek, ...]:
    if not isinstance(raw, list):
        chk.error("content.seeks", "must be an array of {at_s, to_s} tables")
        return ()
    out = []
    for i, item in enumerate(raw):
        path = f"content.seeks.{i}"
        item = chk.table(item, path)
        chk.unknown(item, ("at_s", "to_s"), path)
        at = chk.number(item, "at_s", path, lo=0)
        to = chk.number(item, "to_s", path, lo=0)
        if at is None or to is None:
            if "at_s" not in item or "to_s" not in item:
                chk.error(path, "a seek needs at_s and to_s")
            continue
        out.append(Seek(at, to))
    if [s.at_s for s in out] != sorted(s.at_s for s in out):
        chk.error("content.seeks", "seeks must be listed in time order")
    return tuple(out)


def _profile(chk: _Checker, raw: Any, path: str) -> Trace | None:
    if not isinstance(raw, list) or not raw:
        chk.error(path, "must be a non-empty array of {mbps, for_s} steps")
        return None
    steps: list[ProfileStep] = []
    for i, item in enumerate(raw):
        where = f"{path}.{i}"
        item = chk.table(item, where)
        chk.unknown(item, ("mbps", "for_s"), where)
        mbps = chk.number(item, "mbps", where, lo=0)
        if "mbps" not in item:
            chk.error(where, "a step needs mbps")
        for_s = chk.number(item, "for_s", where, lo=0, strict_lo=True)
        if for_s is None and "for_s" not in item and i < len(raw) - 1:
            chk.error(where, "only the last step may omit for_s (it holds to the end)")
        if mbps is not None:
            steps.append(ProfileStep(mbps, for_s))
    if steps and all(s.mbps == 0 for s in steps):
        chk.error(path, "the link never delivers a byte (every step is 0 Mbit/s)")
        return None
    return profile_trace(steps) if len(steps) == len(raw) else None


def profile_trace(steps: list[ProfileStep], horizon_s: float = 3600.0) -> Trace:
    """Steps -> a Trace (``bw[i]`` applies on ``(t[i-1], t[i]]``); the last step holds to ``horizon_s``."""
    times = [0.0]
    bws = [steps[0].mbps]
    t = 0.0
    for step in steps:
        t = t + step.for_s if step.for_s is not None else max(horizon_s, t + 1.0)
        times.append(t)
        bws.append(step.mbps)
        if step.for_s is None:
            break
    if steps[-1].for_s is not None:  # the last step holds
        times.append(max(horizon_s, t + 1.0))
        bws.append(steps[-1].mbps)
    return Trace("profile", tuple(times), tuple(bws))


def _link(chk: _Checker, table: Mapping[str, Any], path: str, resolve_trace: TraceResolver | None,
          source_path: str) -> LinkSpec | None:
    given = [k for k in SOURCE_KEYS if k in table]
    if len(given) > 1:
        chk.error(f"{source_path}.{given[1]}", f"give one of {', '.join(SOURCE_KEYS)}, not {' and '.join(given)}")
        return None
    base: Trace | None = None
    label = ""
    if not given:
        chk.error(path, f"the network needs a rate: one of {', '.join(SOURCE_KEYS)}")
        return None
    key = given[0]
    if key == "mbps":
        mbps = chk.number(table, "mbps", source_path, lo=0, strict_lo=True)
        if mbps is not None:
            base, label = Trace(f"{mbps:g} Mbit/s", (0.0, 3600.0), (mbps, mbps)), f"constant {mbps:g} Mbit/s"
    elif key == "profile":
        base, label = _profile(chk, table["profile"], f"{source_path}.profile"), "profile"
        if base is not None:
            label = "profile " + ", ".join(
                f"{b:g}" for b in base.bw_mbps[1:]) + " Mbit/s"
    elif key == "preset":
        name = chk.text(table, "preset", source_path)
        index = int(chk.number(table, "preset_index", source_path, lo=0, hi=39, integer=True, default=0) or 0)
        if name is not None and name not in PRESETS:
            chk.error(f"{source_path}.preset", f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        elif name is not None:
            from abr.traces import preset

            base, label = preset(name, sessions=index + 1).traces[index], f"preset {name} #{index}"
    else:
        ref = chk.text(table, "trace", source_path)
        if ref is not None:
            if resolve_trace is None:
                chk.error(f"{source_path}.trace", "trace files cannot be read here (no resolver)")
            else:
                try:
                    base, label = resolve_trace(ref), f"trace {ref}"
                except ConfigError as exc:
                    chk.error(f"{source_path}.trace", exc.message)
    scale = chk.number(table, "scale", source_path, lo=0, strict_lo=True, default=1.0) or 1.0
    rtt = chk.number(table, "rtt_ms", source_path, lo=0, hi=10_000, default=0.0) or 0.0
    jitter = chk.number(table, "jitter", source_path, lo=0, hi=2, default=0.0) or 0.0
    jitter_step = chk.number(table, "jitter_step_s", source_path, lo=0.1, hi=60, default=1.0) or 1.0
    every = chk.number(table, "stall_every_s", source_path, lo=0, strict_lo=True)
    stall_for = chk.number(table, "stall_for_s", source_path, lo=0, default=0.0) or 0.0
    if every is not None and not 0 < stall_for < every:
        chk.error(f"{source_path}.stall_for_s", "loss-like stalls need 0 < stall_for_s < stall_every_s")
    seed = int(chk.number(table, "seed", source_path, integer=True, default=1) or 1)
    if base is None:
        return None
    return LinkSpec(label, base, scale, rtt, jitter, jitter_step, every, stall_for, seed)


def _network(chk: _Checker, net: dict[str, Any], oca_ids: list[str],
             resolve_trace: TraceResolver | None) -> dict[str, LinkSpec]:
    chk.unknown(net, LINK_KEYS, "network")
    per_oca = chk.table(net.get("ocas"), "network.ocas")
    common = {k: v for k, v in net.items() if k != "ocas"}
    if not any(k in common for k in SOURCE_KEYS) and not per_oca:
        common = {**common, "mbps": 100.0}  # no network given: a fast link
    links: dict[str, LinkSpec] = {}
    default = _link(chk, common, "network", resolve_trace, "network") if any(
        k in common for k in SOURCE_KEYS) else None
    for oca, table in per_oca.items():
        path = f"network.ocas.{oca}"
        if oca not in oca_ids:
            chk.error(path, f"no such OCA; this scenario has {', '.join(oca_ids)}")
            continue
        table = chk.table(table, path)
        chk.unknown(table, tuple(k for k in LINK_KEYS if k != "ocas"), path)
        merged = dict(common)
        if any(k in table for k in SOURCE_KEYS):
            for k in SOURCE_KEYS + ("preset_index",):
                merged.pop(k, None)
        merged.update(table)
        link = _link(chk, merged, path, resolve_trace, path)
        if link is not None:
            links[oca] = link
    for oca in oca_ids:
        if oca not in links:
            if default is None:
                if oca not in per_oca:
                    chk.error("network", f"{oca} has no network: give a rate in [network] or [network.ocas.{oca}]")
                continue
            links[oca] = default
    return links


def _faults(chk: _Checker, raw: Any, oca_ids: list[str]) -> tuple[tuple[Fault, ...], float | None]:
    if not isinstance(raw, list):
        chk.error("faults", "must be an array of tables ([[faults]])")
        return (), None
    out: list[Fault] = []
    token_expiry: float | None = None
    for i, item in enumerate(raw):
        path = f"faults.{i}"
        item = chk.table(item, path)
        chk.unknown(item, FAULT_KEYS, path)
        at = chk.number(item, "at_s", path, lo=0)
        if "at_s" not in item:
            chk.error(path, "a fault needs at_s")
        if chk.flag(item, "token_expiry", path):
            extra = sorted(set(item) - {"token_expiry", "at_s"})
            if extra:
                chk.error(f"{path}.{extra[0]}", "a token_expiry fault takes only at_s")
            if at is not None and at < 1:
                chk.error(f"{path}.at_s", "tokens must live at least 1 s")
            elif at is not None:
                token_expiry = at
            continue
        oca = chk.text(item, "oca", path, default="all") or "all"
        if oca not in ("all", "serving") and oca not in oca_ids:
            chk.error(f"{path}.oca", f"{oca!r} is not an OCA of this scenario ({', '.join(oca_ids)}, all, serving)")
        until = chk.number(item, "until_s", path, lo=0)
        if until is not None and at is not None and until <= at:
            chk.error(f"{path}.until_s", f"must be after at_s ({at:g})")
        effects = ("down", "error_rate", "latency_ms", "stall_after_bytes", "truncate_after_bytes", "corrupt")
        if not any(k in item for k in effects):
            chk.error(path, f"the fault does nothing: give one of {', '.join(effects)}, or token_expiry")
        status = int(chk.number(item, "error_status", path, lo=400, hi=599, integer=True, default=503) or 503)
        stall_after = chk.number(item, "stall_after_bytes", path, lo=0, integer=True)
        truncate_after = chk.number(item, "truncate_after_bytes", path, lo=0, integer=True)
        fault = Fault(
            oca=oca, at_s=at or 0.0, until_s=until, down=chk.flag(item, "down", path),
            error_rate=chk.number(item, "error_rate", path, lo=0, hi=1, default=0.0) or 0.0,
            error_status=status,
            latency_ms=int(chk.number(item, "latency_ms", path, lo=0, hi=600_000, integer=True, default=0) or 0),
            stall_after_bytes=_int_or_none(stall_after), truncate_after_bytes=_int_or_none(truncate_after),
            corrupt=chk.flag(item, "corrupt", path), line=chk.line(path),
        )
        out.append(fault)
    return tuple(out), token_expiry


def _variants(chk: _Checker, raw: Any) -> tuple[Variant, ...]:
    if raw is None:
        return (Variant("default"),)
    if not isinstance(raw, list) or not raw:
        chk.error("variants", "must be a non-empty array of tables ([[variants]])")
        return (Variant("default"),)
    from abr import algorithms, make_controller

    out: list[Variant] = []
    for i, item in enumerate(raw):
        path = f"variants.{i}"
        item = chk.table(item, path)
        chk.unknown(item, ("name", "algo", "params"), path)
        algo = chk.text(item, "algo", path, default="default") or "default"
        name = chk.text(item, "name", path, default=algo) or algo
        params_raw = chk.table(item.get("params"), f"{path}.params")
        params = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in params_raw.items()}
        try:
            make_controller(algo, params)
        except ConfigError as exc:
            known = algo.strip().lower() in algorithms()
            chk.error(f"{path}.params" if known else f"{path}.algo", exc.message)
        if name in (v.name for v in out):
            chk.error(f"{path}.name", f"two variants are called {name!r}")
        out.append(Variant(name, algo, params))
    return tuple(out)


# ---------------------------------------------------------------- files (the I/O edge)

def trace_resolver(base_dir: Path) -> TraceResolver:
    """Trace references: a path relative to the scenario file, else to the bundled ``assets/traces``."""
    from abr.traces import bundled_traces_dir, load_trace_file

    def resolve(ref: str) -> Trace:
        for root in (base_dir, bundled_traces_dir()):
            path = (root / ref).expanduser()
            if path.is_file():
                return load_trace_file(path)
        raise ConfigError(f"no trace file {ref!r} (looked next to the scenario and in assets/traces)")

    return resolve


def load_scenario(path: Path, *, ci: bool = False) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read scenario {path}: {exc}") from exc
    return parse_scenario(text, str(path), resolve_trace=trace_resolver(path.parent), ci=ci)


def scenarios_dir() -> Path:
    return Path(__file__).parent / "scenarios"


def library() -> list[Path]:
    """The ready scenarios, in name order."""
    return sorted(scenarios_dir().glob("*.toml"))
