"""The Status tab over the real engine: status changes, a verification round trip matched
at our receiver, and a poll stream whose polled SETs join the capture list (origin poll)."""

from __future__ import annotations

from app.core.store.captures import get_capture
from app.ui.capture_model import COL_VERDICT
from peers import SESSION_REVOKED
from subs_ui import create_push_stream, ready_area

SUBJECT = {"format": "email", "email": "jane@example.com"}


def emit(window, stream_id: str):
    simulator = window.engine_thread.engine.transmitter
    return window.engine_thread.submit(simulator.emit(event_type=SESSION_REVOKED, subject=SUBJECT,
                                                      stream_id=stream_id)).result(5)


def test_pausing_with_a_reason_and_enabling_again(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED])
    panel = area.status
    qtbot.waitUntil(lambda: panel.current.text().startswith("enabled"), timeout=5000)
    panel.status.setCurrentText("paused")
    panel.reason.setText("SYSTEM_DOWN_FOR_MAINTENANCE")
    with qtbot.waitSignal(area.answered, timeout=5000):
        panel.apply_button.click()
    assert panel.current.text() == "paused (SYSTEM_DOWN_FOR_MAINTENANCE)"
    stream = window.engine_thread.engine.transmitter.streams[config["stream_id"]]
    assert (stream.status, stream.reason) == ("paused", "SYSTEM_DOWN_FOR_MAINTENANCE")
    panel.status.setCurrentText("enabled")
    panel.reason.clear()
    with qtbot.waitSignal(area.answered, timeout=5000):
        panel.apply_button.click()
    assert panel.current.text() == "enabled"


def test_verify_shows_a_matched_round_trip(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    panel = area.status
    assert not panel.poll_button.isEnabled()
    with qtbot.waitSignal(area.answered, timeout=15000) as blocker:
        panel.verify_button.click()
    assert blocker.args == ["verify"], panel.verification.text()
    text = panel.verification.text()
    assert text.startswith("confirmed: the verification SET carried our state and verified"), text
    capture_id = int(text.split("capture #")[1].split(" ")[0])
    assert "(push)" in text and "state: " in text
    capture = get_capture(window._conn, capture_id)
    assert capture["verdict"] == "valid"
    qtbot.waitUntil(lambda: window.model.row_of(capture_id) is not None, timeout=5000)


def test_poll_now_brings_a_polled_capture_into_the_list(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], poll=True)
    panel = area.status
    assert panel.poll_button.isEnabled() and panel.auto_poll.isEnabled()
    emit(window, config["stream_id"])
    rows = window.model.rowCount()
    with qtbot.waitSignal(area.answered, timeout=10000):
        panel.poll_button.click()
    assert panel.poll_result.text().startswith("1 SET(s) polled"), panel.poll_result.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 1, timeout=5000)
    row = window.model.rowCount() - 1
    assert window.model.data(window.model.index(row, COL_VERDICT)) == "valid"
    capture_id = window.model.capture_id(window.model.index(row, 0))
    assert get_capture(window._conn, capture_id)["origin"] == "poll"
    with qtbot.waitSignal(area.answered, timeout=10000):
        panel.poll_button.click()
    assert panel.poll_result.text().startswith("0 SET(s) polled")  # acknowledged: not handed out again


def test_auto_poll_fetches_as_events_are_emitted(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], poll=True)
    panel = area.status
    panel.auto_poll.setChecked(True)
    qtbot.waitUntil(lambda: area.channel.auto_polling(config["stream_id"]), timeout=2000)
    rows = window.model.rowCount()
    emit(window, config["stream_id"])
    emit(window, config["stream_id"])
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 2, timeout=10000)
    qtbot.waitUntil(lambda: "2 SET(s) so far" in panel.poll_result.text(), timeout=5000)
    panel.auto_poll.setChecked(False)
    assert not area.channel.auto_polling(config["stream_id"])


def test_verify_times_out_when_the_stream_pushes_elsewhere(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], endpoint="http://127.0.0.1:9/elsewhere")
    area.stream_actions.verify_timeout = 0.3
    with qtbot.waitSignal(area.answered, timeout=10000):
        area.status.verify_button.click()
    text = area.status.verification.text()
    assert text.startswith("timeout: no verification SET with this state arrived within 0.3 s"), text
    assert "the stream pushes to http://127.0.0.1:9/elsewhere, not to this receiver" in text
    assert area.status.verify_button.isEnabled()
    assert config["stream_id"] in area.status.heading.text()


def test_a_second_verify_too_soon_shows_the_429(window, qtbot):
    area = ready_area(window, qtbot)
    create_push_stream(area, qtbot, [SESSION_REVOKED])
    with qtbot.waitSignal(area.answered, timeout=10000):
        area.status.verify_button.click()
    with qtbot.waitSignal(area.answered, timeout=10000):
        area.status.verify_button.click()
    text = area.status.verification.text()
    assert text.startswith("Failed: ") and "HTTP 429" in text and "retry after" in text


def test_auto_poll_stops_and_says_why_when_the_stream_goes_away(window, qtbot):
    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], poll=True)
    area.status.auto_poll.setChecked(True)
    qtbot.waitUntil(lambda: "so far" in area.status.poll_result.text(), timeout=5000)
    simulator = window.engine_thread.engine.transmitter
    window.engine_thread.submit(simulator.delete(config["stream_id"])).result(5)
    # The tree follows the deletion (the stream leaves it) and the Status tab says why auto-poll ended.
    qtbot.waitUntil(lambda: "404" in area.status.poll_result.text(), timeout=10000)
    assert not area.status.auto_poll.isChecked()
    assert area.status.poll_result.text().startswith(f"Auto-poll of stream {config['stream_id']} stopped: ")
    assert not area.model.find_stream(config["stream_id"]).isValid()
    assert not area.channel.auto_polling(config["stream_id"])


def test_closing_the_window_during_a_verification_ends_it_at_once(window, qtbot):
    import time

    area = ready_area(window, qtbot)
    config = create_push_stream(area, qtbot, [SESSION_REVOKED], endpoint="http://127.0.0.1:9/elsewhere")
    area.stream_actions.verify_timeout = 30.0
    stream = window.engine_thread.engine.transmitter.streams[config["stream_id"]]
    # Other calls may be in flight too (the stream's read after it was selected) and may finish on their
    # own before the close: the verification is the call the click adds.
    before = set(area.channel._in_flight)
    area.status.verify_button.click()
    [verification] = set(area.channel._in_flight) - before
    # The transmitter has taken the request: the round trip now waits (up to 30 s) for a SET that never comes.
    qtbot.waitUntil(lambda: stream.last_verification_at is not None, timeout=5000)
    assert not verification.done()
    thread = window.engine_thread
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 5 and not thread.running
    assert verification.cancelled()  # not left pending on a loop that has stopped
