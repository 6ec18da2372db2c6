"""Vector icons drawn with QPainter: crisp at any DPI, no image files, no icon font."""

from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

NAMES = ("play", "pause", "back", "fwd10", "rew10", "volume", "mute", "fullscreen", "exit_fullscreen",
         "subtitles", "quality", "next", "search", "settings", "stats", "close", "plus", "check", "download", "help")


def _paint(p: QPainter, name: str, s: float) -> None:
    color = p.brush().color()
    pen = QPen(color, s * 0.085, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    fill = QBrush(color)
    p.setBrush(Qt.BrushStyle.NoBrush)  # outlines by default; solid shapes use fill explicitly
    u = s / 24.0

    def pt(x: float, y: float) -> QPointF:
        return QPointF(x * u, y * u)

    if name == "play":
        path = QPainterPath(pt(7, 4.5))
        path.lineTo(pt(19.5, 12))
        path.lineTo(pt(7, 19.5))
        path.closeSubpath()
        p.fillPath(path, fill)
    elif name == "pause":
        p.fillRect(QRectF(pt(6, 4.5), pt(10, 19.5)), fill)
        p.fillRect(QRectF(pt(14, 4.5), pt(18, 19.5)), fill)
    elif name == "back":
        p.drawPolyline([pt(14, 5), pt(7, 12), pt(14, 19)])
    elif name in ("fwd10", "rew10"):
        rect = QRectF(pt(4, 4), pt(20, 20))
        if name == "fwd10":
            p.drawArc(rect, 100 * 16, 290 * 16)
            p.drawPolyline([pt(11, 1.8), pt(13.2, 4), pt(11, 6.2)])
        else:
            p.drawArc(rect, 80 * 16, -290 * 16)
            p.drawPolyline([pt(13, 1.8), pt(10.8, 4), pt(13, 6.2)])
        f = p.font()
        f.setPixelSize(int(7.5 * u))
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRectF(pt(4, 4), pt(20, 20)), Qt.AlignmentFlag.AlignCenter, "10")
    elif name in ("volume", "mute"):
        path = QPainterPath(pt(3, 9))
        for x, y in ((7, 9), (12, 4.5), (12, 19.5), (7, 15), (3, 15)):
            path.lineTo(pt(x, y))
        path.closeSubpath()
        p.fillPath(path, fill)
        if name == "volume":
            p.drawArc(QRectF(pt(10, 8), pt(18, 16)), -50 * 16, 100 * 16)
            p.drawArc(QRectF(pt(9, 4.5), pt(21.5, 19.5)), -50 * 16, 100 * 16)
        else:
            p.drawLine(pt(15, 9), pt(21, 15))
            p.drawLine(pt(21, 9), pt(15, 15))
    elif name in ("fullscreen", "exit_fullscreen"):
        corners = [((4, 9), (4, 4), (9, 4)), ((15, 4), (20, 4), (20, 9)), ((20, 15), (20, 20), (15, 20)),
                   ((9, 20), (4, 20), (4, 15))]
        if name == "exit_fullscreen":
            corners = [((9, 4), (9, 9), (4, 9)), ((20, 9), (15, 9), (15, 4)), ((15, 20), (15, 15), (20, 15)),
                       ((4, 15), (9, 15), (9, 20))]
        for c in corners:
            p.drawPolyline([pt(*c[0]), pt(*c[1]), pt(*c[2])])
    elif name == "subtitles":
        p.drawRoundedRect(QRectF(pt(3, 5), pt(21, 19)), 2 * u, 2 * u)
        p.drawLine(pt(6.5, 11), pt(12, 11))
        p.drawLine(pt(14, 11), pt(17.5, 11))
        p.drawLine(pt(6.5, 15), pt(10, 15))
        p.drawLine(pt(12, 15), pt(17.5, 15))
    elif name == "quality":
        p.drawRoundedRect(QRectF(pt(2.5, 5), pt(21.5, 19)), 2 * u, 2 * u)
        f = p.font()
        f.setPixelSize(int(8.5 * u))
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRectF(pt(2.5, 5), pt(21.5, 19)), Qt.AlignmentFlag.AlignCenter, "HD")
    elif name == "next":
        path = QPainterPath(pt(5, 5))
        path.lineTo(pt(15, 12))
        path.lineTo(pt(5, 19))
        path.closeSubpath()
        p.fillPath(path, fill)
        p.fillRect(QRectF(pt(16.5, 5), pt(19.5, 19)), fill)
    elif name == "search":
        p.drawEllipse(QRectF(pt(4, 4), pt(16, 16)))
        p.drawLine(pt(14.5, 14.5), pt(20, 20))
    elif name == "settings":
        centre = pt(12, 12)
        for i in range(8):
            a = i * math.pi / 4
            p.drawLine(QPointF(centre.x() + math.cos(a) * 6 * u, centre.y() + math.sin(a) * 6 * u),
                       QPointF(centre.x() + math.cos(a) * 9 * u, centre.y() + math.sin(a) * 9 * u))
        p.drawEllipse(centre, 6 * u, 6 * u)
        p.drawEllipse(centre, 2.5 * u, 2.5 * u)
    elif name == "stats":
        p.drawPolyline([pt(3, 17), pt(8, 11), pt(12, 14), pt(17, 6), pt(21, 9)])
        p.drawLine(pt(3, 20.5), pt(21, 20.5))
    elif name == "close":
        p.drawLine(pt(6, 6), pt(18, 18))
        p.drawLine(pt(18, 6), pt(6, 18))
    elif name == "plus":
        p.drawLine(pt(12, 5), pt(12, 19))
        p.drawLine(pt(5, 12), pt(19, 12))
    elif name == "check":
        p.drawPolyline([pt(5, 12.5), pt(10, 17.5), pt(19.5, 7)])
    elif name == "download":
        p.drawLine(pt(12, 4), pt(12, 15))
        p.drawPolyline([pt(7, 10.5), pt(12, 15.5), pt(17, 10.5)])
        p.drawLine(pt(5, 20), pt(19, 20))
    elif name == "help":
        p.drawEllipse(QRectF(pt(3, 3), pt(21, 21)))
        f = p.font()
        f.setPixelSize(int(12 * u))
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRectF(pt(3, 3), pt(21, 21)), Qt.AlignmentFlag.AlignCenter, "?")


@lru_cache(maxsize=256)
def pixmap(name: str, size: int = 24, color: str = "#f2f2f5", dpr: float = 2.0) -> QPixmap:
    if name not in NAMES:
        raise KeyError(f"no icon {name!r}")
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    _paint(p, name, float(size))
    p.end()
    return pm


def icon(name: str, size: int = 24, color: str = "#f2f2f5") -> QIcon:
    ic = QIcon()
    ic.addPixmap(pixmap(name, size, color), QIcon.Mode.Normal)
    ic.addPixmap(pixmap(name, size, "#ffffff"), QIcon.Mode.Active)
    ic.addPixmap(pixmap(name, size, "#6b6b75"), QIcon.Mode.Disabled)
    return ic
