"""The drawing half of TimelineView: ticks, lanes, waits, attempt markers, the pending
next attempt and the final state, in palette colours (so light and dark both work).
Text goes through QPainter.drawText, which never interprets markup."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPolygonF

from app.core.timeline import DELIVERED, FAILED, GAVE_UP, PENDING, RETRY, format_duration
from app.ui.timeline_view import RADIUS, STATE_TEXT, TICK_H, LaneView, TimelineView

def local_tick_label(t: float, step: float) -> str:
    """core `tick_label` in the local time zone, so ticks read like the tables' times."""
    moment = datetime.fromtimestamp(t)
    return moment.strftime("%b %d" if step >= 86400 else "%H:%M" if step >= 60 else "%H:%M:%S")


_STATE_OUTCOME = {"delivered": DELIVERED, "failed": GAVE_UP, "retired": GAVE_UP, "pending": PENDING}


def paint_timeline_view(view: TimelineView, p: QPainter) -> None:
    pal = view.palette()
    p.fillRect(view.rect(), pal.color(QPalette.ColorRole.Base))
    text, faint = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.PlaceholderText)
    if not view.lanes:
        p.setPen(faint)
        p.drawText(QRectF(view.rect()), Qt.AlignmentFlag.AlignCenter, view.empty_text)
        return
    axis, left, width = view.axis, view.plot_left(), view.plot_width()
    grid = QColor(pal.color(QPalette.ColorRole.Mid))
    grid.setAlpha(90)
    offset = datetime.fromtimestamp(axis.start).astimezone().utcoffset() if view.tick_origin is None else None
    ticks = axis.ticks(utc_offset=offset.total_seconds() if offset else 0.0)
    step = ticks[1][0] - ticks[0][0] if len(ticks) > 1 else 1.0
    for t, label in ticks:
        if view.tick_origin is None:
            label = local_tick_label(t, step)
        else:
            offset = t - view.tick_origin
            label = "0" if abs(offset) < 1e-6 else ("+" if offset > 0 else "-") + format_duration(abs(offset))
        x = left + axis.x(t)
        p.setPen(QPen(grid, 1))
        p.drawLine(QPointF(x, TICK_H - 4), QPointF(x, view.height()))
        p.setPen(faint)
        p.drawText(QPointF(x + 3, TICK_H - 7), label)
    for index, lane in enumerate(view.lanes):
        _paint_lane(view, p, index, lane, text, faint)
    now_x = view.x_of(view.clock())
    if left <= now_x <= left + width and view.pending_lanes():
        p.setPen(dashed(pal.color(QPalette.ColorRole.Highlight), 1))
        p.drawLine(QPointF(now_x, TICK_H - 4), QPointF(now_x, view.height()))


