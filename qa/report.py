"""The QA report: one self-contained HTML page with embedded PNG plots (matplotlib Agg,
imported lazily) and the PNGs themselves next to it.

Per variant, one timeline (seconds since play was pressed): available throughput per OCA
(the shaped links) against the measured throughput of every video segment coloured by the
OCA that served it; buffer level; chosen bitrate; OCA in use. Stalls are shaded red on every
panel, fault windows orange (down: dark red band on the OCA panel), seeks are dashed lines.
The simulator model's buffer and bitrate are drawn dashed for comparison.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from qa.network import link_trace
from qa.runner import ScenarioResult, VariantResult, format_table, summary_json

_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#ff7f0e",
           "#d62728"]


def _encode(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _stall_windows(events: list[dict[str, Any]], end: float) -> list[tuple[float, float]]:
    out, start = [], None
    for e in events:
        if e["kind"] == "stall_start" and start is None:
            start = e["t"]
        elif e["kind"] == "stall_end" and start is not None:
            out.append((start, e["t"]))
            start = None
    if start is not None:
        out.append((start, end))
    return out


def _fault_windows(res: ScenarioResult, vr: VariantResult,
                   end: float) -> list[tuple[float, float, str, list[str], bool]]:
    scn = res.scenario
    serving = {m["fault"]: m["oca"] for m in (vr.real.marks if vr.real else []) if m["kind"] == "qa_serving"}
    out = []
    for i, f in enumerate(scn.faults):
        if f.oca == "all":
            targets = scn.oca_ids
        elif f.oca == "serving":
            targets = [serving.get(i, "serving")]
        else:
            targets = [f.oca]
        out.append((f.at_s, f.until_s if f.until_s is not None else end, f.describe(), targets, f.down))
    if scn.token_expiry_s is not None:
        out.append((scn.token_expiry_s, scn.token_expiry_s + 0.3, "tokens expire", [], True))
    return out


def timeline_png(res: ScenarioResult, vr: VariantResult) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scn = res.scenario
    real = vr.real
    model = vr.model
    events = real.events if real else []
    samples = real.samples if real else []
    end = max([s["t"] for s in samples] + [model.segment_times[-1] if model.segment_times else 0.0]
              + [scn.duration_s]) + 0.5
    fig, axes = plt.subplots(4, 1, figsize=(11, 9.5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 2, 2, 1.2]})
    ax_tp, ax_buf, ax_rate, ax_oca = axes
    oca_color = {oca: _COLORS[i % len(_COLORS)] for i, oca in enumerate(scn.oca_ids)}

    # available throughput per OCA (dropping to 0 while it is down)
    for oca in scn.oca_ids:
        tr = link_trace(scn.links[oca], end + 1)
        xs, ys = [], []
        for i in range(1, len(tr.times_s)):
            a, b = tr.times_s[i - 1], min(tr.times_s[i], end)
            if a >= end:
                break
            xs += [a, b]
            ys += [tr.bw_mbps[i] * 1000] * 2
        ax_tp.plot(xs, ys, color=oca_color[oca], lw=1.4, alpha=0.55, label=f"{oca} available")
    segs = [e for e in events if e["kind"] == "segment" and e.get("media", "video") == "video"]
    for oca in scn.oca_ids:
        mine = [e for e in segs if e.get("oca") == oca]
        if mine:
            ax_tp.plot([e["t"] for e in mine], [e["throughput_kbps"] for e in mine], "o", ms=5,
                       color=oca_color[oca], markeredgecolor="black", markeredgewidth=0.5,
                       label=f"measured from {oca}")
    if not real and model.samples:
        ax_tp.plot([s.t for s in model.samples], [s.throughput_kbps for s in model.samples], "o", ms=4,
                   color="black", label="sim measured")
    ax_tp.set_ylabel("throughput kbit/s (log)")
    values = [y for line in ax_tp.get_lines() for y in line.get_ydata() if y > 0]
    ax_tp.set_yscale("log")
    if values:
        ax_tp.set_ylim(max(min(values) / 2, 10), max(values) * 2.5)
    ax_tp.legend(fontsize=7, ncol=6, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)

    # buffer
    if samples:
        ax_buf.plot([s["t"] for s in samples], [s["buffer_s"] for s in samples], color="#1f77b4", lw=1.5,
                    label="real buffer")
    if model.samples:
        xs = [s.t for s in model.samples]
        ys = [s.buffer_s for s in model.samples]
        if model.end_t > xs[-1]:  # the play-out after the last fetch
            xs.append(model.end_t)
            ys.append(model.end_buffer_s)
        ax_buf.plot(xs, ys, "--", color="0.35", lw=1.1, label="sim model (at each segment arrival)")
    ax_buf.set_ylabel("buffer s")
    ax_buf.set_ylim(bottom=0)
    ax_buf.legend(fontsize=7, ncol=3, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)

    # chosen bitrate (at each segment's arrival)
    if segs:
        ax_rate.step([0.0] + [e["t"] for e in segs] + [end], [segs[0]["bitrate_kbps"]]
                     + [e["bitrate_kbps"] for e in segs] + [segs[-1]["bitrate_kbps"]],
                     where="post", color="#d62728", lw=1.6, label="real (segment arrivals)")
    if model.samples:
        ax_rate.step([0.0] + [s.t for s in model.samples] + [end], [model.samples[0].kbps]
                     + [s.kbps for s in model.samples] + [model.samples[-1].kbps],
                     where="post", ls="--", color="0.35", lw=1.1, label="sim model")
    ladder = [b / 1000 for b in res.content.video.ladder.bitrates_bps]
    ax_rate.set_yticks(ladder)
    ax_rate.set_yticklabels([f"{k:g}" for k in ladder], fontsize=7)
    ax_rate.set_ylabel("bitrate kbit/s")
    ax_rate.legend(fontsize=7, ncol=3, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)

    # OCA in use
    index = {oca: i for i, oca in enumerate(scn.oca_ids)}
    for oca in scn.oca_ids:
        mine = [e for e in segs if e.get("oca") == oca]
        ax_oca.plot([e["t"] for e in mine], [index[oca]] * len(mine), "s", ms=6, color=oca_color[oca])
    for e in events:
        if e["kind"] == "failover":
            ax_oca.annotate("", xy=(e["t"], index.get(str(e.get("to_oca")), 0)),
                            xytext=(e["t"], index.get(str(e.get("from_oca")), 0)),
                            arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8})
    ax_oca.set_yticks(range(len(scn.oca_ids)))
    ax_oca.set_yticklabels(scn.oca_ids, fontsize=8)
    ax_oca.set_ylim(-0.6, len(scn.oca_ids) - 0.4)
    ax_oca.set_ylabel("OCA")
    ax_oca.set_xlabel("seconds since play")

    # marks: outages on every panel (other faults only on their OCA's row), stalls, seeks
    for k, (a, b, label, targets, down) in enumerate(_fault_windows(res, vr, end)):
        if down:
            for ax in axes[:3]:
                ax.axvspan(a, b, color="orange", alpha=0.18, lw=0)
            ax_tp.text(a, 0.98 - 0.08 * (k % 3), " " + label, transform=ax_tp.get_xaxis_transform(), fontsize=7,
                       va="top", color="#a05000")
        for oca in targets:
            if oca in index:
                ax_oca.fill_between([a, b], index[oca] - 0.4, index[oca] + 0.4, lw=0,
                                    color="#a00000" if down else "orange", alpha=0.3 if down else 0.25)
                if not down:
                    ax_oca.text(a, index[oca], " " + label.split(": ", 1)[-1], fontsize=7, va="center",
                                color="#a05000")
    for a, b in _stall_windows(events, end):
        for ax in axes:
            ax.axvspan(a, max(b, a + 0.1), color="red", alpha=0.3, lw=0)
    for m in (real.marks if real else []):
        if m["kind"] == "qa_seek":
            for ax in axes:
                ax.axvline(m["t"], color="black", ls=":", lw=1)
            ax_buf.text(m["t"], 0.95, f" seek→{m['to_s']:g}s", transform=ax_buf.get_xaxis_transform(), fontsize=7,
                        va="top")
    start = next((e["t"] for e in events if e["kind"] == "startup"), None)
    if start is not None:
        ax_buf.axvline(start, color="green", lw=1)
        ax_buf.text(start, 0.05, " first frame", transform=ax_buf.get_xaxis_transform(), fontsize=7, color="green")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_xlim(0, end)
    title = f"{scn.name} — {vr.variant.name} ({'real player' if real else 'simulator'})"
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    data = _encode(fig)
    plt.close(fig)
    return data


def _metrics_rows(res: ScenarioResult) -> str:
    rows = []
    for v in res.variants:
        for label, m, d in v.compared_runs("sim abr realistic"):
            rows.append(
                "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in (
                    v.variant.name, label, f"{m.qoe_lin:.2f}", "" if d is None else f"{d:+.1f}%",
                    "-" if m.startup_s is None else f"{m.startup_s:.2f}", f"{m.stall_s:.2f}", m.stall_count,
                    f"{m.rebuffer_ratio:.3f}", f"{m.avg_bitrate_kbps:.0f}", m.switches, f"{m.switches_per_min:.1f}",
                    m.failovers, m.fatal_errors)) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("variant", "run", "QoE_lin", "vs real", "startup s", "stall s", "stalls",
                                            "rebuffer ratio", "avg kbps", "switches", "switches/min", "failovers",
                                            "fatal errors"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _checks(res: ScenarioResult) -> str:
    head = "<tr><th>variant</th>" + "".join(f"<th>{html.escape(c.name)}</th>" for c in res.variants[0].checks) + \
           "<th>verdict</th></tr>"
    rows = []
    for v in res.variants:
        cells = "".join(
            f"<td class='{'ok' if c.ok else 'bad'}'>{'-' if c.value is None else f'{c.value:.3g}'} "
            f"<small>(≤≥ {c.limit:g})</small></td>".replace("≤≥", "≥" if c.name.startswith("min") else "≤")
            for c in v.checks)
        rows.append(f"<tr><td>{html.escape(v.variant.name)}</td>{cells}"
                    f"<td class='{'ok' if v.passed else 'bad'}'>{'PASS' if v.passed else 'FAIL'}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _event_excerpt(vr: VariantResult, limit: int = 60) -> str:
    if vr.real is None:
        return ""
    keep = ("decision", "switch", "failover", "stall_start", "stall_end", "error", "abandon", "startup", "seek")
    rows = [e for e in sorted(vr.real.events + vr.real.marks, key=lambda r: r["t"])
            if e["kind"] in keep or e["kind"].startswith("qa_")][:limit]
    lines = []
    for e in rows:
        detail = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("kind", "t", "t_session"))
        lines.append(f"{e['t']:7.2f}s {e['kind']:<12} {detail}")
    return ("<details><summary>first decisions, failovers, stalls and faults</summary><pre>"
            + html.escape("\n".join(lines)) + "</pre></details>")


def write_report(path: Path, res: ScenarioResult) -> Path:
    scn = res.scenario
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Marquee QA: {html.escape(scn.name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}pre{background:#f4f4f4;padding:.8em;"
        "overflow-x:auto;font-size:12px}img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse;"
        "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}"
        "th{background:#eee}.ok{background:#e5f5e0}.bad{background:#fde0dd}.verdict{font-size:1.4em}</style>",
        "</head><body>",
        f"<h1>{html.escape(scn.name)}</h1>",
        f"<p>{html.escape(scn.description)}</p>",
        f"<p class='verdict'>Verdict: <b class='{'ok' if res.passed else 'bad'}'>"
        f"{'PASS' if res.passed else 'FAIL'}</b> — {'simulator' if res.sim_only else 'real player (real HTTP, mpv null outputs)'}"
        f"{', short form' if scn.short else ''}; content {html.escape(res.content.label)}, "
        f"{scn.duration_s:g} s from {scn.start_s:g} s; {scn.ocas} OCAs; source <code>{html.escape(scn.source)}</code></p>",
        "<h2>Network and faults</h2><ul>",
    ]
    for oca in scn.oca_ids:
        link = scn.links[oca]
        extra = []
        if link.rtt_ms:
            extra.append(f"RTT {link.rtt_ms:g} ms")
        if link.jitter:
            extra.append(f"jitter {link.jitter:g}")
        if link.stall_every_s:
            extra.append(f"{link.stall_for_s:g} s stall every {link.stall_every_s:g} s")
        parts.append(f"<li>{oca}: {html.escape(link.source)}{'; ' + ', '.join(extra) if extra else ''}</li>")
    for f in scn.faults:
        until = f"–{f.until_s:g} s" if f.until_s is not None else " on"
        parts.append(f"<li>fault {f.at_s:g}{until}: {html.escape(f.describe())}</li>")
    if scn.token_expiry_s is not None:
        parts.append(f"<li>playback tokens expire {scn.token_expiry_s:g} s after they are issued</li>")
    for s in scn.seeks:
        parts.append(f"<li>seek at {s.at_s:g} s to {s.to_s:g} s</li>")
    parts.append("</ul>")
    parts.append("<h2>Thresholds</h2>" + _checks(res))
    parts.append("<h2>QoE summary" + (" (variants side by side)" if len(res.variants) > 1 else "") + "</h2>")
    parts.append(_metrics_rows(res))
    parts.append("<p><small>QoE_lin = Σ bitrate (Mbit/s) − 4.3 × (startup + stall seconds) − Σ |Δbitrate|, over the "
                 "segments of the content played. <i>sim model</i>: the simulator with the real pipeline's costs "
                 "(exact HTTP body pacing, RTT per request, audio requests, startup round trips, mpv start, the "
                 "engine's buffer cap); <i>sim abr realistic</i>: <code>abr.sim</code> realistic mode as is.</small></p>")
    parts.append(f"<pre>{html.escape(format_table(res))}</pre>")
    parts.append("<h2>Timelines</h2>")
    for i, vr in enumerate(res.variants):
        png = timeline_png(res, vr)
        name = f"timeline-{i + 1}-{_slug(vr.variant.name)}.png"
        (path.parent / name).write_bytes(png)
        parts.append(f"<h3>{html.escape(vr.variant.name)} <small>({html.escape(vr.variant.algo)} "
                     f"{html.escape(str(dict(vr.variant.params)) if vr.variant.params else '')})</small></h3>")
        parts.append(f"<img alt='timeline {html.escape(vr.variant.name)}' "
                     f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>")
        parts.append(_event_excerpt(vr))
    parts.append("<h2>Files</h2><p><code>decisions.jsonl</code> (every engine event: decisions with reasons, "
                 "segments, failovers, stalls, mpv state; and the faults and seeks QA applied), "
                 "<code>summary.json</code>, the PNG timelines.</p>")
    parts.append(f"<details><summary>summary.json</summary><pre>{html.escape(_json(summary_json(res)))}</pre></details>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "variant"


def _json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2)
