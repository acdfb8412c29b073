"""Settings dialog, workspace new/open/save as/recent, copying a value, engine problems."""

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.core.bus import EngineProblem
from app.core.workspace_settings import ReceiverSettings
from app.ui import menus, preferences
from app.ui.settings_dialog import SettingsDialog
from conftest import push


def test_settings_dialog_returns_what_was_edited(qtbot):
    dialog = SettingsDialog(ReceiverSettings(), [])
    qtbot.addWidget(dialog)
    dialog.port.setValue(8935)
    dialog.sim_port.setValue(8936)
    dialog.push_ca_file.setText(" /home/jane/dev-ca.pem ")
    dialog.push_insecure.setChecked(True)
    dialog.token.setText("s3cret")
    dialog.audiences.setPlainText("https://a.example\n\n https://b.example ")
    dialog.body_limit.setValue(64)
    dialog.theme.setCurrentText("dark")
    with qtbot.waitSignal(dialog.settings_chosen) as chosen:
        dialog.accept()
    assert chosen.args[0] == ReceiverSettings(receiver_port=8935, transmitter_port=8936, receiver_token="s3cret",
                                              push_ca_file="/home/jane/dev-ca.pem", push_insecure=True,
                                              audiences=("https://a.example", "https://b.example"),
                                              body_limit=64 * 1024, theme="dark")


def test_settings_dialog_trusts_an_issuer_with_a_pasted_jwks_and_refuses_a_bad_one(qtbot, peer):
    dialog = SettingsDialog(ReceiverSettings(), [])
    qtbot.addWidget(dialog)
    dialog.issuer_url.setText(peer.issuer)
    dialog.jwks.setPlainText("{not json")
    dialog._trust()
    assert "not JSON" in dialog.issuer_error.text()
    dialog.jwks.setPlainText(json.dumps(peer.jwks))
    with qtbot.waitSignal(dialog.trust_requested) as trusted:
        dialog._trust()
    assert trusted.args == [peer.issuer, None, peer.jwks]
    assert dialog.issuers.item(0).text() == peer.issuer


def test_opening_another_workspace_moves_the_engine_and_the_title(window, tmp_path, qtbot, peer):
    push(window, b"first", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    other = tmp_path / "other.signalscope"
    with qtbot.waitSignal(window.engine_started, timeout=10000):
        window.switch_workspace(other)
    assert window.windowTitle().startswith("other.signalscope")
    assert window.model.rowCount() == 0
    push(window, b"second", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    assert preferences.recent()[:2] == [other.resolve(), (tmp_path / "ws.signalscope").resolve()]


def test_save_as_copies_the_captures_into_the_new_file(window, tmp_path, qtbot):
    push(window, b"kept", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    copy = tmp_path / "copy.signalscope"
    menus.copy_workspace(window.workspace, copy)
    with qtbot.waitSignal(window.engine_started, timeout=10000):
        window.switch_workspace(copy)
    assert window.model.rowCount() == 1 and window.workspace == copy.resolve()


def test_ctrl_c_copies_the_selected_value(window, trusted_peer, qtbot):
    push(window, trusted_peer.set())
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    tree = window.decoded.tree
    claims = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "Claims")
    iss = next(claims.child(i) for i in range(claims.childCount()) if claims.child(i).text(0) == "iss")
    tree.setCurrentItem(iss)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == trusted_peer.issuer


def test_an_engine_problem_shows_in_the_error_bar(window, qtbot):
    window.bus.publish(EngineProblem("stored issuer x is unusable", "bad JWKS"))
    qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=2000)
    assert window.error_bar.message.text() == "stored issuer x is unusable: bad JWKS"


def test_opening_a_file_that_is_not_a_workspace_says_so_and_stops_serving(window, tmp_path, qtbot):
    url = window.engine_thread.engine.receiver.url
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"this is not SQLite at all" * 100)
    # The engine is forgotten at once, but its servers close a moment later: wait for the stop to finish.
    with qtbot.waitSignal(window.engine_stopped, timeout=5000):
        window.switch_workspace(junk)
        assert "is not a Signalscope workspace" in window.error_bar.message.text()
        assert window.error_bar.action.text() == "Open another workspace…"
    assert window.engine_thread.engine is None
    assert window.status.state.text() == "Not listening"
    import httpx
    import pytest

    with pytest.raises(httpx.ConnectError):
        httpx.post(url, content=b"x", timeout=2)


def test_the_not_a_workspace_message_is_not_replaced_by_a_late_listing_error(window, tmp_path, qtbot):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"this is not SQLite at all" * 100)
    with qtbot.waitSignal(window.engine_stopped, timeout=5000):
        window.switch_workspace(junk)
    window.subscriptions.refresh()  # what a change seen late, or a Refresh click, does while nothing runs
    qtbot.wait(200)
    assert "is not a Signalscope workspace" in window.error_bar.message.text()
    assert window.subscriptions.details.text() == "Waiting for the engine…"


def test_the_panel_layout_is_remembered_between_runs(make_window, qtbot):
    first = make_window(start=False)
    first.show()
    qtbot.waitExposed(first)
    first.details.setCurrentIndex(2)
    first.splitter.setSizes([150, 450])
    sizes = first.splitter.sizes()
    first.close()
    second = make_window(start=False)
    second.show()
    qtbot.waitExposed(second)
    assert second.details.currentIndex() == 2
    assert second.splitter.sizes() == sizes
