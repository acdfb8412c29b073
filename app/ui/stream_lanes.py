"""StreamLanesView: many deliveries of one stream, one lane each, on one shared axis,
so bursts of retries line up and deliveries that arrived out of order (core
`out_of_order`) stand out (tinted, flagged). Filtered by event type and state in
the store (core `stream_lanes`)."""

from __future__ import annotations

import sqlite3
import time
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from app.core.timeline import Lane, out_of_order, stream_lanes
from app.ui.timeline_view import LaneView, TimelineView
from app.ui.untrusted import plain_label

OUT_OF_ORDER = "out of order"


class StreamLanesView(QWidget):
    delivery_activated = Signal(int)  # an attempt of this delivery's lane was selected

    def __init__(self, parent=None, *, clock: Callable[[], float] = time.time):
        super().__init__(parent)
        self.summary = plain_label("Select a delivery to see its stream's deliveries side by side.", self)
        self.timeline = TimelineView(self, clock=clock)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.timeline)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.scroll, 1)
        self.stream_id: str | None = None
        self.lanes: list[Lane] = []
        self.late: list[int] = []
        self.timeline.attempt_selected.connect(self._attempt_selected)

    def show_stream(self, conn: sqlite3.Connection | None, stream_id: str | None, *, event_type: str | None = None,
                    state: str | None = None, keep_axis: bool = False) -> None:
        self.stream_id = stream_id
        if conn is None or stream_id is None:
            self.lanes, self.late = [], []
            self.timeline.set_lanes([])
            self.summary.setText("No stream: a delivery without a stream (a replay) has no lanes.")
            return
        self.lanes = stream_lanes(conn, stream_id, self.timeline.clock(), event_type=event_type, state=state)
        self.late = out_of_order(self.lanes)
        late = set(self.late)
        self.timeline.set_lanes([LaneView(lane.timeline.title, lane.timeline, OUT_OF_ORDER if lane.delivery_id in late
                                          else "") for lane in self.lanes], keep_axis=keep_axis)
        retries = sum(max(len(lane.timeline.attempts) - 1, 0) for lane in self.lanes)
        self.summary.setText(f"Stream {stream_id}: {len(self.lanes)} deliveries, {retries} retries, "
                             f"{len(self.late)} delivered out of order")

    def _attempt_selected(self, mark) -> None:
        lane = self.timeline.selected_lane()
        if mark is not None and lane is not None:
            self.delivery_activated.emit(self.lanes[lane].delivery_id)
