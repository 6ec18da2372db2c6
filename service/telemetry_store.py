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
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from service.store import Store
from telemetry.schema import SchemaError, validate_batch

MAX_COMPRESSED = 2 << 20
MAX_DECOMPRESSED = 16 << 20
GROUPS = ("oca", "title", "day")


class BatchError(ValueError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def decode_body(raw: bytes, content_encoding: str) -> dict[str, Any]:
    """The batch document of a request body (gzip or plain JSON); ``BatchError`` otherwise."""
    if len(raw) > MAX_COMPRESSED:
        raise BatchError(413, "body_too_large", f"a batch is at most {MAX_COMPRESSED} bytes on the wire")
    if content_encoding.strip().lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = inflater.decompress(raw, MAX_DECOMPRESSED)
            if inflater.unconsumed_tail:
                raise BatchError(413, "body_too_large", f"a batch is at most {MAX_DECOMPRESSED} bytes uncompressed")
        except zlib.error:
            raise BatchError(400, "invalid_gzip", "the body is not valid gzip") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BatchError(400, "invalid_json", "the batch is not valid JSON") from None
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


def fold_sessions(events: Iterable[Mapping[str, Any]]) -> list[SessionRecord]:
    """Events (rows with session_id, kind, day, data JSON or dict) -> one record per session."""
    sessions: dict[str, SessionRecord] = {}
    for row in events:
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
            rec.title_id = d.get("title_id") or "unknown"
            rec.start_s = float(d.get("start_s", 0.0))
        elif kind == "startup":
            rec.started, rec.startup_ms = True, float(d["startup_ms"])
        elif kind == "exit_before_start":
            rec.exit_before_start = True
        elif kind == "segment":
            rec.oca_segments[d["oca"]] = rec.oca_segments.get(d["oca"], 0) + 1
            rec.bitrate_sum += float(d["bitrate_kbps"])
            rec.segments += 1
        elif kind == "heartbeat":
            rec.last_position_s = max(rec.last_position_s, float(d["position_s"]))
        if rec.ended:
            continue
        if kind == "stall_end":
            rec.stall_ms += float(d["stall_ms"])
        elif kind == "switch":
            rec.switches += 1
        elif kind == "failover":
            rec.failovers += 1
        elif kind == "error":
            rec.errors += 1
        elif kind == "session_end":  # authoritative totals
            rec.ended = True
            rec.played_s, rec.stall_ms = float(d["played_s"]), float(d["stall_ms"])
            rec.switches, rec.failovers, rec.errors = int(d["switches"]), int(d["failovers"]), int(d["errors"])
            rec.avg_bitrate_kbps = float(d["avg_bitrate_kbps"])
            if d["startup_ms"] is not None:
                rec.started, rec.startup_ms = True, float(d["startup_ms"])
    for rec in sessions.values():
        if not rec.ended:
            rec.played_s = max(0.0, rec.last_position_s - rec.start_s)
            rec.avg_bitrate_kbps = rec.bitrate_sum / rec.segments if rec.segments else 0.0
    return list(sessions.values())


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
    key = {"oca": lambda r: r.oca, "title": lambda r: r.title_id, "day": lambda r: r.day}[group]
    buckets: dict[str, list[SessionRecord]] = {}
    for r in records:
        buckets.setdefault(key(r), []).append(r)
    return {k: metrics(v) for k, v in sorted(buckets.items())}


def summary_json(records: Sequence[SessionRecord], counts: Mapping[str, int]) -> dict[str, Any]:
    return {"overall": metrics(records), **{f"by_{g}": summarize(records, g) for g in GROUPS},
            "collector": dict(counts)}


# ------------------------------------------------------------------------ dashboard
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
        names = list(by_oca)
        p50 = [by_oca[n]["startup_ms"]["p50"] or 0 for n in names]
        p90 = [by_oca[n]["startup_ms"]["p90"] or 0 for n in names]
        xs = range(len(names))
        ax1.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50")
        ax1.bar([x + 0.2 for x in xs], p90, width=0.4, label="p90")
        ax1.set_xticks(list(xs), names)
        ax1.set_title("Startup time per OCA (ms)")
        ax1.legend()
        ax2.bar(names, [by_oca[n]["rebuffer_ratio"] * 100 for n in names], color="#e50914")
        ax2.set_title("Rebuffer ratio per OCA (%)")
        out.append(("Per OCA", _png(fig)))
    if by_day:
        fig = Figure(figsize=(8, 3))
        ax1, ax2 = fig.subplots(1, 2)
        days = list(by_day)
        ax1.plot(days, [by_day[d]["sessions"] for d in days], marker="o")
        ax1.set_title("Sessions per day")
        ax2.plot(days, [by_day[d]["avg_bitrate_kbps"] for d in days], marker="o", color="#2ecc71")
        ax2.set_title("Average bitrate per day (kbps)")
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=30)
        out.append(("Per day", _png(fig)))
    if by_title:
        top = sorted(by_title, key=lambda t: -by_title[t]["sessions"])[:12]
        fig = Figure(figsize=(8, 3))
        ax = fig.subplots()
        ax.barh(top, [by_title[t]["avg_bitrate_kbps"] for t in top], color="#1f80e0")
        ax.set_title("Average bitrate per title (kbps, top 12 by sessions)")
        out.append(("Per title", _png(fig)))
    return out


def _table(name: str, groups: Mapping[str, Mapping[str, Any]]) -> str:
    cols = ("sessions", "exits_before_start", "startup p50/p90/p95 ms", "rebuffer %", "avg kbps", "switches/h",
            "failovers", "errors")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in (name, *cols))
    rows = []
    for key, m in groups.items():
        s = m["startup_ms"]
        cells = (key, m["sessions"], m["exits_before_start"], f"{s['p50']}/{s['p90']}/{s['p95']}",
                 f"{m['rebuffer_ratio'] * 100:.2f}", m["avg_bitrate_kbps"], m["switches_per_hour"], m["failovers"],
                 m["errors"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


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
