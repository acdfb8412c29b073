"""Delivery summaries in pages, filtered in SQLite, with the last attempt's outcome."""

from app.core.delivery_view import DeliveryFilter, delivery_choices, delivery_page, delivery_summaries
from app.core.store import deliveries as store
from app.core.store.schema import open_workspace


def workspace(tmp_path, n=7):
    conn = open_workspace(tmp_path / "w.signalscope")
    items = [store.NewDelivery(f"s{i % 2}", f"jti-{i}", "urn:a" if i % 3 else "urn:b", b"{}", "push", "http://x/",
                               1000.0 + i, "simulator") for i in range(n)]
    ids = store.insert_deliveries(items)(conn)
    store.record_attempt(store.AttemptRecord(ids[0], 1, 1000.0, 1000.1, 503, None, 5.0, next_retry_at=1001.0),
                         state="pending")(conn)
    store.record_attempt(store.AttemptRecord(ids[0], 2, 1001.0, 1001.1, None, "timeout", None, next_retry_at=1006.0),
                         state="pending")(conn)
    conn.commit()
    return conn, ids


def test_pages_go_newest_last_and_page_backwards_and_forwards(tmp_path):
    conn, ids = workspace(tmp_path)
    assert [s.id for s in delivery_page(conn, limit=3)] == ids[-3:]
    assert [s.id for s in delivery_page(conn, before_id=ids[-3], limit=3)] == ids[-6:-3]
    assert [s.id for s in delivery_page(conn, after_id=ids[1], limit=2)] == ids[2:4]


def test_summaries_carry_the_attempt_count_and_the_last_outcome(tmp_path):
    conn, ids = workspace(tmp_path)
    first = delivery_summaries(conn, [ids[0]])[ids[0]]
    assert (first.attempts, first.last_status, first.last_error, first.next_attempt_at) == (2, None, "timeout", 1006.0)
    assert delivery_summaries(conn, [ids[1]])[ids[1]].attempts == 0


def test_filters_run_in_the_store(tmp_path):
    conn, ids = workspace(tmp_path)
    assert [s.id for s in delivery_page(conn, DeliveryFilter(stream_id="s1"))] == ids[1::2]
    assert [s.id for s in delivery_page(conn, DeliveryFilter(event_type="urn:b"))] == [ids[0], ids[3], ids[6]]
    assert [s.id for s in delivery_page(conn, DeliveryFilter(state="pending", stream_id="s0"))] == ids[0::2]
    assert delivery_choices(conn) == (["s0", "s1"], ["urn:a", "urn:b"])
