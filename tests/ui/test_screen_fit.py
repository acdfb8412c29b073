"""The window and its dialogs fit a 1366x768 screen, and the wording fixes found by
looking at real screenshots stay fixed (a UI review under Xvfb)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QSize

from sim_runs import simulate_deliveries

SCREEN = QSize(1366, 768)
USABLE = QSize(1366, 768 - 40)  # less a title bar and a panel


def fits(size: QSize, room: QSize = USABLE) -> bool:
    return size.width() <= room.width() and size.height() <= room.height()


def test_the_subscriptions_dock_does_not_make_the_window_wider_than_the_screen(make_window, qtbot):
    window = make_window(start=False)
    window.resize(1366, 740)
    window.show()
    window.subscriptions.dock.show()
    QCoreApplication.processEvents()
    # The Subjects tab's long checkbox made the window's minimum 1578 px wide.
    assert window.minimumSizeHint().width() <= SCREEN.width(), window.minimumSizeHint()
    assert window.width() <= SCREEN.width()
    area = window.subscriptions
    assert area.splitter.sizes()[1] > area.splitter.sizes()[0]  # the stream form gets the room, not the tree


def test_the_deliveries_dock_fits_a_small_window_and_leaves_the_list_room(make_window, qtbot):
    window = make_window(start=False)
    window.resize(1366, 740)
    window.show()
    window.retry_views.toggle_deliveries(True)
    QCoreApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1024
    assert window.retry_views.deliveries_dock.height() < window.height() / 2
    assert window.table.height() > 100  # the capture list was two rows tall


def test_the_filter_text_keeps_room_next_to_the_combos(make_window, qtbot):
    window = make_window(start=False)
    window.resize(1366, 740)
    window.show()
    window.subscriptions.dock.show()
    QCoreApplication.processEvents()
    assert window.filter_bar.text.width() >= 100  # it was squeezed to "Fi…"


def _dialogs(window):
    from app.core.workspace_settings import ReceiverSettings
    from app.ui.fault_rules_dialog import FaultRulesTable
    from app.ui.policy_lab_dialog import PolicyLabDialog
    from app.ui.replay_target_picker import TargetDialog
    from app.ui.settings_dialog import SettingsDialog
    from app.ui.subscriptions.emit_dialog import EmitDialog

    return {
        "settings": SettingsDialog(ReceiverSettings(), ["https://idp.example.com"], window),
        "emit": EmitDialog([{"stream_id": "f" * 32, "description": "a stream"}], window),
        "policy lab": PolicyLabDialog(window),
        "fault rules": FaultRulesTable(window),
        "replay to": TargetDialog(window.bridge, None, None, window),
        "bulk replay": window.replay.replay_selection(),
    }


@pytest.mark.parametrize("name", ["settings", "emit", "policy lab", "fault rules", "replay to", "bulk replay"])
def test_each_dialog_fits_the_screen(make_window, qtbot, name):
    window = make_window(start=False)
    dialogs = _dialogs(window)
    dialog = dialogs[name]
    dialog.show()
    QCoreApplication.processEvents()
    assert fits(dialog.size()), (name, dialog.size())
    assert fits(dialog.minimumSizeHint()), (name, dialog.minimumSizeHint())
    for each in dialogs.values():
        each.close()
        each.deleteLater()


def test_the_replay_to_dialog_has_room_for_a_url(make_window, qtbot):
    from app.ui.replay_target_picker import TargetDialog

    window = make_window(start=False)
    dialog = TargetDialog(window.bridge, None, None, window)
    dialog.show()
    dialog.picker.choice.setCurrentIndex(1)  # "A URL…"
    QCoreApplication.processEvents()
    assert dialog.width() >= 400  # it opened 200 px wide
    assert dialog.picker.url.width() >= 200
    dialog.close()
    dialog.deleteLater()


def test_the_fault_rules_table_shows_every_column_without_scrolling(qtbot):
    from app.ui.fault_rules_dialog import FaultRulesTable

    dialog = FaultRulesTable()
    qtbot.addWidget(dialog)
    dialog.set_rules([{"name": "down twice", "status": 503, "times": 2}])
    dialog.show()
    QCoreApplication.processEvents()
    table = dialog.table
    columns = sum(table.columnWidth(c) for c in range(dialog.model.columnCount() - 1))  # the last one stretches
    assert columns < table.viewport().width(), (columns, table.viewport().width())


def test_the_subjects_verified_box_is_short_and_explained(qtbot):
    from app.ui.subscriptions.subjects_panel import SubjectsPanel

    panel = SubjectsPanel()
    qtbot.addWidget(panel)
    assert panel.verified.text() == "Verified"
    assert "SSF 8.1.3.2" in panel.verified.toolTip()
    assert panel.minimumSizeHint().width() < 400


def test_the_update_method_names_the_http_method_and_explains_it_in_a_tooltip(qtbot):
    from PySide6.QtCore import Qt

    from app.ui.subscriptions.stream_editor import StreamEditor

    editor = StreamEditor()
    qtbot.addWidget(editor)
    combo = editor.update_method
    assert [combo.itemText(i) for i in range(combo.count())] == ["PATCH", "PUT"]
    assert [combo.itemData(i) for i in range(combo.count())] == ["PATCH", "PUT"]
    assert "replace every receiver field" in combo.itemData(1, Qt.ItemDataRole.ToolTipRole)


def test_a_push_streams_status_tab_says_why_there_is_nothing_to_poll(qtbot):
    from app.ui.subscriptions.status_panel import StatusPanel

    panel = StatusPanel()
    qtbot.addWidget(panel)
    assert panel.poll_result.text() == ""  # no stream: nothing to say
    panel.set_stream("https://tx.example.com", {"stream_id": "s1", "delivery": {"method": "urn:ietf:rfc:8935"}},
                     auto_polling=False)
    assert not panel.poll_button.isEnabled()
    assert "push stream" in panel.poll_result.text()


def test_the_delivery_title_does_not_say_delivered_twice(make_window, tmp_path, qtbot):
    workspace = tmp_path / "ws.signalscope"
    _, [delivery_id], _ = simulate_deliveries(workspace)
    window = make_window(workspace, start=False)
    window.show_delivery_timeline(delivery_id)
    title = window.retry_views.deliveries.title.text()
    assert title.startswith(f"Delivery #{delivery_id}: delivered · policy ")
    assert title.count("delivered") == 1, title


def test_the_policy_lab_says_what_to_do_before_the_first_simulation(qtbot):
    from app.ui.policy_lab_dialog import PolicyLabDialog

    dialog = PolicyLabDialog()
    qtbot.addWidget(dialog)
    assert "Simulate" in dialog.timeline.empty_text
    assert "delivery" not in dialog.timeline.empty_text.lower()


def test_the_outcome_right_of_the_timeline_is_not_cut_off(qtbot):
    from app.ui.policy_lab_dialog import PolicyLabDialog
    from app.ui.timeline_view import STATE_TEXT

    dialog = PolicyLabDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.editor.preset.setCurrentIndex(dialog.editor.preset.findData("simulator"))
    dialog.script_preset.setCurrentText("down 3 h, then up")
    dialog.simulate()
    view = dialog.timeline
    [lane] = view.lanes
    assert lane.timeline.state == "failed"  # the simulator's policy gives up within 3 h
    needed = view.fontMetrics().horizontalAdvance(STATE_TEXT["failed"])
    assert view.width() > 400
    assert view.width() - view.plot_left() - view.plot_width() - 8 >= needed  # "given up / fail" was cut
    assert not view.grab().isNull()  # it still paints
