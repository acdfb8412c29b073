"""Strings a transmitter sends show as the characters received in the Subscriptions dock:
the tree, its tooltips, the stream editor, the status tab, the exchange log."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from peers import SESSION_REVOKED
from subs_ui import ready_area
from test_untrusted_text import HOSTILE, rendered


def test_a_hostile_stream_shows_literally(window, qtbot):
    area = ready_area(window, qtbot)
    simulator = window.engine_thread.engine.transmitter
    hostile_event = f"https://example.com/{HOSTILE}"
    body = {"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": window.engine_thread.engine.receiver.url},
            "events_requested": [SESSION_REVOKED, hostile_event], "description": HOSTILE}
    stream, _ = window.engine_thread.submit(simulator.create(body)).result(5)
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        area.refresh(select_stream=stream.stream_id)
    index = area.model.find_stream(stream.stream_id)
    assert area.model.item(0, 0).child(index.row(), 2).text() == HOSTILE
    assert area.editor.description.text() == HOSTILE
    editor = area.editor
    tips = [editor.events_model.item(i).toolTip() for i in range(editor.events_model.rowCount())]
    assert any(hostile_event in rendered(t) for t in tips)
    assert hostile_event in editor.delivered_note.text()
    for widget in area.findChildren(QLabel):
        if "<" in widget.text() or stream.stream_id in widget.text():
            assert widget.textFormat() == Qt.TextFormat.PlainText, widget.text()
    log = area.exchange_log
    qtbot.waitUntil(lambda: any(HOSTILE in (e.response_body or "") for e in log.model.exchanges), timeout=5000)
    row = max(i for i, e in enumerate(log.model.exchanges) if HOSTILE in (e.response_body or ""))
    log.select_row(row)
    assert HOSTILE in log.raw.toPlainText()
