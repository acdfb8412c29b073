"""TimelineView: paints delivery timelines (one lane each) on one shared time axis.

A painter only: the layout of attempts and waits comes from `core.timeline`
(`Timeline`, `Gap`), and every bit of axis arithmetic — pixel <-> time, zoom, pan,
ticks, fit — from `core.timeline.TimeAxis`. The widget keeps the current axis and
the selected attempt, answers the mouse and keys, and while a lane is pending runs
a ~4/s timer so its "next in N s" counts down live. Everything drawn with
`drawText` is plain text; hover tooltips are escaped (`untrusted.tooltip`).

Keys: +/- zoom, Left/Right pan, Home fits, Ctrl+Left/Right select the previous or
next attempt. Mouse: wheel zooms around the pointer (Shift+wheel scrolls the
surrounding area), drag pans, click selects an attempt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.core.timeline import DELIVERED, FAILED, GAVE_UP, PENDING, RETRY, AttemptMark, TimeAxis, Timeline, format_duration
from app.ui.attempt_details import attempt_summary
from app.ui.untrusted import tooltip

OUTCOME_COLOURS = {  # (light, dark) — semantic colours; the rest of the drawing follows the palette
    DELIVERED: ("#2e9d4f", "#56d364"), FAILED: ("#d2372c", "#ff7b72"), RETRY: ("#d98c00", "#e3b341"),
    GAVE_UP: ("#8b1a89", "#d2a8ff"), PENDING: ("#1f6feb", "#79c0ff"),
}
STATE_TEXT = {"pending": "pending", "delivered": "delivered", "failed": "given up / failed", "retired": "retired (410)",
              "observed": "observed"}
TICK_H, MARGIN_R, RADIUS = 22, 90, 6
PENDING_TICK_MS = 250


@dataclass
class LaneView:
    title: str
    timeline: Timeline
    flag: str = ""  # e.g. "out of order": drawn beside the title, lane tinted


class TimelineView(QWidget):
    attempt_selected = Signal(object)  # AttemptMark, or None
    axis_changed = Signal()

    def __init__(self, parent=None, *, clock: Callable[[], float] = time.time, lane_height: int = 0):
        super().__init__(parent)
        self.clock = clock
        self._lane_h = lane_height
        self.lanes: list[LaneView] = []
        self._axis: TimeAxis | None = None
        self._selected: tuple[int, int] | None = None
        self._drag_x: float | None = None
        self.user_moved = False  # zoomed or panned by hand since the last fit: refreshes keep the axis
        self.tick_origin: float | None = None  # set: ticks read "+5 min" from this time, not the clock time
        self.empty_text = "No delivery selected"  # drawn when there are no lanes (the policy lab says what to do)
        self._dragged = False
        self.timer = QTimer(self)
        self.timer.setInterval(PENDING_TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(TICK_H + 60)
        self.setAccessibleName("Delivery timeline")

    # -- content -----------------------------------------------------------------------
    def set_timeline(self, timeline: Timeline | None, *, keep_axis: bool = False) -> None:
        self.set_lanes([] if timeline is None else [LaneView(timeline.title, timeline)], keep_axis=keep_axis)

    def set_lanes(self, lanes: list[LaneView], *, keep_axis: bool = False) -> None:
        old = self.selected_attempt()
        self.lanes = list(lanes)
        self._selected = None
        if old is not None:  # keep the selection across a refresh of the same data
            for li, lane in enumerate(self.lanes):
                for ai, mark in enumerate(lane.timeline.attempts):
                    if (mark.n, mark.started_at) == (old.n, old.started_at) and len(self.lanes) == 1:
                        self._selected = (li, ai)
        compact = self._lane_h or (64 if len(self.lanes) <= 2 else 30)
        self.setMinimumHeight(TICK_H + max(len(self.lanes), 1) * compact + 8)
        self.setAccessibleDescription(self.describe())
        if not keep_axis or self._axis is None:
            self.fit()
        self._sync_timer()
        self.update()

    def describe(self) -> str:
        """What the picture shows, in words (the accessible description)."""
        lines = []
        for lane in self.lanes:
            marks = ", ".join(f"{m.label} {m.outcome}" for m in lane.timeline.attempts) or "no attempts"
            flag = f" ({lane.flag})" if lane.flag else ""
            lines.append(f"{lane.title}{flag}: {marks}; {STATE_TEXT.get(lane.timeline.state, lane.timeline.state)}")
        return "\n".join(lines)

    def lane_height(self) -> int:
        return self._lane_h or (64 if len(self.lanes) <= 2 else 30)

    def plot_left(self) -> float:
        return 150.0 if len(self.lanes) > 1 else 12.0

    def right_margin(self) -> float:
        """Room right of the plot for the lanes' outcome ("given up / failed" did not fit in 90 px)."""
        longest = max((self.fontMetrics().horizontalAdvance(STATE_TEXT.get(lane.timeline.state, lane.timeline.state))
                       for lane in self.lanes), default=0)
        return max(float(MARGIN_R), longest + 18.0)

    def plot_width(self) -> float:
        return max(self.width() - self.plot_left() - self.right_margin(), 40.0)

    # -- the axis (all arithmetic in core TimeAxis) ----------------------------------------
    @property
    def axis(self) -> TimeAxis:
        if self._axis is None:
            self.fit()
        return self._axis

    def fit(self) -> None:
        now, width = self.clock(), self.plot_width()
        spans = [TimeAxis.fit(lane.timeline, width, now) for lane in self.lanes if lane.timeline.attempts]
        if not spans:
            self._axis = TimeAxis(now - 60, now, width)
        else:
            self._axis = TimeAxis(min(a.start for a in spans), max(a.end for a in spans), width)
        self.user_moved = False
        self._axis_moved()

    def zoom(self, factor: float, around: float | None = None) -> None:
        axis = self.axis
        self._axis = axis.zoom(factor, around if around is not None else (axis.start + axis.end) / 2)
        self.user_moved = True
        self._axis_moved()

    def pan(self, pixels: float) -> None:
        self._axis = self.axis.pan(pixels)
        self.user_moved = True
        self._axis_moved()

    def _axis_moved(self) -> None:
        self.update()
        self.axis_changed.emit()

    def resizeEvent(self, event) -> None:
        if self._axis is not None:
            self._axis = TimeAxis(self._axis.start, self._axis.end, self.plot_width())
        super().resizeEvent(event)

    def x_of(self, t: float) -> float:
        return self.plot_left() + self.axis.x(t)

    # -- pending, live -----------------------------------------------------------------
    def pending_lanes(self) -> list[LaneView]:
        return [lane for lane in self.lanes if lane.timeline.state == "pending" and lane.timeline.pending_at is not None]

    def pending_text(self, lane: LaneView | None = None) -> str:
        lanes = [lane] if lane is not None else self.pending_lanes()
        if not lanes or lanes[0].timeline.pending_at is None:
            return ""
        left = lanes[0].timeline.pending_at - self.clock()
        return f"next in {format_duration(left)}" if left > 0 else "next attempt due now"

    def _sync_timer(self) -> None:
        if self.pending_lanes():
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        self.update()

    # -- selection ---------------------------------------------------------------------
    def selected_attempt(self) -> AttemptMark | None:
        if self._selected is None:
            return None
        lane, index = self._selected
        return self.lanes[lane].timeline.attempts[index]

    def selected_lane(self) -> int | None:
        return self._selected[0] if self._selected is not None else None

    def select_attempt(self, lane: int, index: int) -> None:
        marks = self.lanes[lane].timeline.attempts if 0 <= lane < len(self.lanes) else []
        self._selected = (lane, index) if 0 <= index < len(marks) else None
        self.update()
        self.attempt_selected.emit(self.selected_attempt())

    def marker_pos(self, lane: int, index: int) -> QPointF:
        mark = self.lanes[lane].timeline.attempts[index]
        return QPointF(self.x_of(mark.started_at), self._lane_mid(lane))

    def attempt_at(self, pos: QPointF) -> tuple[int, int] | None:
        best, best_d = None, (RADIUS + 4) ** 2
        for li in range(len(self.lanes)):
            for ai in range(len(self.lanes[li].timeline.attempts)):
                p = self.marker_pos(li, ai)
                d = (p.x() - pos.x()) ** 2 + (p.y() - pos.y()) ** 2
                if d <= best_d:
                    best, best_d = (li, ai), d
        return best

    def _lane_mid(self, lane: int) -> float:
        return TICK_H + lane * self.lane_height() + self.lane_height() * 0.55

    # -- input -------------------------------------------------------------------------
    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or not self.lanes:
            event.ignore()
            return
        steps = event.angleDelta().y() / 120
        if steps:
            around = self.axis.t(event.position().x() - self.plot_left())
            self.zoom(1.25 ** steps, around)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_x, self._dragged = event.position().x(), False
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag_x is not None and event.buttons() & Qt.MouseButton.LeftButton:
            dx = event.position().x() - self._drag_x
            if abs(dx) >= 2 or self._dragged:
                self._dragged = True
                self._drag_x = event.position().x()
                self.pan(dx)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._dragged:
            hit = self.attempt_at(event.position())
            if hit is not None:
                self.select_attempt(*hit)
        self._drag_x = None
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        key, ctrl = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.5)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom(1 / 1.5)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and ctrl:
            self._step_selection(-1 if key == Qt.Key.Key_Left else 1)
        elif key == Qt.Key.Key_Left:
            self.pan(self.plot_width() / 8)
        elif key == Qt.Key.Key_Right:
            self.pan(-self.plot_width() / 8)
        elif key == Qt.Key.Key_Home:
            self.fit()
        else:
            super().keyPressEvent(event)

    def _step_selection(self, step: int) -> None:
        if not self.lanes:
            return
        lane, index = self._selected or (0, -1 if step > 0 else len(self.lanes[0].timeline.attempts))
        count = len(self.lanes[lane].timeline.attempts)
        if count:
            self.select_attempt(lane, min(max(index + step, 0), count - 1))

    def tooltip_at(self, pos: QPointF) -> str:
        """The hover text for the attempt under `pos`: escaped, since it holds what endpoints answered."""
        hit = self.attempt_at(pos)
        if hit is None:
            return ""
        return tooltip(attempt_summary(self.lanes[hit[0]].timeline.attempts[hit[1]], self.tick_origin))

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    # -- painting ----------------------------------------------------------------------
    def colour(self, outcome: str) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        return QColor(OUTCOME_COLOURS.get(outcome, OUTCOME_COLOURS[FAILED])[1 if dark else 0])

    def paintEvent(self, event) -> None:
        from app.ui.timeline_paint import paint_timeline_view

        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            paint_timeline_view(self, p)
        finally:
            p.end()

