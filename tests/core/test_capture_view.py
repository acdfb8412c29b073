"""The capture list view: paging, filtering through the store, live refresh."""

import time

import pytest

from app.core.capture_view import PAGE_SIZE, CaptureView, distinct_values, ids_are_dense
from app.core.store.captures import CaptureFilter, CaptureRecord, insert_capture
from app.core.store.schema import connect, open_workspace
from app.core.store.writer import StoreWriter

SR = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
CC = "https://schemas.openid.net/secevent/caep/event-type/credential-change"


def record(i: int, *, verdict="valid", issuer="https://idp.example.com", event=SR, body=b"{}") -> CaptureRecord:
    return CaptureRecord(
        received_at=1_700_000_000 + i, method="POST", path=f"/events/{i}", headers=[("X-N", str(i))],
        body=body, body_size=len(body), kind="set", verdict=verdict, report={"verdict": verdict, "checks": []},
        response_status=202 if verdict == "valid" else 400, issuer=issuer, event_types=[event],
        subject=f"email:user{i}@example.com", jti=f"jti-{i}")


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "ws.signalscope"
    writer = StoreWriter(open_workspace(path))

    def add(*records):
        for r in records:
            writer.run_sync(insert_capture(r))

    add.path = path
    yield add
    writer._conn.close()


def test_unfiltered_view_pages_rows_in_arrival_order(workspace):
    workspace(*(record(i) for i in range(PAGE_SIZE * 2 + 5)))
    view = CaptureView(connect(workspace.path, readonly=True))
    assert len(view) == PAGE_SIZE * 2 + 5
    assert [view.row(i).path for i in (0, PAGE_SIZE, len(view) - 1)] == ["/events/0", f"/events/{PAGE_SIZE}", f"/events/{len(view) - 1}"]


def test_descending_puts_the_newest_first(workspace):
    workspace(*(record(i) for i in range(3)))
    view = CaptureView(connect(workspace.path, readonly=True), descending=True)
    assert [view.row(i).path for i in range(3)] == ["/events/2", "/events/1", "/events/0"]
    assert view.row_of(view.capture_id(0)) == 0


def test_filters_by_verdict_issuer_event_type_and_text(workspace):
    workspace(record(0), record(1, verdict="invalid"), record(2, issuer="https://other.example", event=CC),
              record(3, body=b'{"needle": "haystack-unique"}'))
    view = CaptureView(connect(workspace.path, readonly=True))
    view.set_filter(CaptureFilter(verdict="invalid"))
    assert [view.row(i).path for i in range(len(view))] == ["/events/1"]
    view.set_filter(CaptureFilter(issuer="https://other.example"))
    assert [view.row(i).path for i in range(len(view))] == ["/events/2"]
    view.set_filter(CaptureFilter(event_type=CC))
    assert [view.row(i).path for i in range(len(view))] == ["/events/2"]
    view.set_filter(CaptureFilter(text="haystack"))
    assert [view.row(i).path for i in range(len(view))] == ["/events/3"]
    view.set_filter(CaptureFilter())
    assert len(view) == 4


def test_refresh_appends_only_new_matching_captures(workspace):
    workspace(record(0))
    view = CaptureView(connect(workspace.path, readonly=True), CaptureFilter(verdict="invalid"))
    assert len(view) == 0
    workspace(record(1, verdict="invalid"), record(2), record(3, verdict="invalid"))
    assert view.refresh() == 2
    assert [view.row(i).path for i in range(len(view))] == ["/events/1", "/events/3"]
    assert view.refresh() == 0


def test_refresh_reloads_a_short_last_page(workspace):
    workspace(record(0))
    view = CaptureView(connect(workspace.path, readonly=True))
    assert view.row(0).path == "/events/0"  # caches page 0 with one row
    workspace(record(1))
    assert view.refresh() == 1
    assert view.row(1).path == "/events/1"


def test_row_of_a_hidden_capture_is_none(workspace):
    workspace(record(0), record(1, verdict="invalid"))
    view = CaptureView(connect(workspace.path, readonly=True), CaptureFilter(verdict="invalid"))
    assert view.row_of(1) is None and view.row_of(2) == 0


def test_summary_carries_the_list_columns(workspace):
    workspace(record(7, verdict="invalid"))
    summary = CaptureView(connect(workspace.path, readonly=True)).row(0)
    assert (summary.method, summary.kind, summary.event_types, summary.issuer, summary.verdict,
            summary.response_status, summary.subject) == (
        "POST", "set", (SR,), "https://idp.example.com", "invalid", 400, "email:user7@example.com")


def test_distinct_values_lists_each_issuer_and_event_type_once(workspace):
    workspace(record(0), record(1), record(2, issuer="https://other.example", event=CC))
    conn = connect(workspace.path, readonly=True)
    assert distinct_values(conn, "issuer") == ["https://idp.example.com", "https://other.example"]
    assert distinct_values(conn, "event_type") == [CC, SR]


def test_paging_a_large_view_is_quick(workspace):
    workspace(*(record(i) for i in range(3000)))
    view = CaptureView(connect(workspace.path, readonly=True))
    started = time.perf_counter()
    for i in range(0, 3000, 7):
        view.row(i)
    assert time.perf_counter() - started < 1.0


def test_gaps_in_ids_are_detected_and_an_exact_reload_skips_them(workspace):
    workspace(*(record(i) for i in range(5)))
    writer_conn = connect(workspace.path)
    writer_conn.execute("DELETE FROM captures WHERE id = 3")
    conn = connect(workspace.path, readonly=True)
    view = CaptureView(conn)
    assert view.assumes_dense and len(view) == 5  # opened at once, not counted
    assert view.row(2).path == "(not in the workspace)"  # the gap shows, nothing raises
    assert not ids_are_dense(connect(workspace.path, readonly=True))
    view.reload(exact=True)
    assert [view.row(i).path for i in range(len(view))] == ["/events/0", "/events/1", "/events/3", "/events/4"]
    assert not view.assumes_dense


def test_dense_ids_are_confirmed(workspace):
    workspace(*(record(i) for i in range(5)))
    assert ids_are_dense(connect(workspace.path, readonly=True))
