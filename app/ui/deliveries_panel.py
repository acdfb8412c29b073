"""DeliveriesPanel: every delivery of the workspace (simulator pushes and polls,
replays) in a paged table, filtered by stream, event type and state; below it the
timeline of the selected delivery with the details of the selected attempt, and the
stream-level lanes view of that delivery's stream.

It reads the workspace through the connection getter it is given and refreshes on
the batches of delivery ids the window hands it (`deliveries_changed`), at most
every REFRESH_MS, keeping the axis where the user zoomed or panned it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)

from app.core.delivery_view import DeliveryFilter, delivery_choices
from app.core.store.deliveries import get_delivery
from app.core.timeline import delivery_timeline, received_capture
from app.ui.attempt_details import AttemptDetails
from app.ui.capture_model import short_event_type
from app.ui.deliveries_model import COL_ID, DeliveriesModel
from app.ui.stream_lanes import StreamLanesView
from app.ui.timeline_view import TimelineView
from app.ui.untrusted import plain_label, tooltip

REFRESH_MS = 250
LANES_S = 1.0
ANY = "Any"
STATES = ("pending", "delivered", "failed", "retired")


class DeliveriesPanel(QWidget):
    capture_requested = Signal(int)  # show this capture in the capture list (the attempt our receiver captured)

    def __init__(self, connection: Callable[[], sqlite3.Connection | None], parent=None, *,
                 clock: Callable[[], float] = time.time):
        super().__init__(parent)
        self._connection = connection
        self.clock = clock
        self.shown_id: int | None = None
        self._request = ""
        self._record: dict | None = None
        self.received_id: int | None = None  # the capture our receiver made of the selected attempt
        self._changed: set[int] = set()
        self._lanes_at, self._lanes_stale = 0.0, False
        self.stream = self._combo("stream")
        self.event_type = self._combo("event type")
        self.state = self._combo("state")
        self.state.addItems(STATES)
        filters = QHBoxLayout()
        for text, box in (("Stream", self.stream), ("Event type", self.event_type), ("State", self.state)):
            label = QLabel(text, self)
            label.setBuddy(box)
            filters.addWidget(label)
            filters.addWidget(box)
        filters.addStretch(1)

        self.model = DeliveriesModel(connection, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        for column, width in enumerate((50, 140, 110, 130, 70, 100, 70, 90, 140)):
            self.table.setColumnWidth(column, width)

        self.title = plain_label("", self)
        self.timeline = TimelineView(self, clock=clock)
        self.details = AttemptDetails(self)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.title)
        column.addWidget(self.timeline, 1)
        hint = plain_label("Wheel or +/- zoom · drag or arrows pan · Home fits · click an attempt", self, selectable=False)
        hint.setEnabled(False)
        column.addWidget(hint)
        self.show_capture_button = QPushButton("Show the captured request", self)
        self.show_capture_button.setToolTip("The request as our receiver captured it (when this attempt went to it)")
        self.show_capture_button.setEnabled(False)
        self.show_capture_button.clicked.connect(self._show_received)
        right = QWidget(self)
        details_column = QVBoxLayout(right)
        details_column.setContentsMargins(0, 0, 0, 0)
        details_column.addWidget(self.details, 1)
        details_column.addWidget(self.show_capture_button)
        one = QSplitter(Qt.Orientation.Horizontal, self)
        one.addWidget(left)
        one.addWidget(right)
        one.setStretchFactor(0, 3)
        one.setStretchFactor(1, 2)
        self.lanes = StreamLanesView(self, clock=clock)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(one, "Timeline")
        self.tabs.addTab(self.lanes, "Stream lanes")

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setSizes([140, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._apply_changes)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.timeline.attempt_selected.connect(self._attempt_selected)
        self.lanes.delivery_activated.connect(self.show_delivery)
        self.tabs.currentChanged.connect(self._tab_changed)
        for box in (self.stream, self.event_type, self.state):
            box.currentIndexChanged.connect(self._filter_changed)

    def _combo(self, what: str) -> QComboBox:
        box = QComboBox(self)
        box.addItem(ANY, None)
        box.setToolTip(f"Show only deliveries of this {what}")
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return box

    # -- data ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the workspace again (another workspace, or first show)."""
        self._fill_choices()
        self.model.reload()
        self.show_delivery(self.shown_id) if self.shown_id is not None else self._show(None)

    def _fill_choices(self) -> None:
        conn = self._connection()
        streams, types = delivery_choices(conn) if conn is not None else ([], [])
        for box, values, text in ((self.stream, streams, str), (self.event_type, types, short_event_type)):
            have = {box.itemData(i) for i in range(1, box.count())}
            for value in values:
                if value not in have:
                    box.addItem(text(value), value)
                    box.setItemData(box.count() - 1, tooltip(str(value)), Qt.ItemDataRole.ToolTipRole)

    def current_filter(self) -> DeliveryFilter:
        return DeliveryFilter(self.stream.currentData(), self.event_type.currentData(),
                              self.state.currentText() if self.state.currentIndex() > 0 else None)

    def _filter_changed(self) -> None:
        keep = self.shown_id
        self.model.set_filter(self.current_filter())
        self._select_row_of(keep)
        self._refresh_lanes()

    def deliveries_changed(self, ids: list[int]) -> None:
        """A batch of changed delivery ids from the bridge: coalesced, applied within REFRESH_MS."""
        self._changed.update(ids)
        if not self._timer.isActive():
            self._timer.start()

    def _apply_changes(self) -> None:
        changed, self._changed = self._changed, set()
        if self.model.refresh(sorted(changed)):
            self._fill_choices()
        if self.shown_id in changed:
            self._show(self.shown_id, keep_axis=self.timeline.user_moved)
        if changed and self.lanes.stream_id is not None:
            self._lanes_stale = True
        if self._lanes_stale and self.tabs.currentWidget() is self.lanes:
            # up to 200 lanes, a query each: at most once a LANES_S however busy the stream is
            if time.monotonic() - self._lanes_at >= LANES_S:
                self._refresh_lanes(keep_axis=self.lanes.timeline.user_moved)
            elif not self._timer.isActive():
                self._timer.start()

    # -- selection ---------------------------------------------------------------------
    def show_delivery(self, delivery_id: int | None) -> None:
        """Show a delivery's timeline and select its row (clearing filters that hide it)."""
        if delivery_id is not None and self.model.row_of(delivery_id) is None and self.current_filter() != DeliveryFilter():
            for box in (self.stream, self.event_type, self.state):
                box.blockSignals(True)
                box.setCurrentIndex(0)
                box.blockSignals(False)
            self.model.set_filter(DeliveryFilter())
        if delivery_id is not None and not self._select_row_of(delivery_id):
            self._show(delivery_id)

    def _select_row_of(self, delivery_id: int | None) -> bool:
        row = self.model.row_of(delivery_id) if delivery_id is not None else None
        if row is None:
            return False
        index = self.model.index(row, COL_ID)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        delivery_id = self.model.delivery_id(current)
        if delivery_id is not None and delivery_id != self.shown_id:
            self._show(delivery_id)

    def _show(self, delivery_id: int | None, *, keep_axis: bool = False) -> None:
        conn = self._connection()
        stream_before = self.lanes.stream_id
        self.shown_id = delivery_id
        record = get_delivery(conn, delivery_id) if conn is not None and delivery_id is not None else None
        timeline = delivery_timeline(conn, delivery_id, self.clock()) if record is not None else None
        self.timeline.set_timeline(timeline, keep_axis=keep_axis)
        self._record = record
        if record is None:
            self.title.setText("" if delivery_id is None else f"Delivery #{delivery_id} is not in this workspace.")
            self.details.show_attempt(None)
            self._match_capture(None)
            return
        reason = record.get("reason")  # "delivered · … · delivered" said it twice
        self.title.setText(f"Delivery #{record['id']}: {record['state']} · policy {record['policy']}"
                           + (f" · {reason}" if reason and reason != record["state"] else ""))
        self._request = "\n".join(f"{k}: {v}" for k, v in (
            ("endpoint", record["endpoint"] or "poll"), ("mode", record["mode"]), ("source", record["source"]),
            ("stream", record["stream_id"]), ("jti", record["jti"]), ("event", record["event_type"])) if v)
        marks = timeline.attempts
        if marks:
            if self.timeline.selected_attempt() is None:
                self.timeline.select_attempt(0, len(marks) - 1)
            else:
                self._attempt_selected(self.timeline.selected_attempt())
        else:
            self.details.show_attempt(None)
            self._match_capture(None)
        if record["stream_id"] != stream_before and self.tabs.currentWidget() is self.lanes:
            self._refresh_lanes()

    def _attempt_selected(self, mark) -> None:
        self.details.show_attempt(mark, self._request if mark is not None else "")
        self._match_capture(mark)

    def _match_capture(self, mark) -> None:
        conn = self._connection()
        found = None
        if mark is not None and self._record is not None and conn is not None:
            found = received_capture(conn, self._record, mark)
        self.received_id = found
        self.show_capture_button.setEnabled(found is not None)
        self.show_capture_button.setText(f"Show capture #{found}, as our receiver got it" if found is not None
                                         else "Show the captured request")

    def _show_received(self) -> None:
        if self.received_id is not None:
            self.capture_requested.emit(self.received_id)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.lanes:
            self._refresh_lanes()

    def _refresh_lanes(self, *, keep_axis: bool = False) -> None:
        if self.tabs.currentWidget() is not self.lanes:
            return
        conn = self._connection()
        record = get_delivery(conn, self.shown_id) if conn is not None and self.shown_id is not None else None
        stream_id = self.stream.currentData() or (record["stream_id"] if record else None)
        flt = self.current_filter()
        self.lanes.show_stream(conn, stream_id, event_type=flt.event_type, state=flt.state, keep_axis=keep_axis)
        self._lanes_at, self._lanes_stale = time.monotonic(), False
