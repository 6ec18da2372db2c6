"""Running a campaign's cells: one cell (:func:`run_cell`, what a worker process executes), on a
local process pool or on a Dask distributed cluster, storing each result as it finishes.

Why Dask distributed rather than Ray: a campaign is a bag of independent, CPU-bound Python
calls whose inputs and outputs are small dicts; ``distributed`` gives exactly that
(``Client(address).submit`` / ``as_completed``, the ``concurrent.futures`` shape the local pool
already has) as a pure-Python wheel, with a scheduler and workers started by two commands
(``dask scheduler``, ``dask worker ADDR``) and ``LocalCluster`` for tests. Ray brings a large
native runtime (raylet, object store, dashboard) sized for far bigger jobs, which on a 2-core
machine costs more than the runs it would spread.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import os
import socket
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping

from qa.campaign import Campaign, Cell, aggregate, format_aggregate
from qa.campaign_store import ResultStore


def pool_size(mode: str, cpus: int | None = None) -> int:
    """Simulations: one per core. Real-time runs: one per core pair (player + service + mpv
    each need a core's attention, or the run stops being real time)."""
    n = cpus or os.cpu_count() or 1
    return max(1, n if mode == "sim" else n // 2)


def run_cell(cell: Mapping[str, Any], content_dir: str | None = None) -> dict[str, Any]:
    """Run one cell and return its stored row; a failure is a row with ``error`` (never raises)."""
    c = Cell(**cell)
    row: dict[str, Any] = {"id": c.id, "scenario": Path(c.scenario).stem, "algorithm": c.algorithm,
                           "trace": c.trace, "repeat": c.repeat, "mode": c.mode}
    t0 = time.monotonic()
    try:
        row["metrics"] = _metrics(c, Path(content_dir) if content_dir else None)
    except Exception as exc:  # one bad cell must not end a night's campaign: stored, counted, shown
        message = getattr(exc, "user_message", None) or f"{exc.__class__.__name__}: {exc}"
        row["error"] = message
    row["wall_s"] = round(time.monotonic() - t0, 3)
    row["ran_by"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def _metrics(cell: Cell, content_dir: Path | None) -> dict[str, Any]:
    from qa.media import content_info, horizon_s
    from qa.network import effective_trace
    from qa.runner import sim_metrics
    from qa.scenario import Variant, load_scenario
    from qa.simrun import run_model

    scn = load_scenario(Path(cell.scenario), ci=cell.ci)
    variant = next((v for v in scn.variants if v.name == cell.algorithm), None) or Variant(cell.algorithm,
                                                                                          cell.algorithm)
    links = dict(scn.links)
    base = _trace(cell.trace) if cell.trace else None
    for oca, link in links.items():  # a repeat reseeds the jitter; a campaign trace replaces the rate
        link = replace(link, seed=link.seed + cell.repeat)
        links[oca] = replace(link, base=base, source=f"trace {cell.trace}") if base is not None else link
    scn = replace(scn, links=links, variants=(variant,))
    if cell.mode == "real":
        from qa.realrun import run_real

        if content_dir is None:
            raise RuntimeError("real-time cells need built content")
        info = content_info(scn, content_dir)
        run = run_real(scn, variant, content_dir, horizon_s=horizon_s(scn, info.video))
        if run.metrics is None:
            raise RuntimeError("the real run produced no metrics")
        out = run.metrics.to_json()
        out["timed_out"] = run.timed_out
        return out
    info = content_info(scn, content_dir)
    trace = effective_trace(scn, horizon_s(scn, info.video))
    return sim_metrics(run_model(scn, variant, trace, info.video, list(info.audio_bytes))).to_json()


def _trace(ref: str) -> Any:
    from abr.traces import resolve_traces

    name, _, index = ref.rpartition("#")
    return resolve_traces(name)[0].traces[int(index)]


def trace_count(ref: str) -> int:
    from abr.traces import resolve_traces

    return len(resolve_traces(ref)[0].traces)


class Progress:
    """A one-line progress bar on a terminal; on a pipe, a line every 5 %."""

    def __init__(self, total: int, done: int, stream: IO[str]) -> None:
        self.total, self.done, self.failed = total, done, 0
        self.stream = stream
        self.t0 = time.monotonic()
        self.started_at = done
        self.tty = stream.isatty()
        self._every = max(1, total // 20)

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.tty or self.done == self.total or self.done % self._every == 0:
            self.stream.write(("\r" if self.tty else "") + self.line() + ("" if self.tty else "\n"))
            self.stream.flush()

    def line(self) -> str:
        width = 30
        filled = int(width * self.done / max(1, self.total))
        ran = self.done - self.started_at
        elapsed = time.monotonic() - self.t0
        eta = elapsed / ran * (self.total - self.done) if ran else 0.0
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} cells"
                f"{f', {self.failed} failed' if self.failed else ''}, {elapsed:.0f} s, eta {eta:.0f} s")

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")


def execute(pending: list[Cell], store: ResultStore, *, workers: int, scheduler: str | None,
            content_dir: Path | None, progress: Progress) -> None:
    """Run ``pending`` and store each row as it finishes (Ctrl-C: the stored rows stay)."""
    content = str(content_dir) if content_dir else None
    args = [asdict(c) for c in pending]

    def finished(row: dict[str, Any]) -> None:
        store.add(row)
        progress.update(bool(row.get("error")))

    if scheduler:
        _on_dask(scheduler, args, content, finished)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: list[Future[dict[str, Any]]] = [pool.submit(run_cell, a, content) for a in args]
        try:
            for fut in as_completed(futures):
                finished(fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _on_dask(address: str, args: list[dict[str, Any]], content: str | None,
             finished: Callable[[dict[str, Any]], None]) -> None:
    from marquee.errors import ConfigError

    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise ConfigError("--scheduler needs Dask distributed: pip install 'marquee[qa]'") from exc
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"no Dask scheduler answers at {address}: {exc}") from exc
    try:
        futures = [client.submit(run_cell, a, content, pure=False) for a in args]
        try:
            for fut in dask_completed(futures):
                finished(fut.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()


def write_report(campaign: Campaign, rows: Iterable[Mapping[str, Any]], out_dir: Path,
                 wall_s: float, where: str) -> dict[str, Any]:
    """``summary.json`` and ``report.html`` from every stored row; returns the aggregate."""
    rows = list(rows)
    agg = aggregate(rows)
    summary = {"campaign": campaign.name, "mode": campaign.mode, "cells": len(rows),
               "failed": sum(1 for r in rows if r.get("error")), "wall_s": round(wall_s, 2), "ran_on": where, **agg}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    errors = [r for r in rows if r.get("error")]
    winners = "".join(f"<tr><td>{html.escape(w['scenario'])}</td><td>{html.escape(w['trace'])}</td>"
                      f"<td>{html.escape(', '.join(w['winners']))}</td><td>{w['qoe_lin']:.2f}</td></tr>"
                      for w in agg["trace_winners"])
    failures = "".join(f"<li>{html.escape(r['id'])}: {html.escape(str(r['error']))}</li>" for r in errors[:200])
    page = (f"<!doctype html><meta charset='utf-8'><title>Campaign {html.escape(campaign.name)}</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
            "pre{background:#f4f4f4;padding:8px}</style>"
            f"<h1>Campaign {html.escape(campaign.name)}</h1><p>{len(rows)} cells ({campaign.mode}), "
            f"{len(errors)} failed, ran on {html.escape(where)} in {wall_s:.1f} s. Means with 95 % confidence "
            "intervals (Student t); a trace win is the best mean QoE_lin over the repeats on that trace.</p>"
            f"<pre>{html.escape(format_aggregate(agg))}</pre><h2>Per-trace winners</h2>"
            f"<table><tr><th>scenario</th><th>trace</th><th>winner(s)</th><th>QoE_lin</th></tr>{winners}</table>"
            + (f"<h2>Failed cells</h2><ul>{failures}</ul>" if errors else ""))
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return agg
