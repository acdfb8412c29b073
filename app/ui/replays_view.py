"""The Replays view: bulk runs and single replays with their outcomes, newest first;
selecting one lists its attempts (for a run: its items, each with its attempts).

`ReplayListModel` is a table model over the core's `replay_entries` (a short list,
re-read on `refresh()`; the selection is kept by (kind, id) across a re-read).
The view never draws timelines itself: it emits `timeline_requested(delivery_id)`
and the window decides what to show.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any, Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QPushButton, QSplitter, QTableView, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from app.ui.untrusted import elide, tooltip
from app.ui.table_model import HeaderedTableModel

COL_TIME, COL_WHAT, COL_TARGET, COL_STATE, COL_RESULT = range(5)
HEADERS = ("Started", "What", "Target", "State", "Result")
_KEYS = {COL_WHAT: "what", COL_TARGET: "target", COL_STATE: "state", COL_RESULT: "result"}


class Role(IntEnum):
    KIND = Qt.ItemDataRole.UserRole  # "run" | "replay"
    ID = Qt.ItemDataRole.UserRole + 1  # run id | delivery id


def when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


class ReplayListModel(HeaderedTableModel):
    HEADERS = HEADERS
    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries: list[dict[str, Any]] = []

    def set_entries(self, entries: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> dict[str, Any] | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def row_of(self, kind: str, entry_id: int) -> int | None:
        return next((i for i, e in enumerate(self._entries) if (e["kind"], e["id"]) == (kind, entry_id)), None)

    def row_count(self) -> int:
        return len(self._entries)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries) or not 0 <= index.column() < len(HEADERS):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == COL_TIME:
                return when(entry["started_at"])
            return elide(str(entry[_KEYS[index.column()]] or ""))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (COL_WHAT, COL_TARGET, COL_RESULT):
            return tooltip(str(entry[_KEYS[index.column()]] or ""))
        if role == Role.KIND:
            return entry["kind"]
        if role == Role.ID:
            return entry["id"]
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def _attempt_item(parent, attempt: dict[str, Any]) -> QTreeWidgetItem:
    status = "" if attempt["status"] is None else str(attempt["status"])
    latency = "" if attempt["latency_ms"] is None else f"{attempt['latency_ms']:.0f} ms"
    item = QTreeWidgetItem(parent, [f"attempt {attempt['n']}", when(attempt["started_at"]), status, latency,
                                    elide(attempt["error"] or attempt["reason"] or attempt["outcome"] or "")])
    return item


class ReplaysView(QWidget):
    timeline_requested = Signal(int)  # delivery id

    def __init__(self, connection: Callable[[], Any], parent: QWidget | None = None):
        super().__init__(parent)
        self._connection = connection  # the window's read-only workspace connection (or None)
        self.model = ReplayListModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        for column, width in enumerate((150, 240, 240, 90)):
            self.table.setColumnWidth(column, width)
        self.attempts = QTreeWidget(self)
        self.attempts.setHeaderLabels(["Item", "Started", "Status", "Latency", "Error / outcome"])
        self.attempts.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.attempts.setColumnWidth(0, 200)
        self.timeline_button = QPushButton("Open timeline", self)
        self.timeline_button.setEnabled(False)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.attempts, 1)
        right_layout.addWidget(self.timeline_button)
        splitter.addWidget(right)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(200)  # coalesce bursts (a bulk run reports many items)
        self._refresh_timer.timeout.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.attempts.currentItemChanged.connect(self._attempt_changed)
        self.attempts.itemDoubleClicked.connect(self._open_timeline)
        self.timeline_button.clicked.connect(self._open_timeline)
        self._shown: tuple[str, int] | None = None

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        conn = self._connection()
        if conn is None:
            self.model.set_entries([])
            self._show(None)
            return
        from app.core.replay_history import replay_entries

        keep = self._shown
        self.model.set_entries(replay_entries(conn))
        row = self.model.row_of(*keep) if keep else None
        if row is not None:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._show(keep if row is not None else None, force=True)

    def select(self, kind: str, entry_id: int) -> bool:
        row = self.model.row_of(kind, entry_id)
        if row is None:
            return False
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return True

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        entry = self.model.entry(current.row()) if current.isValid() else None
        self._show((entry["kind"], entry["id"]) if entry else None)

    def _show(self, key: tuple[str, int] | None, *, force: bool = False) -> None:
        if key == self._shown and not force:
            return
        self._shown = key
        self.attempts.clear()
        self.timeline_button.setEnabled(False)
        conn = self._connection()
        if key is None or conn is None:
            return
        from app.core.replay_history import run_items
        from app.core.store.deliveries import get_delivery

        kind, entry_id = key
        if kind == "replay":
            delivery = get_delivery(conn, entry_id)
            for attempt in (delivery or {}).get("attempts", []):
                _attempt_item(self.attempts, attempt).setData(0, Qt.ItemDataRole.UserRole, entry_id)
            self.timeline_button.setEnabled(delivery is not None)
            return
        for d in run_items(conn, entry_id):
            last = d["attempts"][-1] if d["attempts"] else None
            status = "" if last is None or last["status"] is None else str(last["status"])
            latency = "" if last is None or last["latency_ms"] is None else f"{last['latency_ms']:.0f} ms"
            item = QTreeWidgetItem(self.attempts, [f"capture #{d['capture_id']}", when(d["created_at"]), status,
                                                   latency, elide(f"{d['state']}" + (f": {last['error']}" if last and last["error"] else ""))])
            item.setData(0, Qt.ItemDataRole.UserRole, d["id"])
            for attempt in d["attempts"]:
                _attempt_item(item, attempt).setData(0, Qt.ItemDataRole.UserRole, d["id"])

    def _attempt_changed(self, current, previous) -> None:
        self.timeline_button.setEnabled(current is not None or (self._shown is not None and self._shown[0] == "replay"))

    def selected_delivery(self) -> int | None:
        item = self.attempts.currentItem()
        if item is not None:
            return item.data(0, Qt.ItemDataRole.UserRole)
        if self._shown is not None and self._shown[0] == "replay":
            return self._shown[1]
        return None

    def _open_timeline(self, *_) -> None:
        delivery_id = self.selected_delivery()
        if delivery_id is not None:
            self.timeline_requested.emit(delivery_id)
