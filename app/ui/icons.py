"""Status icons (pass/fail/warn/skip and the verdicts), drawn with QPainter.

Drawn rather than loaded so they need no image plugin, stay sharp at any device
pixel ratio (one pixmap per common size) and pair a shape with the colour, so
they read without colour vision too: a tick, a cross, a bang, a dash.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

_COLOURS = {"pass": "#2e9d4f", "fail": "#d2372c", "warn": "#d98c00", "skip": "#8a8f98"}
VERDICT_STATUS = {"valid": "pass", "invalid": "fail", "unverified": "warn"}
_cache: dict[str, QIcon] = {}


def status_icon(status: str) -> QIcon:
    """Icon for a check status ('pass', 'fail', 'warn', 'skip') or a verdict."""
    status = VERDICT_STATUS.get(status, status)
    if status not in _COLOURS:
        status = "skip"
    icon = _cache.get(status)
    if icon is None:
        icon = QIcon()
        for size in (16, 24, 32, 48):
            icon.addPixmap(_draw(status, size))
        _cache[status] = icon
    return icon


def _draw(status: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(_COLOURS[status]))
    m = size * 0.06
    p.drawEllipse(QRectF(m, m, size - 2 * m, size - 2 * m))
    pen = QPen(QColor("white"), max(1.5, size * 0.12), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    s = size
    if status == "pass":
        path = QPainterPath(QPointF(s * 0.28, s * 0.52))
        path.lineTo(s * 0.44, s * 0.68)
        path.lineTo(s * 0.72, s * 0.34)
        p.drawPath(path)
    elif status == "fail":
        p.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
        p.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))
    elif status == "warn":
        p.drawLine(QPointF(s * 0.5, s * 0.26), QPointF(s * 0.5, s * 0.56))
        p.drawPoint(QPointF(s * 0.5, s * 0.72))
    else:
        p.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.7, s * 0.5))
    p.end()
    return pixmap
