"""Security review: the Deliveries filter boxes show network-derived values (event types of
replayed captures, stream ids) in their tooltips as the characters received, never as rich text."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt

from sim_runs import simulate_deliveries
from test_untrusted_text import HOSTILE, rendered


def test_the_event_type_filter_tooltip_shows_a_hostile_event_type_literally(make_window, tmp_path, qtbot):
    workspace = tmp_path / "ws.signalscope"
    _, [delivery_id], _ = simulate_deliveries(workspace)
    conn = sqlite3.connect(workspace)  # as a replay of a captured SET naming a hostile event type would store it
    conn.execute("UPDATE deliveries SET event_type = ?", (HOSTILE,))
    conn.commit()
    conn.close()
    window = make_window(workspace, start=False)
    window.show_delivery_timeline(delivery_id)
    panel = window.retry_views.deliveries
    box = panel.event_type
    index = box.findData(HOSTILE)
    assert index > 0
    tip = box.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert rendered(tip) == HOSTILE
