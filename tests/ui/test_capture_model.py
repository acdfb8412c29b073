"""CaptureListModel over a real workspace: Qt's model tester, cells, live inserts."""

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.core.capture_view import CaptureView
from app.core.store.captures import CaptureFilter
from app.core.store.schema import connect, open_workspace
from app.core.store.writer import StoreWriter
from app.core.store.captures import insert_capture
from app.ui.capture_model import COL_EVENTS, COL_KIND, COL_REQUEST, COL_STATUS, COL_VERDICT, CaptureListModel, Role
from app.ui.icons import status_icon

from core.test_capture_view import CC, record


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "ws.signalscope"
    writer = StoreWriter(open_workspace(path))
    writer.add = lambda *rs: [writer.run_sync(insert_capture(r)) for r in rs]
    writer.path = path
    yield writer
    writer._conn.close()


def test_model_passes_qt_model_tester_through_inserts_filters_and_sorting(store, qtmodeltester):
    store.add(*(record(i, verdict="invalid" if i % 3 else "valid") for i in range(450)))
    model = CaptureListModel(CaptureView(connect(store.path, readonly=True)))
    qtmodeltester.check(model)
    store.add(record(450), record(451))
    assert model.refresh() == 2
    model.set_filter(CaptureFilter(verdict="valid"))
    model.sort(0, Qt.SortOrder.DescendingOrder)
    store.add(record(452))
    model.refresh()
    qtmodeltester.check(model)
    valid = sum(1 for i in range(450) if i % 3 == 0) + 3  # 450, 451 and 452 are valid too
    assert model.rowCount() == valid


def test_cells_show_the_summary_with_a_verdict_icon(store):
    store.add(record(1, verdict="invalid", event=CC))
    model = CaptureListModel(CaptureView(connect(store.path, readonly=True)))
    cell = lambda column, role=Qt.ItemDataRole.DisplayRole: model.data(model.index(0, column), role)
    assert cell(COL_REQUEST) == "POST /events/1"
    assert cell(COL_KIND) == "SET"
    assert cell(COL_EVENTS) == "credential-change"
    assert cell(COL_VERDICT) == "invalid" and cell(COL_STATUS) == "400"
    assert cell(COL_VERDICT, Qt.ItemDataRole.DecorationRole).cacheKey() == status_icon("fail").cacheKey()
    assert cell(COL_REQUEST, Role.CAPTURE_ID) == 1


def test_new_captures_arrive_in_one_insert_per_batch(store, qtbot):
    model = CaptureListModel(CaptureView(connect(store.path, readonly=True)))
    inserts = []
    model.rowsInserted.connect(lambda parent, first, last: inserts.append((first, last)))
    store.add(*(record(i) for i in range(25)))
    model.refresh()
    assert inserts == [(0, 24)]


def test_descending_order_inserts_new_rows_at_the_top_and_keeps_the_selected_capture(store):
    store.add(record(0), record(1))
    model = CaptureListModel(CaptureView(connect(store.path, readonly=True)))
    model.sort(0, Qt.SortOrder.DescendingOrder)
    from PySide6.QtCore import QPersistentModelIndex

    selected = QPersistentModelIndex(model.index(1, 0))  # capture 1 (the older)
    store.add(record(2), record(3))
    model.refresh()
    assert model.data(model.index(0, COL_REQUEST)) == "POST /events/3"
    assert model.capture_id(model.index(selected.row(), 0)) == 1


def test_an_empty_model_has_no_rows(qtmodeltester):
    model = CaptureListModel()
    qtmodeltester.check(model)
    assert model.rowCount(QModelIndex()) == 0


def test_the_time_cell_is_local_and_its_tooltip_is_utc(store):
    store.add(record(0))
    model = CaptureListModel(CaptureView(connect(store.path, readonly=True)))
    from datetime import datetime, timezone

    at = record(0).received_at
    assert model.data(model.index(0, 0)) == datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S.000")
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds")
