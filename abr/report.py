"""Self-contained HTML report with embedded PNG plots (matplotlib, Agg backend, imported lazily).

Plots: the QoE_lin distribution per algorithm (CDF) for each trace set and mode, and for a few
sessions a timeline per algorithm of throughput (the trace and each download's measured
rate), buffer level and chosen bitrate.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from abr.bench import RunResult
from abr.traces import Trace, TraceSet


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _cdf_figure(plt: Any, runs: Sequence[RunResult], title: str) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for r in runs:
        values = sorted(m.qoe_lin for m in r.metrics)
        n = len(values)
        ax.step(values, [(i + 1) / n for i in range(n)], where="post", label=f"{r.summary.algo} "
                f"(mean {r.summary.qoe_lin_mean:.1f})")
    ax.set_xlabel("QoE_lin per session")
    ax.set_ylabel("CDF")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = _png(fig)
    plt.close(fig)
    return out


def _timeline_figure(plt: Any, trace: Trace, runs: Sequence[RunResult], index: int) -> str:
    fig, axes = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
    horizon = max((r.sessions[index].time_s[-1] for r in runs if r.sessions), default=trace.duration_s)
    t, bw = [], []
    period = trace.duration_s
    k = 0
    while True:  # the trace as a step function, wrapped like the simulator does
        offset = k * period
        for i in range(1, len(trace.times_s)):
            t.extend([offset + trace.times_s[i - 1], offset + trace.times_s[i]])
            bw.extend([trace.bw_mbps[i], trace.bw_mbps[i]])
        k += 1
        if offset + period >= horizon or k > 20:
            break
    axes[0].plot(t, bw, color="0.6", lw=1, label="trace")
    for r in runs:
        s = r.sessions[index]
        axes[0].plot(s.time_s, s.throughput_mbps, ".", ms=3, label=f"{r.summary.algo} measured")
        axes[1].plot(s.time_s, s.buffer_s, lw=1.2, label=r.summary.algo)
        kbps = [s.bitrates_kbps[q] for q in s.rungs]
        axes[2].step(s.time_s, kbps, where="pre", lw=1.2, label=r.summary.algo)
    axes[0].set_ylabel("Mbit/s")
    axes[0].set_xlim(0, horizon)
    axes[1].set_ylabel("buffer s")
    axes[2].set_ylabel("kbps")
    axes[2].set_xlabel("time s")
    axes[0].set_title(f"session {trace.name}")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, ncol=3)
    out = _png(fig)
    plt.close(fig)
    return out


def write_report(path: Path, results: Sequence[RunResult], sets: Sequence[TraceSet], table: str,
                 timelines_per_set: int = 3) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Marquee ABR simulation report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}pre{background:#f4f4f4;padding:1em;"
        "overflow-x:auto}img{max-width:100%}</style></head><body>",
        "<h1>Marquee ABR simulation report</h1>",
        f"<pre>{html.escape(table)}</pre>",
    ]
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.summary.traces, r.summary.mode), []).append(r)
    by_name = {s.name: s for s in sets}
    for (traces, mode), runs in groups.items():
        parts.append(f"<h2>{html.escape(traces)} ({html.escape(mode)})</h2>")
        parts.append(f"<img alt='QoE CDF' src='data:image/png;base64,{_cdf_figure(plt, runs, f'{traces} {mode}')}'>")
        tset = by_name.get(traces)
        if tset is None or not all(r.sessions for r in runs):
            continue
        n = len(tset.traces)
        picks = sorted({int(i * n / timelines_per_set) for i in range(timelines_per_set)}) if n else []
        for i in picks:
            img = _timeline_figure(plt, tset.traces[i], runs, i)
            parts.append(f"<h3>{html.escape(tset.traces[i].name)}</h3><img alt='timeline' src='data:image/png;base64,{img}'>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
