"""exchange_id_before_last: paging in only the tail of a long exchange record."""

from app.core.store.schema import open_workspace
from app.core.subscriptions.exchanges import Exchange, exchange_id_before_last, insert_exchange, list_exchanges


def test_the_tail_of_the_record(tmp_path):
    conn = open_workspace(tmp_path / "ws.signalscope")
    assert exchange_id_before_last(conn, 3) is None
    ids = [insert_exchange(Exchange(None, "poll", "POST", "http://t/poll", [], None, float(i)))(conn) for i in range(10)]
    after = exchange_id_before_last(conn, 3)
    assert [e.id for e in list_exchanges(conn, after_id=after)] == ids[-3:]
    assert exchange_id_before_last(conn, 10) is None
    conn.close()
