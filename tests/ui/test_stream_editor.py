"""StreamEditor on its own: the bodies it builds for POST, PATCH and PUT, and what it shows."""

from __future__ import annotations

import pytest

from app.ui.subscriptions.stream_editor import POLL, PUSH, StreamEditor
from peers import CREDENTIAL_CHANGE, SESSION_REVOKED

CONFIG = {"stream_id": "s1", "iss": "https://t.example", "aud": "https://r.example/events",
          "events_supported": [SESSION_REVOKED, CREDENTIAL_CHANGE], "events_requested": [SESSION_REVOKED],
          "events_delivered": [SESSION_REVOKED], "min_verification_interval": 5,
          "delivery": {"method": POLL, "endpoint_url": "https://t.example/poll/s1"}}


@pytest.fixture
def editor(qtbot):
    widget = StreamEditor()
    qtbot.addWidget(widget)
    return widget


def test_a_new_stream_pushes_to_our_receiver(editor, qtbot):
    editor.new_stream("https://t.example", [SESSION_REVOKED, CREDENTIAL_CHANGE], "http://127.0.0.1:1/events",
                      receiver_authorization="Bearer rx")
    editor.set_checked([CREDENTIAL_CHANGE])
    with qtbot.waitSignal(editor.create_requested) as blocker:
        editor.create_button.click()
    assert blocker.args == ["https://t.example", {
        "events_requested": [CREDENTIAL_CHANGE],
        "delivery": {"method": PUSH, "endpoint_url": "http://127.0.0.1:1/events", "authorization_header": "Bearer rx"}}]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_saving_a_poll_stream_leaves_its_url_to_the_transmitter(editor, qtbot, method):
    editor.show_stream("https://t.example", CONFIG, "http://127.0.0.1:1/events")
    assert editor.endpoint.isReadOnly() and editor.endpoint.text() == "https://t.example/poll/s1"
    assert "min_verification_interval: 5" in editor.supplied.toPlainText()
    editor.description.setText("renamed")
    editor.update_method.setCurrentIndex(editor.update_method.findData(method))
    with qtbot.waitSignal(editor.save_requested) as blocker:
        editor.save_button.click()
    assert blocker.args == ["https://t.example", method, {"stream_id": "s1", "events_requested": [SESSION_REVOKED],
                                                          "delivery": {"method": POLL}, "description": "renamed"}]


def test_switching_a_poll_stream_to_push_fills_in_our_receiver(editor):
    editor.show_stream("https://t.example", CONFIG, "http://127.0.0.1:1/events")
    editor.method.setCurrentIndex(editor.method.findData(PUSH))
    assert not editor.endpoint.isReadOnly()
    assert editor.endpoint.text() == "http://127.0.0.1:1/events"
    editor.method.setCurrentIndex(editor.method.findData(POLL))
    assert editor.endpoint.text() == "https://t.example/poll/s1"
    editor.method.setCurrentIndex(editor.method.findData(PUSH))
    assert editor.receiver_fields()["delivery"] == {"method": PUSH, "endpoint_url": "http://127.0.0.1:1/events"}


def test_a_push_endpoint_survives_a_look_at_poll(editor):
    config = {**CONFIG, "delivery": {"method": PUSH, "endpoint_url": "https://elsewhere.example/in"}}
    editor.show_stream("https://t.example", config, "http://127.0.0.1:1/events")
    editor.method.setCurrentIndex(editor.method.findData(POLL))
    assert editor.endpoint.text() == "" and editor.endpoint.isReadOnly()
    editor.method.setCurrentIndex(editor.method.findData(PUSH))
    assert editor.endpoint.text() == "https://elsewhere.example/in"


def test_showing_a_poll_stream_after_a_push_one_forgets_the_push_endpoint(editor):
    push = {**CONFIG, "stream_id": "s0", "delivery": {"method": PUSH, "endpoint_url": "https://elsewhere.example/in"}}
    editor.show_stream("https://t.example", push, "http://127.0.0.1:1/events")
    editor.show_stream("https://t.example", CONFIG, "http://127.0.0.1:1/events")
    editor.method.setCurrentIndex(editor.method.findData(PUSH))
    assert editor.endpoint.text() == "http://127.0.0.1:1/events"
