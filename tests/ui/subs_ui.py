"""Helpers for the Subscriptions dock tests (driving the real forms)."""

from __future__ import annotations


def ready_area(window, qtbot):
    """The window's Subscriptions area once it has listed the built-in simulator."""
    area = window.subscriptions
    qtbot.waitUntil(lambda: area.model.rowCount() >= 1 and area.current_issuer() is not None, timeout=10000)
    return area


def create_push_stream(area, qtbot, events, *, poll: bool = False, description: str = "from the form",
                       endpoint: str | None = None) -> dict:
    """Fill the stream form for a new stream at the selected transmitter and press Create."""
    area.new_stream()
    editor = area.editor
    if poll:
        editor.method.setCurrentIndex(1)
    if endpoint is not None:
        editor.endpoint.setText(endpoint)
    editor.set_checked(list(events))
    editor.description.setText(description)
    with qtbot.waitSignal(area.refreshed, timeout=10000):
        editor.create_button.click()
    config = area.current_config()
    assert config is not None, editor.answer.toPlainText()
    return config
