"""ObservedRetriesPanel: how a foreign sender retries, measured at our receiver.

Requests that share a delivery key (a SET's jti, `webhook-id`, `X-GitHub-Delivery`,
...) are one delivery retried; core `observed_groups` lists them, core
`observed_timeline` lays one out with the gaps measured, and `observed` reads the
waits against the Retry-After we answered. The table model is an adapter over the
groups; new captures refresh it at most every REFRESH_MS, only while shown.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTableView, QVBoxLayout, QWidget

from app.core.observed import describe_schedule
from app.core.timeline import observed_groups, observed_timeline
from app.ui.attempt_details import AttemptDetails
from app.ui.timeline_view import TimelineView
from app.ui.untrusted import elide, plain_label, tooltip
from app.ui.table_model import HeaderedTableModel

COL_KEY, COL_REQUESTS, COL_LAST = range(3)
HEADERS = ("Delivery key (jti, webhook-id, …)", "Requests", "Last seen")
REFRESH_MS = 1000


class ObservedGroupsModel(HeaderedTableModel):
    HEADERS = HEADERS
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[tuple[str, int, float]] = []

    def set_groups(self, groups: list[tuple[str, int, float]]) -> None:
        if groups == self._rows:
            return
        self.beginResetModel()  # a few hundred rows at most, re-ranked by activity
        self._rows = list(groups)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        key, count, last = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (elide(key), str(count), datetime.fromtimestamp(last).strftime("%Y-%m-%d %H:%M:%S"))[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == COL_KEY:
            return tooltip(key)
        if role == Qt.ItemDataRole.UserRole:
            return key
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def key(self, row: int) -> str:
        return self._rows[row][0]

    def row_of(self, key: str) -> int | None:
        return next((r for r, row in enumerate(self._rows) if row[0] == key), None)


class ObservedRetriesPanel(QWidget):
    def __init__(self, connection: Callable[[], sqlite3.Connection | None], parent=None):
        super().__init__(parent)
        self._connection = connection
        self.shown_key: str | None = None
        self.model = ObservedGroupsModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(COL_KEY, 320)
        self.summary = plain_label("Requests a sender repeated with the same jti or webhook-id appear here.", self)
        self.timeline = TimelineView(self)
        self.details = AttemptDetails(self)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.summary)
        column.addWidget(self.timeline, 1)
        column.addWidget(self.details, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.reload)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.timeline.attempt_selected.connect(self.details.show_attempt)

    def captures_stored(self, _events=None) -> None:
        """New captures (a batch from the bridge): regroup soon, if anyone is looking."""
        if self.isVisibleTo(self.window()) and not self._timer.isActive():
            self._timer.start()

    def reload(self) -> None:
        conn = self._connection()
        keep = self.shown_key
        self.model.set_groups(observed_groups(conn) if conn is not None else [])
        row = self.model.row_of(keep) if keep is not None else None
        if row is None and self.model.rowCount() and keep is None:
            row = 0
        if row is not None:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, COL_KEY),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        if keep is not None and row == self.model.row_of(keep):
            self.show_key(keep, keep_axis=self.timeline.user_moved)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid() and self.model.key(current.row()) != self.shown_key:
            self.show_key(self.model.key(current.row()))

    def show_key(self, key: str | None, *, keep_axis: bool = False) -> None:
        conn = self._connection()
        self.shown_key = key
        timeline = observed_timeline(conn, key) if conn is not None and key is not None else None
        self.timeline.set_timeline(timeline, keep_axis=keep_axis)
        self.summary.setText(describe_schedule(timeline) if timeline is not None else "")
        if timeline is not None and timeline.attempts and self.timeline.selected_attempt() is None:
            self.timeline.select_attempt(0, len(timeline.attempts) - 1)
