"""The Emit dialog over the real engine: an event emitted on a stream created from the
form is delivered to our own receiver (a new valid row in the capture list); skipped
streams say why; invalid input is refused before anything is emitted."""

from __future__ import annotations

from app.ui.capture_model import COL_VERDICT
from peers import CREDENTIAL_CHANGE, SESSION_REVOKED
from subs_ui import create_push_stream, ready_area


def open_dialog(area, qtbot):
    dialog = area.open_emit_dialog()
    qtbot.waitExposed(dialog)
    return dialog


def test_an_emitted_event_is_delivered_to_our_receiver(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    dialog = open_dialog(area, qtbot)
    assert dialog.stream.currentData() == config["stream_id"]
    assert dialog.event_type.currentData() == SESSION_REVOKED
    assert set(dialog.faults) >= {"wrong_aud", "bad_signature", "duplicate"}
    assert "aud names another receiver" in dialog.faults["wrong_aud"].toolTip()
    rows = window.model.rowCount()
    dialog.claims.setPlainText('{"initiating_entity": "admin"}')
    with qtbot.waitSignal(area.answered, timeout=10000):
        dialog.emit_button.click()
    text = dialog.result.toPlainText()
    assert text.startswith("1 delivery emitted") and config["stream_id"] in text
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 1, timeout=10000)
    assert window.model.data(window.model.index(rows, COL_VERDICT)) == "valid"
    dialog.close()


def test_a_stream_that_does_not_want_the_event_is_skipped_with_the_reason(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    dialog = open_dialog(area, qtbot)
    dialog.event_type.setCurrentIndex(dialog.event_type.findData(CREDENTIAL_CHANGE))
    dialog.count.setValue(2)
    with qtbot.waitSignal(area.answered, timeout=10000):
        dialog.emit_button.click()
    text = dialog.result.toPlainText()
    assert text.startswith("0 deliveries emitted")
    assert "the event type is not in the stream's events_delivered" in text
    dialog.close()


def test_a_fault_knob_reaches_the_receiver_as_a_failed_check(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    dialog = open_dialog(area, qtbot)
    dialog.faults["bad_signature"].setChecked(True)
    rows = window.model.rowCount()
    with qtbot.waitSignal(area.answered, timeout=10000):
        dialog.emit_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 1, timeout=10000)
    assert window.model.data(window.model.index(rows, COL_VERDICT)) == "invalid"
    dialog.close()


def test_invalid_input_is_refused_before_emitting(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    dialog = open_dialog(area, qtbot)
    dialog.subject.fields["email"].clear()
    dialog.claims.setPlainText("[1, 2]")
    with qtbot.assertNotEmitted(dialog.emit_requested):
        dialog.emit_button.click()
    assert dialog.result.toPlainText().startswith("Not emitted")
    assert dialog.claims_problem.text() == "the claims must be a JSON object"
    assert dialog.subject.field_problems["email"].text() == "format 'email' needs a non-empty string 'email'"
    dialog.close()


def test_a_receiver_with_a_token_gets_it_in_new_push_streams(window, qtbot):
    from dataclasses import replace

    area = window.subscriptions
    with qtbot.waitSignal(window.engine_started, timeout=10000):
        window.apply_settings(replace(window.settings, receiver_token="rx-s3cret"))
    seen = []  # the restarted engine keeps the simulator's port (and issuer): wait for the listing made after it
    area.channel.ready.connect(lambda info: seen.append("ready"))
    area.refreshed.connect(lambda: seen.append("refreshed") if "ready" in seen else None)
    issuer = window.engine_thread.engine.transmitter.issuer
    qtbot.waitUntil(lambda: "refreshed" in seen and area.channel.connected
                    and area.model.find_transmitter(issuer).isValid(), timeout=10000)
    area.new_stream()
    assert area.editor.authorization.text() == "Bearer rx-s3cret"
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    dialog = open_dialog(area, qtbot)
    rows = window.model.rowCount()
    with qtbot.waitSignal(area.answered, timeout=10000):
        dialog.emit_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 1, timeout=10000)
    assert window.model.data(window.model.index(rows, COL_VERDICT)) == "valid"
    dialog.close()
