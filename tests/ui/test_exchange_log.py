"""The exchange log panel over the real engine: every management call appears live with its
raw HTTP, the Authorization header redacted as the core records it."""

from __future__ import annotations

from app.ui.subscriptions.exchange_log import COL_OPERATION, COL_STATUS
from peers import SESSION_REVOKED
from subs_ui import create_push_stream, ready_area


def operations(log):
    model = log.model
    return [model.data(model.index(r, COL_OPERATION)) for r in range(model.rowCount())]


def test_the_calls_appear_live_with_authorization_redacted(window, qtbot, qtmodeltester):
    area = ready_area(window, qtbot)
    log = area.exchange_log
    qtbot.waitUntil(lambda: {"discover", "jwks", "list"} <= set(operations(log)), timeout=5000)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    qtbot.waitUntil(lambda: "create" in operations(log), timeout=5000)
    row = operations(log).index("create")
    assert log.model.data(log.model.index(row, COL_STATUS)) == "201"
    log.select_row(row)
    raw = log.raw.toPlainText()
    token = window.engine_thread.engine.transmitter.management_token
    assert raw.startswith("POST http://127.0.0.1:") and " HTTP/1.1\n" in raw
    assert "\nauthorization: bearer [redacted]\n" in raw.lower() and token not in raw
    assert '"events_requested": ["' + SESSION_REVOKED + '"]' in raw
    assert "\nHTTP/1.1 201\n" in raw and "took " in raw and "ms (create, exchange #" in raw
    qtmodeltester.check(log.model)


def test_the_log_shows_each_exchange_once(window, qtbot):
    area = ready_area(window, qtbot)
    for _ in range(3):
        area.refresh()
    qtbot.waitUntil(lambda: operations(area.exchange_log).count("list") == 4, timeout=5000)
    ids = [e.id for e in area.exchange_log.model.exchanges]
    assert ids == sorted(set(ids))


def test_the_model_keeps_the_latest_rows(qtmodeltester):
    from types import SimpleNamespace

    from app.ui.subscriptions.exchange_log import ExchangeLogModel

    def exchange(i):
        return SimpleNamespace(id=i, started_at=0.0, operation="poll", method="POST", url="http://t/poll", status=200,
                               error=None, duration_ms=1.0)

    model = ExchangeLogModel(keep=5)
    qtmodeltester.check(model)
    model.add([exchange(i) for i in range(1, 4)])
    model.add([exchange(i) for i in range(3, 9)])  # 3 is there already
    assert [e.id for e in model.exchanges] == [4, 5, 6, 7, 8] and model.last_id == 8
    qtmodeltester.check(model)
