"""View > Observed retries: a foreign sender's repeats of one webhook-id (or jti),
grouped, drawn with the measured gaps, and read against the Retry-After we sent."""

from __future__ import annotations

from app.core.faults import FaultRules
from app.ui.observed_retries import COL_REQUESTS, ObservedGroupsModel
from conftest import push

HOOK = {"Content-Type": "application/json", "webhook-id": "msg_<i>1</i>"}


def test_the_model_passes_the_model_tester(qtmodeltester):
    model = ObservedGroupsModel()
    model.set_groups([("webhook-id:a", 3, 1_700_000_000.0), ("jti-1", 2, 1_700_000_005.0)])
    qtmodeltester.check(model)
    assert model.data(model.index(0, COL_REQUESTS)) == "3" and model.row_of("jti-1") == 1


def test_a_senders_retries_are_grouped_and_an_early_retry_is_called_out(window, qtbot):
    rules = FaultRules.from_json([{"name": "slow down", "retry_after": 5, "times": 1}])
    window.engine_thread.call(lambda e: e.set_fault_rules(rules)).result(5)
    assert push(window, b'{"n": 1}', HOOK).status_code == 429
    assert push(window, b'{"n": 1}', HOOK).status_code == 200  # the sender did not wait the 5 s we asked
    push(window, b'{"other": true}', {"Content-Type": "application/json", "webhook-id": "single"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.retry_views.toggle_observed(True)
    panel = window.retry_views.observed
    assert window.retry_views.observed_dock.isVisibleTo(window) and window.retry_views.observed_action.isChecked()
    assert panel.model.rowCount() == 1 and panel.shown_key == "webhook-id:msg_<i>1</i>"
    marks = panel.timeline.lanes[0].timeline.attempts
    assert [m.status for m in marks] == [429, 200] and marks[0].retry_after == 5
    assert "retried before our Retry-After" in panel.summary.text()
    assert panel.summary.textFormat().name == "PlainText"
    panel.timeline.select_attempt(0, 0)
    assert "answered by fault rule: slow down" in panel.details.toPlainText()
    push(window, b'{"n": 1}', HOOK)
    qtbot.waitUntil(lambda: len(panel.timeline.lanes[0].timeline.attempts) == 3, timeout=5000)
    assert panel.model.data(panel.model.index(0, COL_REQUESTS)) == "3"
