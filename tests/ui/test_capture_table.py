"""The list keeps the scroll position and selection when rows arrive, follows the
newest rows only when already at them, and sorts by time only."""

import pytest
from PySide6.QtCore import Qt

from app.core.capture_view import CaptureView
from app.core.store.captures import insert_capture
from app.core.store.schema import connect, open_workspace
from app.core.store.writer import StoreWriter
from app.ui.capture_model import CaptureListModel
from app.ui.capture_table import CaptureTable

from core.test_capture_view import record


@pytest.fixture
def table(tmp_path, qtbot):
    path = tmp_path / "ws.signalscope"
    writer = StoreWriter(open_workspace(path))
    for i in range(200):
        writer.run_sync(insert_capture(record(i)))
    model = CaptureListModel(CaptureView(connect(path, readonly=True)))
    table = CaptureTable(model)
    qtbot.addWidget(table)
    table.resize(800, 300)
    table.show()
    qtbot.waitExposed(table)
    table.add = lambda n: [writer.run_sync(insert_capture(record(1000 + i))) for i in range(n)] and model.refresh()
    yield table
    writer._conn.close()


def test_a_list_scrolled_up_stays_where_it_is(table):
    table.scrollToTop()
    table.verticalScrollBar().setValue(40)
    table.add(30)
    assert table.verticalScrollBar().value() == 40


def test_a_list_at_the_bottom_follows_new_rows(table):
    table.scrollToBottom()
    table.add(30)
    bar = table.verticalScrollBar()
    assert bar.value() == bar.maximum() and table.model().rowCount() == 230


def test_newest_first_keeps_the_rows_in_sight_and_the_selection(table):
    table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
    table.select_row(50)
    selected = table.model().capture_id(table.currentIndex())
    table.verticalScrollBar().setValue(40)
    first_visible = table.model().capture_id(table.indexAt(table.viewport().rect().topLeft()))
    table.add(10)
    assert table.model().capture_id(table.currentIndex()) == selected
    assert table.model().capture_id(table.indexAt(table.viewport().rect().topLeft())) == first_visible


def test_sorting_another_column_keeps_time_order(table):
    table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.DescendingOrder)
    assert table.horizontalHeader().sortIndicatorSection() == 0
    assert table.model().view.descending


def test_ctrl_c_copies_the_current_cell(table, qtbot):
    from PySide6.QtGui import QGuiApplication

    table.setCurrentIndex(table.model().index(5, 1))
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == f"POST {record(5).path}"
