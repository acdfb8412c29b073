"""The Subscriptions tree follows changes made elsewhere (the simulator, a stream-updated SET)
without overwriting what the person is doing in the tabs."""

from __future__ import annotations

from peers import SESSION_REVOKED
from subs_ui import create_push_stream, ready_area


def set_status_at_the_transmitter(window, stream_id: str, status: str, reason: str):
    simulator = window.engine_thread.engine.transmitter
    window.engine_thread.submit(simulator.set_status(stream_id, status, reason, by_transmitter=True)).result(5)


def test_a_transmitter_initiated_pause_shows_without_a_refresh(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    qtbot.waitUntil(lambda: area.status.current.text().startswith("enabled"), timeout=5000)
    set_status_at_the_transmitter(window, config["stream_id"], "paused", "SYSTEM_DOWN_FOR_MAINTENANCE")
    qtbot.waitUntil(lambda: area.status.current.text() == "paused (SYSTEM_DOWN_FOR_MAINTENANCE)", timeout=5000)
    assert area.current_stream_id() == config["stream_id"]


def test_a_change_elsewhere_keeps_the_answers_shown_in_the_tabs(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    area.status.verification.setText("confirmed: shown before the change")
    area.subjects.answer.setText("200: subject added")
    with qtbot.waitSignal(area.refreshed, timeout=5000):
        set_status_at_the_transmitter(window, config["stream_id"], "paused", "reason")
    assert area.status.verification.text() == "confirmed: shown before the change"
    assert area.subjects.answer.text() == "200: subject added"


def test_unsaved_edits_are_never_overwritten_by_a_change_elsewhere(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], description="before")
    area.editor.description.setText("being typed")
    assert area.editor.edited
    set_status_at_the_transmitter(window, config["stream_id"], "paused", "reason")
    qtbot.waitUntil(lambda: area.stale, timeout=5000)
    assert area.editor.description.text() == "being typed"
    assert "unsaved edits" in area.details.text()
