"""The Subscriptions dock over the real engine on loopback: the built-in simulator is
listed pre-authorised, a stream is created from the form (push to our own receiver),
its events are edited and saved with PATCH or PUT, and the new configuration is shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from peers import CREDENTIAL_CHANGE, SESSION_REVOKED
from subs_ui import create_push_stream, ready_area


def test_the_simulator_is_listed_pre_authorised(window, qtbot, qtmodeltester):
    area = ready_area(window, qtbot)
    issuer = window.engine_thread.engine.transmitter.issuer
    assert area.model.rowCount() == 1
    top = area.model.item(0, 0)
    assert top.text() == f"{issuer} (built-in simulator)"
    assert area.model.item(0, 1).text() == "auth: bearer"
    assert "SSF 1.0 well-known location" in area.details.text()
    qtmodeltester.check(area.model)


def test_a_stream_is_created_from_the_form_pushing_to_our_receiver(window, qtbot, qtmodeltester):
    area = ready_area(window, qtbot)
    receiver_url = window.engine_thread.engine.receiver.url
    area.new_stream()
    assert area.editor.endpoint.text() == receiver_url
    assert not area.editor.save_button.isEnabled()
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    assert config["delivery"]["endpoint_url"] == receiver_url
    assert config["events_requested"] == [SESSION_REVOKED]
    assert area.editor.answer.toPlainText().startswith("create: HTTP 201")
    assert area.current_stream_id() == config["stream_id"]
    assert area.editor.save_button.isEnabled()
    assert "events_delivered matches" in area.editor.delivered_note.text()
    simulator = window.engine_thread.engine.transmitter
    assert simulator.streams[config["stream_id"]].description == "from the form"
    qtmodeltester.check(area.model)
    qtmodeltester.check(area.editor.events_model)


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_editing_events_requested_and_saving_shows_the_new_config(window, qtbot, method):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    area.editor.set_checked([SESSION_REVOKED, CREDENTIAL_CHANGE])
    area.editor.update_method.setCurrentIndex(area.editor.update_method.findData(method))
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        area.editor.save_button.click()
    operation = "update" if method == "PATCH" else "replace"
    assert area.editor.answer.toPlainText().startswith(f"{operation}: HTTP 200")
    assert area.current_stream_id() == config["stream_id"]
    shown = area.current_config()
    assert shown["events_requested"] == [SESSION_REVOKED, CREDENTIAL_CHANGE]
    assert set(shown["events_delivered"]) == {SESSION_REVOKED, CREDENTIAL_CHANGE}
    assert set(area.editor.checked_events()) == {SESSION_REVOKED, CREDENTIAL_CHANGE}
    stream = window.engine_thread.engine.transmitter.streams[config["stream_id"]]
    assert stream.events_requested == [SESSION_REVOKED, CREDENTIAL_CHANGE]
    exchanges = [e.method for e in window.engine_thread.call(lambda e: area.channel.subs.exchanges()).result(5)]
    assert method in exchanges


def test_a_refused_save_shows_the_transmitters_sentence(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    area.editor.endpoint.setText("not a url")
    with qtbot.waitSignal(area.answered, timeout=10000):
        area.editor.save_button.click()
    text = area.editor.answer.toPlainText()
    assert text.startswith("Failed:") and "HTTP 400" in text and "endpoint_url" in text


def test_a_poll_stream_gets_its_url_from_the_transmitter(window, qtbot):
    area = ready_area(window, qtbot)
    area.new_stream()
    area.editor.method.setCurrentIndex(1)
    assert area.editor.endpoint.isReadOnly() and area.editor.endpoint.text() == ""
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], poll=True)
    assert config["delivery"]["endpoint_url"].endswith(f"/ssf/poll/{config['stream_id']}")
    assert area.editor.endpoint.text() == config["delivery"]["endpoint_url"]


def test_a_complex_subject_is_added_through_the_subject_editor(window, qtbot, qtmodeltester):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    panel = area.subjects
    assert panel.stream_id == config["stream_id"]
    panel.editor.format.setCurrentText("complex")
    panel.editor.parts[0][1].fields["email"].setText("bar@example.com")
    tenant = panel.editor.add_part("tenant", initial="iss_sub")
    tenant.fields["iss"].setText("https://example.com/idp1")
    tenant.fields["sub"].setText("1234")
    panel.verified.setChecked(False)
    with qtbot.waitSignal(area.answered, timeout=10000):
        panel.add_button.click()
    assert panel.answer.text().startswith("add_subject: HTTP 200")
    [entry] = window.engine_thread.engine.transmitter.subjects[config["stream_id"]]
    assert entry["subject"] == {"format": "complex", "user": {"format": "email", "email": "bar@example.com"},
                                "tenant": {"format": "iss_sub", "iss": "https://example.com/idp1", "sub": "1234"}}
    assert entry["verified"] is False and entry["removed"] is False
    assert panel.model.rowCount() == 1 and panel.model.item(0).text().startswith("added: complex(")
    qtmodeltester.check(panel.model)
    with qtbot.waitSignal(area.answered, timeout=10000):
        panel.remove_button.click()
    assert panel.answer.text().startswith("remove_subject: HTTP 204")
    assert window.engine_thread.engine.transmitter.subjects[config["stream_id"]][0]["removed"] is True


def test_an_invalid_subject_is_refused_before_sending(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    panel = area.subjects
    panel.editor.format.setCurrentText("phone_number")
    panel.editor.fields["phone_number"].setText("2065550100")
    panel.add_button.click()
    assert panel.answer.text().startswith("Not sent")
    assert panel.editor.field_problems["phone_number"].text() == "phone_number should be in E.164 form (+ and digits)"
    qtbot.wait(100)
    operations = [x.operation for x in window.engine_thread.call(lambda e: area.channel.subs.exchanges()).result(5)]
    assert "add_subject" not in operations
    assert config["stream_id"] not in window.engine_thread.engine.transmitter.subjects


def test_deleting_a_stream_after_confirming(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    box = area.confirm_delete_stream()
    qtbot.waitExposed(box)
    assert config["stream_id"] in box.text()
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        box.button(box.StandardButton.Yes).click()
    assert config["stream_id"] not in window.engine_thread.engine.transmitter.streams
    assert not area.model.find_stream(config["stream_id"]).isValid()


def test_cancelling_the_confirmation_deletes_nothing(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    box = area.confirm_delete_stream()
    qtbot.waitExposed(box)
    box.button(box.StandardButton.Cancel).click()
    qtbot.wait(200)
    assert config["stream_id"] in window.engine_thread.engine.transmitter.streams
    assert area.confirm_forget_transmitter() is None  # the built-in simulator cannot be forgotten


def test_a_restarted_engine_is_listed_again(window, qtbot):
    from dataclasses import replace

    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    old = area.channel.subs
    with qtbot.waitSignal(window.engine_started, timeout=10000):
        window.apply_settings(replace(window.settings, body_limit=2 * 1024 * 1024))
    issuer = window.engine_thread.engine.transmitter.issuer
    qtbot.waitUntil(lambda: area.channel.subs is not old and area.model.find_transmitter(issuer).isValid(),
                    timeout=10000)
    assert area.model.find_stream(config["stream_id"]).isValid()
    assert not window.error_bar.isVisibleTo(window), window.error_bar.message.text()


def test_events_delivered_is_highlighted_where_it_differs_from_the_request(window, qtbot):
    area = ready_area(window, qtbot)
    simulator = window.engine_thread.engine.transmitter
    unknown = "https://example.com/event-type/unknown"
    body = {"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": window.engine_thread.engine.receiver.url},
            "events_requested": [SESSION_REVOKED, unknown]}
    stream, _ = window.engine_thread.submit(simulator.create(body)).result(5)
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        area.refresh(select_stream=stream.stream_id)
    editor = area.editor
    assert editor.delivered_note.text() == ("events_delivered differs from events_requested:\n"
                                            f"requested, not delivered: {unknown}")
    items = [editor.events_model.item(i) for i in range(editor.events_model.rowCount())]
    bold = [i.data(Qt.ItemDataRole.UserRole) for i in items if i.font().bold()]
    assert bold == [unknown]
    assert f"events_delivered: {SESSION_REVOKED}" in editor.supplied.toPlainText()
