"""The Deliveries dock: a paged table over the workspace's deliveries, the timeline of
the selected one, the stream lanes view, live refresh from the running engine."""

from __future__ import annotations


from app.core.faults import FaultRules
from app.core.store.schema import connect
from app.core.timeline import DELIVERED, RETRY
from app.ui.capture_model import COL_STATUS
from app.ui.deliveries_model import COL_ATTEMPTS, COL_STATE, DeliveriesModel
from sim_runs import JANE, PUSH, SESSION_REVOKED, simulate_deliveries


def test_the_model_passes_the_model_tester(qtmodeltester, tmp_path):
    workspace = tmp_path / "ws.signalscope"
    simulate_deliveries(workspace, count=3)
    conn = connect(workspace, readonly=True)
    model = DeliveriesModel(lambda: conn)
    model.reload()
    assert model.rowCount() == 3
    qtmodeltester.check(model)
    conn.close()


def test_show_delivery_timeline_opens_the_dock_with_the_attempts_and_their_details(make_window, tmp_path, qtbot):
    workspace = tmp_path / "ws.signalscope"
    _, [delivery_id], _ = simulate_deliveries(workspace)
    window = make_window(workspace, start=False)
    window.show_delivery_timeline(delivery_id)
    panel = window.retry_views.deliveries
    assert window.retry_views.deliveries_dock.isVisibleTo(window)
    assert panel.model.rowCount() == 1 and panel.table.currentIndex().row() == 0
    assert panel.model.data(panel.model.index(0, COL_STATE)) == "delivered"
    assert panel.model.data(panel.model.index(0, COL_ATTEMPTS)) == "3"
    marks = panel.timeline.lanes[0].timeline.attempts
    assert [(m.status, m.outcome) for m in marks] == [(503, RETRY), (503, RETRY), (202, DELIVERED)]
    assert "Attempt #3: 202" in panel.details.toPlainText()  # the last attempt is selected first
    panel.timeline.select_attempt(0, 0)
    text = panel.details.toPlainText()
    assert "Attempt #1: 503" in text and "retry scheduled" in text and "endpoint: http://127.0.0.1:" in text


def test_the_lanes_view_shows_one_lane_per_delivery_and_flags_out_of_order(make_window, tmp_path, qtbot):
    workspace = tmp_path / "ws.signalscope"
    # the first delivery is refused once, so the two emitted after it arrive first
    stream_id, ids, _ = simulate_deliveries(workspace, [{"name": "once", "status": 503, "times": 1}], count=3, seconds=3)
    window = make_window(workspace, start=False)
    window.show_delivery_timeline(ids[0])
    panel = window.retry_views.deliveries
    panel.tabs.setCurrentWidget(panel.lanes)
    lanes = panel.lanes
    assert [lane.delivery_id for lane in lanes.lanes] == ids
    assert len(lanes.timeline.lanes) == 3
    assert lanes.late == ids[1:]
    assert [lane.flag for lane in lanes.timeline.lanes] == ["", "out of order", "out of order"]
    assert "3 deliveries, 1 retries, 2 delivered out of order" in lanes.summary.text()
    lanes.timeline.select_attempt(2, 0)  # picking a lane's attempt shows that delivery
    assert panel.shown_id == ids[2]
    panel.state.setCurrentText("delivered")
    assert panel.model.rowCount() == 3
    panel.state.setCurrentText("pending")
    assert panel.model.rowCount() == 0 and lanes.timeline.lanes == []


