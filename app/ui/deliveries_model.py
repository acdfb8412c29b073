"""DeliveriesModel: the Qt table model over the core's delivery pages.

An adapter: rows are `DeliverySummary`s from `core.delivery_view` (filtered in
SQLite); it shows the newest page first, pages older rows in through Qt's
`canFetchMore`/`fetchMore`, appends what arrived with one `beginInsertRows` per
batch and updates rows that changed (`refresh(changed_ids)`).
"""

from __future__ import annotations

import bisect
import sqlite3
from datetime import datetime
from enum import IntEnum
from typing import Callable

from PySide6.QtCore import QModelIndex, Qt

from app.core.delivery_view import DeliveryFilter, DeliverySummary, delivery_page, delivery_summaries
from app.ui.capture_model import short_event_type
from app.ui.icons import status_icon
from app.ui.untrusted import elide, tooltip
from app.ui.table_model import HeaderedTableModel

COL_ID, COL_CREATED, COL_STREAM, COL_EVENT, COL_MODE, COL_STATE, COL_ATTEMPTS, COL_LAST, COL_NEXT, COL_ENDPOINT = range(10)
HEADERS = ("#", "Created", "Stream", "Event type", "Mode", "State", "Attempts", "Last answer", "Next attempt", "Endpoint")
PAGE = 500
STATE_ICON = {"delivered": "pass", "failed": "fail", "retired": "fail", "pending": "warn"}


class Role(IntEnum):
    DELIVERY_ID = Qt.ItemDataRole.UserRole
    STREAM_ID = Qt.ItemDataRole.UserRole + 1


def _time(t: float | None) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t is not None else ""


def cell(s: DeliverySummary, column: int) -> str:
    if column == COL_ID:
        return str(s.id)
    if column == COL_CREATED:
        return _time(s.created_at)
    if column == COL_STREAM:
        return s.stream_id or ""
    if column == COL_EVENT:
        return short_event_type(s.event_type) if s.event_type else ""
    if column == COL_MODE:
        return s.mode if s.source == "simulator" else f"{s.source} ({s.mode})"
    if column == COL_STATE:
        return s.state
    if column == COL_ATTEMPTS:
        return str(s.attempts)
    if column == COL_LAST:
        if not s.attempts:
            return ""
        return str(s.last_status) if s.last_status is not None else elide(s.last_error or "no answer", 80)
    if column == COL_NEXT:
        return _time(s.next_attempt_at) if s.state == "pending" else ""
    if column == COL_ENDPOINT:
        return elide(s.endpoint or "poll")
    return ""


class DeliveriesModel(HeaderedTableModel):
    HEADERS = HEADERS
    def __init__(self, connection: Callable[[], sqlite3.Connection | None], parent=None):
        super().__init__(parent)
        self._connection = connection
        self._filter = DeliveryFilter()
        self._rows: list[DeliverySummary] = []
        self._more = False

    # -- Qt model interface -----------------------------------------------------------
    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell(s, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_STATE:
            return status_icon(STATE_ICON.get(s.state, "skip"))
        if role == Qt.ItemDataRole.ToolTipRole and column in (COL_ENDPOINT, COL_EVENT, COL_LAST):
            return tooltip({COL_ENDPOINT: s.endpoint or "poll", COL_EVENT: s.event_type or "",
                            COL_LAST: s.last_error or ""}[column])
        if role == Role.DELIVERY_ID:
            return s.id
        if role == Role.STREAM_ID:
            return s.stream_id
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent=QModelIndex()) -> None:
        conn = self._connection()
        if parent.isValid() or conn is None or not self._rows:
            return
        older = delivery_page(conn, self._filter, before_id=self._rows[0].id, limit=PAGE)
        self._more = len(older) == PAGE
        if older:
            self.beginInsertRows(QModelIndex(), 0, len(older) - 1)
            self._rows[:0] = older
            self.endInsertRows()

    # -- changes ------------------------------------------------------------------------
    @property
    def filter(self) -> DeliveryFilter:
        return self._filter

    def set_filter(self, flt: DeliveryFilter) -> None:
        self._filter = flt
        self.reload()

    def reload(self) -> None:
        conn = self._connection()
        self.beginResetModel()
        self._rows = delivery_page(conn, self._filter, limit=PAGE) if conn is not None else []
        self._more = len(self._rows) == PAGE
        self.endResetModel()

    def refresh(self, changed_ids: list[int] = ()) -> int:
        """Update rows that changed and append deliveries that arrived; the number appended."""
        conn = self._connection()
        if conn is None:
            return 0
        if changed_ids:
            fresh = delivery_summaries(conn, list(changed_ids))
            for row, s in enumerate(self._rows):
                if s.id in fresh and fresh[s.id] != s:
                    self._rows[row] = fresh[s.id]
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        new = delivery_page(conn, self._filter, after_id=self._rows[-1].id if self._rows else 0, limit=PAGE * 4)
        if new:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()
        return len(new)

    def delivery_id(self, index: QModelIndex) -> int | None:
        return self.data(index, Role.DELIVERY_ID) if index.isValid() else None

    def summary(self, row: int) -> DeliverySummary:
        return self._rows[row]

    def row_of(self, delivery_id: int) -> int | None:
        row = bisect.bisect_left(self._rows, delivery_id, key=lambda s: s.id)  # rows are in id order
        return row if row < len(self._rows) and self._rows[row].id == delivery_id else None
