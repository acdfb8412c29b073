"""The exchange log: the raw HTTP of every management call to a transmitter, live.

Each row is one `Exchange` as the core recorded it (the Authorization header keeps
only its scheme, secret members of bodies are replaced): the request line, headers and
body, the status, response headers and body, timing and the core's notes. Rows arrive
in batches as `ExchangeRecorded` events come over the bridge (the area fetches the new
records from the workspace); one `beginInsertRows` per batch. All of it is network
text, shown as plain text.
"""

from __future__ import annotations

import logging
import time
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QSplitter, QTableView, QVBoxLayout, QWidget

from app.ui.untrusted import elide

log = logging.getLogger(__name__)

COL_TIME, COL_OPERATION, COL_REQUEST, COL_STATUS, COL_DURATION = range(5)
KEEP = 2000  # rows shown; older ones stay in the workspace (auto-poll adds one a second)
HEADERS = ("Time", "Operation", "Request", "Status", "ms")


class ExchangeRole(IntEnum):
    EXCHANGE_ID = Qt.ItemDataRole.UserRole + 1


class ExchangeLogModel(QAbstractTableModel):
    def __init__(self, parent=None, *, keep: int = KEEP):
        super().__init__(parent)
        self.exchanges: list[Any] = []  # app.core.subscriptions.Exchange, in id order
        self._ids: set[int] = set()
        self._keep = keep

    @property
    def last_id(self) -> int | None:
        return self.exchanges[-1].id if self.exchanges else None

    def add(self, exchanges: list[Any]) -> None:
        new = [e for e in exchanges if e.id not in self._ids]
        if not new:
            return
        first = len(self.exchanges)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.exchanges += new
        self._ids.update(e.id for e in new)
        self.endInsertRows()
        excess = len(self.exchanges) - self._keep
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            self._ids.difference_update(e.id for e in self.exchanges[:excess])
            del self.exchanges[:excess]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.exchanges, self._ids = [], set()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.exchanges)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.exchanges):
            return None
        ex = self.exchanges[index.row()]
        if role == ExchangeRole.EXCHANGE_ID:
            return ex.id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == COL_TIME:
            return time.strftime("%H:%M:%S", time.localtime(ex.started_at))
        if column == COL_OPERATION:
            return ex.operation
        if column == COL_REQUEST:
            return elide(f"{ex.method} {ex.url}")
        if column == COL_STATUS:
            return str(ex.status) if ex.status is not None else (elide(ex.error or "", 60) or "—")
        if column == COL_DURATION:
            return f"{ex.duration_ms:.0f}"
        return None


def raw_exchange(ex: Any) -> str:
    """One exchange as HTTP text: request, answer, timing, notes."""
    lines = [f"{ex.method} {ex.url} HTTP/1.1", *(f"{k}: {v}" for k, v in ex.request_headers), ""]
    if ex.request_body:
        lines += [ex.request_body, ""]
    if ex.status is not None:
        lines += [f"HTTP/1.1 {ex.status}", *(f"{k}: {v}" for k, v in ex.response_headers), ""]
        if ex.response_body:
            lines += [ex.response_body, ""]
    if ex.error:
        lines += [f"error: {ex.error}", ""]
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ex.started_at))
    lines.append(f"started {started}Z, took {ex.duration_ms:.1f} ms ({ex.operation}, exchange #{ex.id})")
    lines += [f"note: {n}" for n in ex.notes]
    return "\n".join(lines)


class ExchangeLogPanel(QWidget):
    """The log and the raw HTTP of the selected exchange; it reads new records through the channel
    (one read in flight at a time) whenever a batch of engine events carries an ExchangeRecorded."""

    def __init__(self, channel, parent=None):
        super().__init__(parent)
        self._channel = channel
        self._fetching = False
        self._dirty = False
        self.model = ExchangeLogModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((70, 110, 380, 60, 50)):
            self.table.setColumnWidth(column, width)
        self.raw = QPlainTextEdit(self)
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # bodies are one long line
        self.raw.setPlaceholderText("Select an exchange to see its raw HTTP.")
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.raw)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self._follow = True
        self.model.rowsAboutToBeInserted.connect(self._rows_about_to_arrive)
        self.model.rowsInserted.connect(self._rows_arrived)

    def add(self, exchanges: list[Any]) -> None:
        self.model.add(exchanges)

    # -- reading the record --------------------------------------------------------------------
    def reload(self) -> None:
        """A (new) engine: this workspace's record from its tail."""
        self.model.clear()
        self.fetch()

    def engine_events(self, events: list) -> None:
        from app.core.subscriptions.exchanges import ExchangeRecorded

        if any(isinstance(e, ExchangeRecorded) for e in events):
            self.fetch()

    def fetch(self) -> None:
        """Read the exchanges recorded since the last one shown."""
        if self._fetching:
            self._dirty = True
            return
        if not self._channel.connected:
            return  # when it is, the whole record is read again
        after = self.model.last_id

        async def fetch(subs, engine):
            start = after
            if start is None and engine.writer is not None:  # opening: only the tail the log keeps
                from app.core.subscriptions.exchanges import exchange_id_before_last

                start = await engine.writer.run(lambda conn: exchange_id_before_last(conn, KEEP))
            return await subs.exchanges(after_id=start)

        # Set before the call: a future already done delivers its result synchronously.
        self._fetching = True
        self._channel.run("reading the exchange log", fetch, self._read, self._failed)

    def _read(self, exchanges: list) -> None:
        self._fetching = False
        self.add(exchanges)
        if self._dirty or len(exchanges) >= 500:  # 500: one page of Subscriptions.exchanges
            self._dirty = False
            self.fetch()

    def _failed(self, exc: BaseException) -> None:
        self._fetching = self._dirty = False
        log.warning("the exchange log could not be read: %s", exc)

    def select_row(self, row: int) -> None:
        self.table.setCurrentIndex(self.model.index(row, COL_REQUEST))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = current.row()
        self.raw.setPlainText(raw_exchange(self.model.exchanges[row]) if 0 <= row < self.model.rowCount() else "")

    def _rows_about_to_arrive(self, parent, first, last) -> None:
        bar = self.table.verticalScrollBar()
        self._follow = bar.value() >= bar.maximum()

    def _rows_arrived(self, parent, first, last) -> None:
        if self._follow:
            self.table.scrollToBottom()
