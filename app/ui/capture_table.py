"""CaptureTable: the capture list's view. Keeps the selection and the scroll position
when rows arrive (following the newest rows only when already at them), sorts by time
only, and says which capture is current."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.ui.capture_delegate import CaptureRowDelegate
from app.ui.capture_model import COL_REQUEST, COL_TIME, CaptureListModel

COLUMN_WIDTHS = (170, 220, 70, 150, 190, 190, 100, 60)


class CaptureTable(QTableView):
    current_capture_changed = Signal(object)  # capture id, or None

    def __init__(self, model: CaptureListModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.row_delegate = CaptureRowDelegate(self)
        self.setItemDelegate(self.row_delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)  # the bar counts rows
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(COL_TIME, Qt.SortOrder.AscendingOrder)
        header.sortIndicatorChanged.connect(self._sort_changed)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.setColumnWidth(column, width)
        self._follow_tail = True
        self._scroll_before = 0
        model.rowsAboutToBeInserted.connect(self._rows_about_to_arrive)
        model.rowsInserted.connect(self._rows_arrived)
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def paintEvent(self, event) -> None:
        # Entered from the event loop (which runs without the GIL), this takes the GIL once
        # for the whole paint, so the delegate's per-cell calls nest inside it instead of
        # each waiting for the engine thread to let go of it.
        super().paintEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):  # Ctrl+C: the current cell's text
            index = self.currentIndex()
            if index.isValid():
                QGuiApplication.clipboard().setText(self.model().data(index) or "")
            return
        super().keyPressEvent(event)

    def capture_model(self) -> CaptureListModel:
        return self.model()

    def select_row(self, row: int) -> None:
        index = self.model().index(row, COL_REQUEST)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)

    def select_capture(self, capture_id: int | None) -> bool:
        """Select the line showing this capture; False when the filter hides it."""
        row = self.model().row_of(capture_id) if capture_id is not None else None
        if row is None:
            return False
        self.select_row(row)
        return True

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.current_capture_changed.emit(self.model().capture_id(current))

    def _rows_about_to_arrive(self, parent: QModelIndex, first: int, last: int) -> None:
        bar = self.verticalScrollBar()
        self._follow_tail = bar.value() >= bar.maximum()
        self._scroll_before = bar.value()

    def _rows_arrived(self, parent: QModelIndex, first: int, last: int) -> None:
        view = self.model().view
        if view is not None and view.descending:
            if self._scroll_before > 0:  # rows came in above: keep the ones in sight where they were
                self.verticalScrollBar().setValue(self._scroll_before + (last - first + 1))
        elif self._follow_tail:
            self.scrollToBottom()

    def _sort_changed(self, column: int, order) -> None:
        if column != COL_TIME:  # only time order is offered; put the indicator back
            self.horizontalHeader().setSortIndicator(COL_TIME, order)
            return
        self.model().sort(COL_TIME, order)
        current = self.currentIndex()
        if current.isValid():
            self.scrollTo(current)
