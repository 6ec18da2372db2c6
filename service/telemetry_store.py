"""The QoE collector's logic: decode and check an uploaded batch, and summarize stored events.

Pure apart from ``ingest`` (which hands rows to ``Store.add_telemetry_batch``) and
``dashboard_html`` (matplotlib). The summary folds each playback session (one
``session_id``) into one record, then groups sessions per OCA (the OCA that served
most of its video segments), per title and per UTC day:

- ``startup_ms`` p50/p90/p95 over sessions that started;
- ``rebuffer_ratio`` = stall time / (played time + stall time);
- ``avg_bitrate_kbps`` = mean of the sessions' average bitrates weighted by played time;
- ``switches_per_hour`` = bitrate switches per hour of played content;
- ``failovers``, ``errors``, ``exits_before_start``, ``sessions``, ``attempts``.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from service import strict
from service.store import Store
from telemetry.schema import MAX_EVENTS_PER_BATCH, NAME, SchemaError, validate_batch

MAX_COMPRESSED = 2 << 20
MAX_DECOMPRESSED = 4 << 20
MAX_OBJECTS = 2 * MAX_EVENTS_PER_BATCH + 8  # the batch, each event and its data
MAX_ARRAYS = 16
MAX_COMMAS = 24 * MAX_EVENTS_PER_BATCH + 32
GROUPS = ("oca", "title", "day")


class BatchError(ValueError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def precheck(raw: bytes) -> None:
    """Refuse a body that cannot be a valid batch before it becomes Python objects: a batch
    has at most ``MAX_EVENTS_PER_BATCH`` events of a few fields each, so counting ``{`` and
    ``,`` (also inside strings: an upper bound) bounds what ``json.loads`` may build."""
    if raw.count(b"{") > MAX_OBJECTS or raw.count(b"[") > MAX_ARRAYS or raw.count(b",") > MAX_COMMAS:
        raise BatchError(400, "invalid_batch", f"a batch has at most {MAX_EVENTS_PER_BATCH} events of a few fields each")


def decode_body(raw: bytes) -> dict[str, Any]:
    """The batch document of a (decompressed) request body; ``BatchError`` otherwise."""
    precheck(raw)
    try:
        doc = strict.loads(raw, max_depth=4)
    except strict.ParseError as exc:
        raise BatchError(400, "invalid_json", f"the batch is not valid: {exc}") from None
    try:
        validate_batch(doc)
    except SchemaError as exc:
        raise BatchError(400, "invalid_batch", str(exc)) from None
    assert isinstance(doc, dict)
    return doc


def utc_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def ingest(store: Store, doc: Mapping[str, Any], received_at: float) -> bool:
    """Store a validated batch; False when this batch id was stored before (a retry)."""
    rows = []
    for i, ev in enumerate(doc["events"]):
        title = ev["data"].get("title_id") if ev["kind"] == "attempt" else None
        rows.append((i, ev["session_id"], ev["seq"], ev["kind"], float(ev["ts"]), utc_day(float(ev["ts"])), title,
                     json.dumps({"t": ev["t"], **ev["data"]}, separators=(",", ":"))))
    return store.add_telemetry_batch(doc["batch_id"], doc["installation_id"], received_at, doc["schema"],
                                     doc["dropped_total"], doc["rejected_total"], rows)


# -------------------------------------------------------------------- summary (pure)
@dataclass
class SessionRecord:
    session_id: str
    day: str = ""
    title_id: str = "unknown"
    started: bool = False
    exit_before_start: bool = False
    startup_ms: float | None = None
    played_s: float = 0.0
    stall_ms: float = 0.0
    switches: int = 0
    failovers: int = 0
    errors: int = 0
    avg_bitrate_kbps: float = 0.0
    ended: bool = False
    start_s: float = 0.0
    last_position_s: float = 0.0
    oca_segments: dict[str, int] = field(default_factory=dict)
    bitrate_sum: float = 0.0
    segments: int = 0

    @property
    def oca(self) -> str:
        if not self.oca_segments:
            return "none"
        return max(sorted(self.oca_segments), key=lambda o: self.oca_segments[o])


def _num(value: Any, hi: float = 1e12) -> float:
    """A stored number as the summary may use it: finite and in range, else 0 (rows stored
    before the schema bounded numbers must not make a total infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and -hi <= number <= hi else 0.0


def _name(value: Any) -> str:
    text = str(value) if value is not None else ""
    return text if NAME.match(text) else "invalid"


def fold_sessions(events: Iterable[Mapping[str, Any]]) -> list[SessionRecord]:
    """Events (rows with session_id, kind, day, data JSON or dict) -> one record per session.
    Numbers and names are re-checked here: the database may hold rows from older versions."""
    sessions: dict[str, SessionRecord] = {}
    for row in events:
        try:
            _fold_one(sessions, row)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a row an older version stored malformed: it cannot break the summary
    for rec in sessions.values():
        if not rec.ended:
            rec.played_s = max(0.0, rec.last_position_s - rec.start_s)
            rec.avg_bitrate_kbps = rec.bitrate_sum / rec.segments if rec.segments else 0.0
    return list(sessions.values())


def _fold_one(sessions: dict[str, SessionRecord], row: Mapping[str, Any]) -> None:
    sid = str(row["session_id"])
    rec = sessions.get(sid)
    if rec is None:
        rec = sessions[sid] = SessionRecord(sid, day=str(row["day"]))
    rec.day = min(rec.day, str(row["day"])) if rec.day else str(row["day"])
    d = row["data"]
    if isinstance(d, str):
        d = json.loads(d)
    kind = row["kind"]
    if kind == "attempt":
        rec.title_id = _name(d.get("title_id")) or "unknown"
        rec.start_s = _num(d.get("start_s", 0.0))
    elif kind == "startup":
        rec.started, rec.startup_ms = True, _num(d["startup_ms"])
    elif kind == "exit_before_start":
        rec.exit_before_start = True
    elif kind == "segment":
        oca = _name(d["oca"])
        rec.oca_segments[oca] = rec.oca_segments.get(oca, 0) + 1
        rec.bitrate_sum += _num(d["bitrate_kbps"])
        rec.segments += 1
    elif kind == "heartbeat":
        rec.last_position_s = max(rec.last_position_s, _num(d["position_s"]))
    if rec.ended:
        return
    if kind == "stall_end":
        rec.stall_ms += _num(d["stall_ms"])
    elif kind == "switch":
        rec.switches += 1
    elif kind == "failover":
        rec.failovers += 1
    elif kind == "error":
        rec.errors += 1
    elif kind == "session_end":  # authoritative totals
        rec.ended = True
        rec.played_s, rec.stall_ms = _num(d["played_s"]), _num(d["stall_ms"])
        rec.switches, rec.failovers, rec.errors = (int(_num(d["switches"])), int(_num(d["failovers"])),
                                                   int(_num(d["errors"])))
        rec.avg_bitrate_kbps = _num(d["avg_bitrate_kbps"])
        if d["startup_ms"] is not None:
            rec.started, rec.startup_ms = True, _num(d["startup_ms"])


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo), 1)


