"""The Subscriptions area of the window (issue 5): transmitters and their SSF streams.

- `channel.py`          the engine's `Subscriptions`, called on the engine thread only
- `area.py`             the dock's content and the composition root of the parts below
- `transmitter_tree.py` transmitters known to the workspace, each with its streams
- `add_transmitter.py`  "Add transmitter…": issuer URL, bearer token or OAuth client credentials
- `stream_editor.py`    a stream's receiver-supplied fields; Create (POST), Save (PATCH or PUT)
- `subject_editor.py`   a format-aware form for one subject identifier, validated by the core
- `subjects_panel.py`   add / remove subjects of the selected stream
- `status_panel.py`     status (enable / pause / disable), Verify round trip, Poll now and auto-poll
- `stream_actions.py`   runs what the Subjects and Status tabs ask for, answers back to them
- `exchange_log.py`     the raw HTTP of every management call, live (Authorization redacted by the core)
- `emit_dialog.py`      "Emit test event…" for the built-in simulator

`install_subscriptions(window)` is the main window's one hook.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget


def install_subscriptions(window):
    """Add the Subscriptions dock and menu to the main window; returns the area."""
    from app.ui.subscriptions.area import SubscriptionsArea

    dock = QDockWidget("Subscriptions", window)
    dock.setObjectName("subscriptions")
    area = SubscriptionsArea(window.bridge, window, dock)
    dock.setWidget(area)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.resizeDocks([dock], [780], Qt.Orientation.Horizontal)
    dock.hide()  # opened from the Subscriptions menu; at 780 px it would crowd a 1366x768 screen
    window.engine_started.connect(area.engine_ready)
    window.engine_stopping.connect(area.channel.detach)
    window.installEventFilter(area)  # its Close: calls in flight end before the engine stops
    menu = window.menuBar().addMenu("S&ubscriptions")
    menu.addAction(dock.toggleViewAction())
    menu.addSeparator()
    menu.addAction(area.add_action)
    menu.addAction(area.new_action)
    menu.addAction(area.refresh_action)
    menu.addSeparator()
    menu.addAction(area.emit_action)
    area.dock = dock
    return area
