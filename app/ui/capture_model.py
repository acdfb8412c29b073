"""CaptureListModel: the Qt table model over the core's CaptureView.

An adapter only: it formats the cells of the summaries the view pages in from
SQLite and turns the view's changes into Qt notifications (one
`beginInsertRows` per batch of new captures; a reset when the filter or the
order changes). It never holds more than the view's page cache.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the window after its first paint (the store pulls in jwcrypto)
    from app.core.capture_view import CaptureSummary, CaptureView
    from app.core.store.captures import CaptureFilter
from app.ui.icons import status_icon
from app.ui.untrusted import elide, tooltip

COL_TIME, COL_REQUEST, COL_KIND, COL_EVENTS, COL_SUBJECT, COL_ISSUER, COL_VERDICT, COL_STATUS = range(8)
HEADERS = ("Time", "Request", "Kind", "Event type", "Subject", "Issuer", "Verdict", "Status")


class Role(IntEnum):
    CAPTURE_ID = Qt.ItemDataRole.UserRole
    VERDICT = Qt.ItemDataRole.UserRole + 1


_DISPLAY, _DECORATION = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole
_SERVED = frozenset({_DISPLAY, _DECORATION, Qt.ItemDataRole.ToolTipRole, Role.CAPTURE_ID, Role.VERDICT})
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def short_event_type(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1] or uri


def _cell(summary: CaptureSummary, column: int) -> str:
    if column == COL_TIME:
        return datetime.fromtimestamp(summary.received_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if column == COL_REQUEST:
        return elide(f"{summary.method} {summary.path}")
    if column == COL_KIND:
        return "SET" if summary.kind == "set" else "webhook"
    if column == COL_EVENTS:
        return elide(", ".join(short_event_type(t) for t in summary.event_types))
    if column == COL_SUBJECT:
        return elide(summary.subject or "")
    if column == COL_ISSUER:
        return elide(summary.issuer or "")
    if column == COL_VERDICT:
        return summary.verdict
    if column == COL_STATUS:
        return "" if summary.response_status is None else str(summary.response_status)
    return ""


class CaptureListModel(QAbstractTableModel):
    def __init__(self, view: CaptureView | None = None, parent=None):
        super().__init__(parent)
        self._view = view
        self._cache: dict[int, tuple[tuple[str, ...], str]] = {}

    @property
    def view(self) -> CaptureView | None:
        return self._view

    def set_view(self, view: CaptureView | None) -> None:
        self.beginResetModel()
        self._view = view
        self.endResetModel()

    # -- Qt model interface ---------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        if parent.isValid() or self._view is None:
            return 0
        return len(self._view)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # Called for every role of every visible cell on each repaint, on the GUI thread,
        # while the engine thread competes for the GIL: answer the roles we do not serve
        # first, and format each row's cells once (cached by capture id).
        if role not in _SERVED or self._view is None:
            return None
        row, column = index.row(), index.column()
        if role == _DISPLAY:
            try:
                return self._cells(row)[column]
            except IndexError:
                return None
        if not 0 <= row < len(self._view) or not index.isValid():
            return None
        summary = self._view.row(row)
        if role == _DECORATION:
            return status_icon(summary.verdict) if column == COL_VERDICT else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_EVENTS:
                return tooltip("\n".join(summary.event_types))
            if column == COL_TIME:
                return datetime.fromtimestamp(summary.received_at, timezone.utc).isoformat(timespec="milliseconds")
            if column in (COL_REQUEST, COL_SUBJECT, COL_ISSUER):
                return tooltip(_cell(summary, column))
            return None
        if role == Role.CAPTURE_ID:
            return summary.id
        if role == Role.VERDICT:
            return summary.verdict
        return None

    def _cells(self, row: int) -> tuple[str, ...]:
        return self.row_cells(row)[0]

    def row_cells(self, row: int) -> tuple[tuple[str, ...], str]:
        """The row's formatted cells and its verdict (for the delegate: one call per cell)."""
        capture_id = self._view.capture_id(row)
        cached = self._cache.get(capture_id)
        if cached is None:
            summary = self._view.row(row)
            cached = (tuple(_cell(summary, c) for c in range(len(HEADERS))), summary.verdict)
            if len(self._cache) > 4000:
                self._cache.clear()
            self._cache[capture_id] = cached
        return cached

    def flags(self, index):
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Only time order (= arrival order); other columns keep it."""
        if self._view is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if descending == self._view.descending:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self._view.capture_id(i.row()) if 0 <= i.row() < len(self._view) else None for i in old]
        self._view.set_descending(descending)
        for index, capture_id in zip(old, ids):
            row = self._view.row_of(capture_id) if capture_id is not None else None
            new = self.index(row, index.column()) if row is not None else QModelIndex()
            self.changePersistentIndex(index, new)
        self.layoutChanged.emit()

    # -- changes from the core ------------------------------------------------------
    def set_filter(self, flt: CaptureFilter) -> None:
        if self._view is None:
            return
        self.beginResetModel()
        self._view.set_filter(flt)
        self._cache.clear()
        self.endResetModel()

    def reload_exact(self) -> None:
        """The view's ids were assumed dense and are not: list the real ones."""
        if self._view is None:
            return
        self.beginResetModel()
        self._cache.clear()
        self._view.reload(exact=True)
        self.endResetModel()

    def refresh(self) -> int:
        """Show captures that arrived since the last call (one insert notification)."""
        if self._view is None:
            return 0
        new = self._view.fetch_new()
        if not new:
            return 0
        count = len(self._view)
        first, last = (0, len(new) - 1) if self._view.descending else (count, count + len(new) - 1)
        self.beginInsertRows(QModelIndex(), first, last)
        self._view.append(new)
        self.endInsertRows()
        return len(new)

    def capture_id(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        return self.data(index, Role.CAPTURE_ID) if index.isValid() else None

    def row_of(self, capture_id: int) -> int | None:
        return self._view.row_of(capture_id) if self._view is not None else None