def metrics(records: Sequence[SessionRecord]) -> dict[str, Any]:
    startups = [r.startup_ms for r in records if r.startup_ms is not None]
    played = sum(r.played_s for r in records)
    stall_s = sum(r.stall_ms for r in records) / 1000
    switches = sum(r.switches for r in records)
    weighted = sum(r.avg_bitrate_kbps * r.played_s for r in records)
    return {
        "sessions": len(records),
        "attempts": len(records),
        "exits_before_start": sum(1 for r in records if r.exit_before_start),
        "startup_ms": {"p50": percentile(startups, 0.5), "p90": percentile(startups, 0.9),
                       "p95": percentile(startups, 0.95)},
        "played_s": round(played, 1),
        "rebuffer_ratio": round(stall_s / (played + stall_s), 4) if played + stall_s > 0 else 0.0,
        "avg_bitrate_kbps": round(weighted / played, 1) if played > 0 else 0.0,
        "switches": switches,
        "switches_per_hour": round(switches / (played / 3600), 2) if played > 0 else 0.0,
        "failovers": sum(r.failovers for r in records),
        "errors": sum(r.errors for r in records),
    }


def summarize(records: Sequence[SessionRecord], group: str) -> dict[str, dict[str, Any]]:
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    key: Callable[[SessionRecord], str] = {"oca": lambda r: r.oca, "title": lambda r: r.title_id,
                                           "day": lambda r: r.day}[group]
    buckets: dict[str, list[SessionRecord]] = {}
    for r in records:
        buckets.setdefault(key(r), []).append(r)
    return {k: metrics(v) for k, v in sorted(buckets.items())}


def summary_json(records: Sequence[SessionRecord], counts: Mapping[str, int]) -> dict[str, Any]:
    return {"overall": metrics(records), **{f"by_{g}": summarize(records, g) for g in GROUPS},
            "collector": dict(counts)}


# ------------------------------------------------------------------------ dashboard
PLOT_TOP_N = 10
PLOT_DAYS = 60
TABLE_TOP_N = 50


def top_names(groups: Mapping[str, Mapping[str, Any]], n: int) -> list[str]:
    """The ``n`` groups with the most sessions (ties by name): what a plot or table shows."""
    return sorted(groups, key=lambda k: (-groups[k]["sessions"], k))[:n]