def test_a_live_delivery_refreshes_from_pending_to_delivered(window, qtbot):
    thread = window.engine_thread
    thread.call(lambda e: e.set_fault_rules(FaultRules.from_json([{"name": "once", "status": 503, "times": 1}]))).result(5)

    async def emit(engine):
        stream, _ = await engine.transmitter.create({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url},
                                                     "events_requested": [SESSION_REVOKED]})
        result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream.stream_id)
        return result.emitted[0]["delivery_id"]

    window.retry_views.toggle_deliveries(True)
    assert window.retry_views.deliveries_action.isChecked()
    panel = window.retry_views.deliveries
    delivery_id = thread.call(emit).result(5)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    window.show_delivery_timeline(delivery_id)
    panel.tabs.setCurrentWidget(panel.lanes)
    assert [lane.delivery_id for lane in panel.lanes.lanes] == [delivery_id]
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, COL_STATE)) == "delivered", timeout=8000)
    qtbot.waitUntil(lambda: panel.lanes.lanes[0].timeline.state == "delivered", timeout=3000)
    qtbot.waitUntil(lambda: [m.status for m in panel.timeline.lanes[0].timeline.attempts] == [503, 202], timeout=3000)
    assert not panel.timeline.timer.isActive()
    window.retry_views.toggle_deliveries(False)
    assert not window.retry_views.deliveries_dock.isVisibleTo(window)
    assert not window.retry_views.deliveries_action.isChecked()


def test_the_model_pages_older_rows_in_and_appends_new_ones(qtmodeltester, tmp_path, monkeypatch):
    from app.core.store import deliveries as store
    from app.core.store.schema import open_workspace
    from app.ui import deliveries_model

    monkeypatch.setattr(deliveries_model, "PAGE", 2)
    conn = open_workspace(tmp_path / "w.signalscope")

    def add(n):
        ids = store.insert_deliveries([store.NewDelivery("s", f"j{i}", "urn:a", b"{}", "push", "http://x/", 1000.0 + i,
                                                         "simulator") for i in range(n)])(conn)
        conn.commit()
        return ids

    ids = add(5)
    model = DeliveriesModel(lambda: conn)
    model.reload()
    assert [model.delivery_id(model.index(r, 0)) for r in range(model.rowCount())] == ids[-2:]
    assert model.canFetchMore()
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 5 and not model.canFetchMore()
    more = add(3)
    assert model.refresh() == 3 and model.delivery_id(model.index(7, 0)) == more[-1]
    store.record_attempt(store.AttemptRecord(ids[0], 1, 1.0, 1.1, 202, None, 3.0), state="delivered")(conn)
    conn.commit()
    model.refresh([ids[0]])
    assert model.data(model.index(0, COL_STATE)) == "delivered" and model.data(model.index(0, COL_ATTEMPTS)) == "1"
    qtmodeltester.check(model)
    conn.close()


def test_the_menus_open_the_views(make_window, qtbot):
    window = make_window(start=False)
    titles = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions() if a.menu()}
    assert {"View", "Tools", "Receiver"} <= set(titles)

    def trigger(menu, text):
        action = next(a for a in titles[menu].actions() if a.text().replace("&", "").rstrip("…") == text)
        action.trigger()

    trigger("View", "Deliveries")
    assert window.retry_views.deliveries_dock.isVisibleTo(window)
    trigger("View", "Observed retries")
    assert window.retry_views.observed_dock.isVisibleTo(window)
    trigger("Tools", "Policy lab")
    assert window.retry_views.policy_lab.isVisible()
    trigger("Receiver", "Fault rules")
    dialog = window.retry_views.fault_rules
    assert dialog.isVisible() and dialog.error.text().startswith("The engine is not running")
    window.retry_views.policy_lab.close()
    dialog.close()


def test_an_attempt_to_our_receiver_shows_its_capture_in_the_list(make_window, tmp_path, qtbot):
    workspace = tmp_path / "ws.signalscope"
    _, [delivery_id], _ = simulate_deliveries(workspace)  # 503, 503, 202 from our own receiver's fault rule
    window = make_window(workspace, start=False)
    window.show_delivery_timeline(delivery_id)
    panel = window.retry_views.deliveries
    seen = []
    for n in range(3):
        panel.timeline.select_attempt(0, n)
        assert panel.show_capture_button.isEnabled()
        seen.append(panel.received_id)
    assert len(set(seen)) == 3  # each attempt was its own request at the receiver
    panel.timeline.select_attempt(0, 0)
    panel.show_capture_button.click()
    current = window.table.currentIndex()
    assert window.model.capture_id(current) == seen[0]
    assert window.model.data(window.model.index(current.row(), COL_STATUS)) == "503"
