"""Stats for nerds: live plots (pyqtgraph) of buffer, bitrate and throughput, plus numbers."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from player.events import PlaybackSnapshot
from ui.stats_history import StatsHistory

ACCENT = "#e8485c"


class StatsOverlay(QWidget):
    def __init__(self, history: StatsHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatsOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFixedWidth(420)
        self.history = history
        pg.setConfigOptions(antialias=True, background=None, foreground="#a3a3ae")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(6)
        title = QLabel("Playback stats", objectName="RowTitle")
        lay.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        # On screen and being fetched are different rungs for a buffer's length after a switch.
        names = ("Engine", "State", "On screen", "Fetching", "Throughput", "Buffer", "OCA",
                 "Dropped frames", "Last switch", "Last failover")
        for i, name in enumerate(names):
            grid.addWidget(QLabel(name, objectName="StatLabel"), i, 0)
            v = QLabel("–", objectName="StatValue")
            v.setWordWrap(True)
            v.setMaximumWidth(270)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[name] = v
            grid.addWidget(v, i, 1)
        lay.addLayout(grid)
        self.buffer_plot, self.buffer_curve = self._plot("Buffer (s)", "#5ec8a0")
        self.rate_plot, self.bitrate_curve = self._plot("Bitrate / throughput (kb/s)", ACCENT)
        self.throughput_curve = self.rate_plot.plot(pen=pg.mkPen("#6aa6ff", width=1.6))
        self.rate_plot.setLogMode(y=True)  # loopback throughput is 1000x the bitrate: log keeps both readable
        for plot in (self.buffer_plot, self.rate_plot):
            plot.enableAutoRange(x=False)
            plot.setXRange(-self.history.window_s, 0, padding=0)
        legend = self.rate_plot.addLegend(offset=(4, 4), labelTextColor="#c9c9d1", brush=pg.mkBrush(20, 20, 24, 200))
        legend.addItem(self.bitrate_curve, "bitrate")
        legend.addItem(self.throughput_curve, "throughput")
        lay.addWidget(self.buffer_plot)
        lay.addWidget(self.rate_plot)

    def _plot(self, label: str, color: str) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
        w = pg.PlotWidget()
        w.setFixedHeight(130)
        w.setBackground("#141418")
        w.setMenuEnabled(False)
        w.setMouseEnabled(x=False, y=False)
        w.hideButtons()
        w.showGrid(x=True, y=True, alpha=0.12)
        w.setTitle(label, color="#c9c9d1", size="9pt")
        w.setXRange(-self.history.window_s, 0, padding=0)
        curve = w.plot(pen=pg.mkPen(color, width=2))
        return w, curve

    def update_snapshot(self, snap: PlaybackSnapshot, engine: str) -> None:
        v = self.values
        v["Engine"].setText(engine or "–")
        v["State"].setText(str(getattr(snap.state, "value", snap.state)))
        v["On screen"].setText(_rung_line(snap.shown_rung, snap.rung_count, snap.resolution, snap.shown_bitrate_kbps))
        v["Fetching"].setText(_rung_line(snap.rung, snap.rung_count, snap.fetch_resolution, snap.bitrate_kbps))
        v["Throughput"].setText(f"{snap.throughput_kbps:,.0f} kb/s" if snap.throughput_kbps else "–")
        v["Buffer"].setText(f"{snap.buffer_s:.1f} s")
        v["OCA"].setText(snap.oca or "–")
        v["Dropped frames"].setText(str(snap.dropped_frames))
        v["Last switch"].setText(self.history.last_switch or "–")
        v["Last failover"].setText(self.history.last_failover or "–")
        if self.isVisible():
            xs, buf, rate, thr = self.history.series()
            self.buffer_curve.setData(xs, buf)
            self.bitrate_curve.setData(xs, rate)
            self.throughput_curve.setData(xs, thr)


def _rung_line(rung: int, count: int, size: tuple[int, int], kbps: float) -> str:
    """``rung 6/6 · 1920×1080 · 5,000 kb/s``; the parts not known yet are left out."""
    parts = [f"rung {rung + 1}/{count}"] if rung >= 0 else []
    if size[0]:
        parts.append(f"{size[0]}×{size[1]}")
    if kbps:
        parts.append(f"{kbps:,.0f} kb/s")
    return " · ".join(parts) or "–"