def plot_label(name: str) -> str:
    """A name as plot text: '$' escaped so matplotlib never reads it as mathtext, length bounded."""
    return name[:32].replace("\\", "/").replace("$", r"\$")


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def dashboard_pngs(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(caption, base64 PNG) plots of a summary."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    out: list[tuple[str, str]] = []
    by_oca, by_day, by_title = summary["by_oca"], summary["by_day"], summary["by_title"]
    if by_oca:
        fig = Figure(figsize=(8, 3))
        ax1, ax2 = fig.subplots(1, 2)
        names = top_names(by_oca, PLOT_TOP_N)  # the plot's cost is bounded whatever clients sent
        p50 = [by_oca[n]["startup_ms"]["p50"] or 0 for n in names]
        p90 = [by_oca[n]["startup_ms"]["p90"] or 0 for n in names]
        xs = list(range(len(names)))
        labels = [plot_label(n) for n in names]
        ax1.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50")
        ax1.bar([x + 0.2 for x in xs], p90, width=0.4, label="p90")
        ax1.set_xticks(xs, labels)
        ax1.set_title(f"Startup time per OCA (ms, top {PLOT_TOP_N} by sessions)")
        ax1.legend()
        ax2.bar(xs, [by_oca[n]["rebuffer_ratio"] * 100 for n in names], color="#e50914")
        ax2.set_xticks(xs, labels)
        ax2.set_title("Rebuffer ratio per OCA (%)")
        out.append(("Per OCA", _png(fig)))
    if by_day:
        fig = Figure(figsize=(8, 3))
        ax1, ax2 = fig.subplots(1, 2)
        days = sorted(by_day)[-PLOT_DAYS:]
        ax1.plot(days, [by_day[d]["sessions"] for d in days], marker="o")
        ax1.set_title("Sessions per day")
        ax2.plot(days, [by_day[d]["avg_bitrate_kbps"] for d in days], marker="o", color="#2ecc71")
        ax2.set_title("Average bitrate per day (kbps)")
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=30)
        out.append(("Per day", _png(fig)))
    if by_title:
        top = top_names(by_title, 12)
        fig = Figure(figsize=(8, 3))
        ax = fig.subplots()
        ax.barh(range(len(top)), [by_title[t]["avg_bitrate_kbps"] for t in top], color="#1f80e0")
        ax.set_yticks(range(len(top)), [plot_label(t) for t in top])
        ax.set_title("Average bitrate per title (kbps, top 12 by sessions)")
        out.append(("Per title", _png(fig)))
    return out


def _table(name: str, groups: Mapping[str, Mapping[str, Any]]) -> str:
    cols = ("sessions", "exits_before_start", "startup p50/p90/p95 ms", "rebuffer %", "avg kbps", "switches/h",
            "failovers", "errors")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in (name, *cols))
    rows = []
    shown = top_names(groups, TABLE_TOP_N) if name != "day" else sorted(groups)[-TABLE_TOP_N:]
    for key in shown:
        m = groups[key]
        s = m["startup_ms"]
        cells = (key, m["sessions"], m["exits_before_start"], f"{s['p50']}/{s['p90']}/{s['p95']}",
                 f"{m['rebuffer_ratio'] * 100:.2f}", m["avg_bitrate_kbps"], m["switches_per_hour"], m["failovers"],
                 m["errors"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    more = len(groups) - len(shown)
    note = f"<p>{more} more not shown (the JSON summary has them all).</p>" if more > 0 else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{note}"


def dashboard_html(summary: Mapping[str, Any]) -> str:
    plots = "".join(f"<figure><img alt='{html.escape(c)}' src='data:image/png;base64,{b}'>"
                    f"<figcaption>{html.escape(c)}</figcaption></figure>" for c, b in dashboard_pngs(summary))
    c = summary["collector"]
    tables = "".join(f"<h2>Per {g}</h2>{_table(g, summary[f'by_{g}'])}" for g in GROUPS)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Marquee QoE</title><style>"
            "body{font-family:sans-serif;margin:2em;background:#141414;color:#eee}"
            "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #444;padding:4px 8px}"
            "img{background:#fff;max-width:100%}</style></head><body><h1>Marquee QoE</h1>"
            f"<p>{c.get('batches', 0)} batches, {c.get('events', 0)} events from {c.get('installations', 0)} "
            f"installations; clients dropped {c.get('client_dropped', 0)} and had "
            f"{c.get('client_rejected', 0)} rejected.</p>"
            f"{_table('overall', {'all': summary['overall']})}{plots}{tables}</body></html>")


def gzip_json(doc: Any) -> bytes:
    """What a client uploads (used by tests and tools)."""
    return gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), compresslevel=5)
