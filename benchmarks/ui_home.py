"""Home page benchmark: 40 rows x 40 titles.

Measures time to first paint after the rows response, time until every visible
tile has its artwork, RSS after scrolling the whole home (down, and each row to
its end), and UI-thread stalls while scrolling (a 5 ms timer probe: the largest
gap between ticks). Baseline in the same run: 5 rows x 10 titles.

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_home.py            # embedded service, real catalogue
    MARQUEE_HOME=/tmp/ui-home QT_QPA_PLATFORM=offscreen python benchmarks/ui_home.py  # its built content
    QT_QPA_PLATFORM=offscreen python benchmarks/ui_home.py --fake     # no service needed
Goals (issue 5): first paint <= 300 ms, RSS <= 400 MB, no stall > 50 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Multiplied:
    """Any CatalogSource, its rows repeated/padded to rows x per_row (distinct title ids kept)."""

    def __init__(self, inner, rows: int, per_row: int) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.n_rows, self.per_row = inner, rows, per_row
        self.rows_at = 0.0

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def rows(self, profile_id):  # type: ignore[no-untyped-def]
        from ui.catalog import Row

        base = self.inner.rows(profile_id)
        pool = [t for r in base for t in r.items if "continue" not in r.kind]
        out = []
        for i in range(self.n_rows):
            items = tuple(replace(pool[(i * 7 + j) % len(pool)], progress=None) for j in range(self.per_row))
            out.append(Row(f"bench-{i}", f"Row {i + 1}", "genre", items))
        self.rows_at = time.perf_counter()
        return out


def run_case(app, source, rows: int, per_row: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, QTimer

    from ui.app import create_context, create_window

    home = Path(tempfile.mkdtemp(prefix="mq-bench-"))
    os.environ["MARQUEE_HOME"] = str(home)
    src = Multiplied(source, rows, per_row)
    ctx = create_context(src, artwork_dir=home / "artwork", settings_path=home / "s.toml", state_path=home / "u.json")
    win = create_window(ctx)
    win.resize(1440, 900)
    win.show()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def until(pred, timeout_s: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
        end = time.perf_counter() + timeout_s
        while time.perf_counter() < end:
            if pred():
                return True
            wait(5)
        return False

    until(lambda: bool(win.picker.buttons))
    marks: dict[str, float] = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, e):  # type: ignore[no-untyped-def]
            if e.type() == QEvent.Type.Paint and "paint" not in marks:
                marks["paint"] = time.perf_counter()
            return False

    fp = FirstPaint()
    win.home.rowsShown.connect(lambda n: [v.viewport().installEventFilter(fp) for v in win.home.row_views[:1]])
    win.picker.buttons[0].click()
    until(lambda: "paint" in marks)
    first_paint_ms = (marks["paint"] - src.rows_at) * 1000

    def visible_done() -> bool:
        return ctx.artwork.requests > 0 and ctx.artwork.pending() == 0

    until(visible_done, 60)
    all_art_ms = (time.perf_counter() - src.rows_at) * 1000

    # Scroll the whole page while a 5 ms probe measures the UI thread's longest stall.
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    probe.start()
    bar = win.home.scroll.verticalScrollBar()
    step = 60
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + step)
        wait(16)
    for view in win.home.row_views:
        hb = view.horizontalScrollBar()
        win.home.scroll.ensureWidgetVisible(view)
        for _ in range(3):
            hb.setValue(hb.value() + hb.pageStep())
            wait(16)
    until(visible_done, 60)
    probe.stop()
    gaps = gaps[1:] or [0.0]
    gaps.sort()
    result = {
        "first_paint_ms": first_paint_ms,
        "visible_artwork_ms": all_art_ms,
        "rss_mb": rss_mb(),
        "max_stall_ms": gaps[-1],
        "p99_tick_ms": gaps[int(len(gaps) * 0.99) - 1 if len(gaps) > 1 else 0],
        "artwork_loads": float(ctx.artwork.requests),
        "memory_cache_mb": ctx.artwork.memory.bytes / 1e6,
    }
    win.close()
    ctx.artwork.shutdown()
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fake", action="store_true", help="use the in-process fake service")
    ap.add_argument("--service", default="", help="use this service URL")
    ap.add_argument("--content", default="", help="content folder for the embedded service "
                                                   "(default: the built content of MARQUEE_HOME)")
    args = ap.parse_args()
    from ui.app import ensure_application

    app = ensure_application()
    embedded = None
    if args.fake:
        from tests.ui.fakes import FakeSource

        source = FakeSource(rows=6, per_row=40)
        label = "fake service"
    else:
        from marquee.embedded import start_embedded_service
        from ui.service_client import ApiCatalog

        url = args.service
        if not url:
            embedded = start_embedded_service(Path(args.content) if args.content else None)
            url = embedded.url
        source = ApiCatalog.connect(url)
        label = f"service {url}"
    try:
        base = run_case(app, source, 5, 10)
        big = run_case(app, source, 40, 40)
    finally:
        if embedded is not None:
            embedded.stop()
    goals = {"first_paint_ms": 300, "rss_mb": 400, "max_stall_ms": 50}
    print(f"ui_home benchmark ({label}); baseline 5x10, target 40x40")
    print(f"{'metric':<22}{'5x10':>12}{'40x40':>12}{'ratio':>8}{'goal':>8}")
    for key in base:
        ratio = big[key] / base[key] if base[key] else float("nan")
        goal = goals.get(key)
        print(f"{key:<22}{base[key]:>12.1f}{big[key]:>12.1f}{ratio:>8.2f}{('<= ' + str(goal)) if goal else '':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
