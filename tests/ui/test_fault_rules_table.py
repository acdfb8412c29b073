"""Receiver > Fault rules: edit the rules in a table, apply them to the running engine,
and the next request gets the rule's answer (and its capture names the rule)."""

from __future__ import annotations

import httpx
from PySide6.QtCore import Qt

from app.ui.fault_rules_model import (COL_ACTION, COL_NAME, COL_ON, COL_PATH, COL_RETRY_AFTER, COL_STATUS, COL_TIMES,
                                      FaultRulesModel)
from conftest import push


def test_the_model_passes_the_model_tester_and_edits_rule_json(qtmodeltester):
    model = FaultRulesModel()
    model.set_rules([{"name": "a", "status": 503}, {"name": "b", "close": True, "match": {"header": {"X-T": "1"}}}])
    model.add_rule()
    qtmodeltester.check(model)
    assert model.setData(model.index(0, COL_PATH), "/events*")
    assert model.setData(model.index(0, COL_RETRY_AFTER), "3")
    assert not model.setData(model.index(0, COL_TIMES), "twice")
    assert model.setData(model.index(1, COL_ON), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.rules()[0] == {"name": "a", "status": 503, "match": {"path": "/events*"}, "retry_after": 3}
    assert model.rules()[1]["enabled"] is False and model.rules()[1]["match"] == {"header": {"X-T": "1"}}
    assert model.data(model.index(1, COL_ACTION)) == "close the connection"
    assert model.move_rule(2, -1) == 1 and [r["name"] for r in model.rules()] == ["a", "rule 3", "b"]
    assert model.move_rule(0, 1) == 1 and [r["name"] for r in model.rules()] == ["rule 3", "a", "b"]
    model.remove_rule(0)
    assert [r["name"] for r in model.rules()] == ["a", "b"]
    qtmodeltester.check(model)


def test_applied_rules_answer_the_next_request_and_the_capture_names_the_rule(window, qtbot):
    dialog = window.retry_views.open_fault_rules()
    qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=3000)  # the live rules were read
    assert dialog.model.rowCount() == 0 and dialog.error.text() == ""
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    model = dialog.model
    model.setData(model.index(0, COL_NAME), "down <b>twice</b>")
    model.setData(model.index(0, COL_STATUS), "503")
    model.setData(model.index(0, COL_TIMES), "2")
    with qtbot.waitSignal(dialog.rules_applied, timeout=1000):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Applied"), timeout=3000)
    answers = [push(window, b'{"n": 1}', {"Content-Type": "application/json"}).status_code for _ in range(3)]
    assert answers == [503, 503, 200]
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.select_row(0)
    response = window.raw_http.response.toPlainText()
    assert response.startswith("HTTP/1.1 503") and response.endswith("answered by the fault rule “down <b>twice</b>” —")
    window.select_row(2)
    assert "fault rule" not in window.raw_http.response.toPlainText()
    dialog.close()


def test_an_invalid_rule_shows_the_core_message_and_changes_nothing(window, qtbot):
    dialog = window.retry_views.open_fault_rules()
    qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=3000)
    dialog.add_rule()
    dialog.editor.setPlainText('{"name": "bad", "status": 99}')
    dialog.use_editor_json()
    assert dialog.model.data(dialog.model.index(0, COL_ACTION)).startswith("rule 'bad': 'status' must be")
    assert dialog.apply() is None
    assert dialog.error.text() == "rule 'bad': 'status' must be a whole number from 100 to 599"
    dialog.editor.setPlainText("{not json")
    dialog.use_editor_json()
    assert dialog.error.text().startswith("The rule's JSON does not parse: line 1")
    assert push(window, b"{}", {"Content-Type": "application/json"}).status_code == 200
    dialog.close()


def test_disabling_a_rule_in_the_table_applies_live(window, qtbot):
    dialog = window.retry_views.open_fault_rules()
    qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=3000)
    dialog.set_rules([{"name": "gone", "status": 410}])
    dialog.apply()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Applied"), timeout=3000)
    assert push(window, b"{}", {"Content-Type": "application/json"}).status_code == 410
    dialog.model.setData(dialog.model.index(0, COL_ON), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    dialog.apply()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Applied"), timeout=3000)
    assert httpx.post(window.engine_thread.engine.receiver.url, content=b"{}", timeout=5).status_code == 200
    again = window.retry_views.open_fault_rules()  # reopening reads the live rules back
    assert again is dialog
    qtbot.waitUntil(lambda: dialog.status.text() == "", timeout=3000)
    qtbot.waitUntil(lambda: dialog.model.rules() == [{"name": "gone", "enabled": False, "status": 410}], timeout=3000)
    dialog.close()