def _paint_lane(view: TimelineView, p: QPainter, index: int, lane: LaneView, text: QColor, faint: QColor) -> None:
    h, left, width = view.lane_height(), view.plot_left(), view.plot_width()
    top, mid = TICK_H + index * h, TICK_H + index * h + h * 0.55
    timeline = lane.timeline
    multi = len(view.lanes) > 1
    if lane.flag:
        tint = view.colour(FAILED)
        tint.setAlpha(28)
        p.fillRect(QRectF(0, top, view.width(), h), tint)
    elif multi and index % 2:
        p.fillRect(QRectF(0, top, view.width(), h), view.palette().color(QPalette.ColorRole.AlternateBase))
    title = lane.title if not lane.flag or multi else f"{lane.title} · {lane.flag}"
    p.setPen(view.colour(FAILED) if lane.flag else text)
    fm = p.fontMetrics()
    if multi and lane.flag:  # the flag at the lane's right end, where the eye goes for outcomes
        p.drawText(QRectF(left, top, width, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                   f"⚠ {lane.flag}")
    if multi:
        p.drawText(QRectF(4, top, left - 10, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(title, Qt.TextElideMode.ElideRight, int(left - 12)))
    else:
        p.drawText(QPointF(left, top + fm.ascent() + 2), fm.elidedText(title, Qt.TextElideMode.ElideRight, int(width)))
    state = STATE_TEXT.get(timeline.state, timeline.state)
    p.setPen(view.colour(_STATE_OUTCOME.get(timeline.state, RETRY)) if timeline.state != "observed" else faint)
    p.drawText(QRectF(left + width + 8, top, view.width() - left - width - 10, h),
               Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, state)
    if not timeline.attempts:
        return
    p.save()
    p.setClipRect(QRectF(left - RADIUS - 3, top, width + 2 * RADIUS + 6, h))
    first, last = timeline.attempts[0], timeline.attempts[-1]
    p.setPen(QPen(faint, 1.5))
    p.drawLine(QPointF(view.x_of(first.started_at), mid), QPointF(view.x_of(last.ended_at or last.started_at), mid))
    labels = h >= 40
    for gap in timeline.gaps:
        x1, x2 = view.x_of(gap.start), view.x_of(gap.end)
        if gap.cause == "pending":  # elapsed (solid) up to the live clock, still to wait (dashed) after it
            x_last = view.x_of(last.ended_at or last.started_at)
            x_now = min(max(view.x_of(view.clock()), x_last), x2)
            p.setPen(QPen(faint, 1.5))
            p.drawLine(QPointF(x_last, mid), QPointF(x_now, mid))
            p.setPen(dashed(view.colour(PENDING)))
            p.drawLine(QPointF(x_now, mid), QPointF(x2, mid))
            p.setBrush(view.palette().color(QPalette.ColorRole.Base))
            p.drawEllipse(QPointF(x2, mid), RADIUS, RADIUS)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(view.colour(PENDING))
            label = view.pending_text(lane)
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(min(x2 - w / 2, left + width - w), mid - RADIUS - 5), label)
            continue
        if gap.cause == "retry-after":
            p.setPen(dashed(view.colour(RETRY)))
            p.drawLine(QPointF(x1, mid), QPointF(x2, mid))
        label = gap.label
        if labels and fm.horizontalAdvance(label) < x2 - x1 - 2 * RADIUS - 4:
            p.setPen(faint)
            p.drawText(QRectF(x1, mid - fm.height() - RADIUS, x2 - x1, fm.height()), Qt.AlignmentFlag.AlignCenter, label)
    selected = view.selected_attempt()
    label_right = -1e9
    for mark in timeline.attempts:
        centre = QPointF(view.x_of(mark.started_at), mid)
        colour = view.colour(mark.outcome)
        p.setPen(QPen(view.palette().color(QPalette.ColorRole.Base), 1))
        p.setBrush(colour)
        if mark.outcome == GAVE_UP:
            p.drawPolygon(diamond(centre, RADIUS + 1.5))
        elif mark.outcome == FAILED:
            p.drawRect(QRectF(centre.x() - RADIUS, mid - RADIUS, 2 * RADIUS, 2 * RADIUS))
        else:
            p.drawEllipse(centre, RADIUS, RADIUS)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if selected is mark:
            p.setPen(QPen(view.palette().color(QPalette.ColorRole.Highlight), 2.5))
            p.drawEllipse(centre, RADIUS + 4, RADIUS + 4)
        if labels and centre.x() - fm.horizontalAdvance(mark.label) / 2 > label_right + 4:
            p.setPen(text)
            w = fm.horizontalAdvance(mark.label)
            p.drawText(QPointF(centre.x() - w / 2, mid + RADIUS + fm.ascent() + 2), mark.label)
            label_right = centre.x() + w / 2
    p.restore()


def diamond(centre: QPointF, r: float) -> QPolygonF:
    return QPolygonF([QPointF(centre.x(), centre.y() - r), QPointF(centre.x() + r, centre.y()),
                      QPointF(centre.x(), centre.y() + r), QPointF(centre.x() - r, centre.y())])


def dashed(colour: QColor, width: float = 1.5) -> QPen:
    pen = QPen(colour, width)
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen
