"""Captures in and out from the window: export the list, import by dropping files
(with the failed entries named), copy as curl, compare two captures."""

import json
import shlex

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from app.ui.compare_dialog import CHANGE_COLOURS, COL_A, COL_B, COL_CHANGE, COL_WHERE
from conftest import push

HOSTILE = "<b>x</b><img src=http://127.0.0.1:1/x>"


def select_rows(window, *rows):
    selection = window.table.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.model.index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    selection.setCurrentIndex(window.model.index(rows[-1], 0), QItemSelectionModel.SelectionFlag.NoUpdate)


def drop(window, paths):
    """Drag files over the window, then drop them. A synthetic Drop is not delivered by
    QApplication.sendEvent without a real drag in progress, so the drop goes straight
    to the window's drop handler; the drag-enter goes through Qt's delivery."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    handled = window.captures_io.eventFilter(window, event)
    return enter.isAccepted() and handled and event.isAccepted()  # while `mime` lives: the events do not own it


def test_the_workspace_menu_has_import_and_export(window):
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert texts.index("&Import captures…") < texts.index("&Settings…")
    assert "&Export captures…" in texts


def test_export_then_drop_files_imports_and_names_the_failed_entries(window, qtbot, tmp_path):
    for n in range(2):
        push(window, json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    out = tmp_path / "list.jsonl"
    with qtbot.waitSignal(window.captures_io.exported, timeout=10000) as exported:
        window.captures_io.export_to(out)
    assert exported.args == [2] and len(out.read_text().splitlines()) == 2
    hostile_name = "<b>x<img src=x>"  # a file name is untrusted text too (no '/' in a name)
    broken = tmp_path / f"{hostile_name}.jsonl"
    broken.write_text(out.read_text().splitlines()[0] + "\n{not json\n")
    with qtbot.waitSignal(window.captures_io.imported, timeout=10000) as imported:
        assert window.acceptDrops() and drop(window, [out, broken])
    assert [len(s.ids) for s in imported.args[0]] == [2, 1]
    assert window.model.rowCount() == 5
    box = window.captures_io.message_box
    assert box.isVisible() and box.textFormat() == Qt.TextFormat.PlainText
    assert box.text().startswith("Imported 3 captures from 2 files; 1 could not be imported.")
    assert f"{hostile_name}.jsonl, line 2: " in box.text()
    box.close()


def test_copy_as_curl_puts_a_shell_safe_command_on_the_clipboard(window, qtbot):
    push(window, b"it's $(rm -rf /) `x`", {"Content-Type": "text/plain", "X-Sig": "a'b"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    command = window.captures_io.copy_as_curl()
    assert QGuiApplication.clipboard().text() == command
    words = shlex.split(command)
    assert words[0] == "printf" and words[2] == "it's $(rm -rf /) `x`" and "X-Sig: a'b" in words
    assert any(w.endswith("/events") for w in words)


def test_compare_two_selected_sets_lists_claim_differences_colour_coded_and_literal(window, trusted_peer, qtbot):
    claims = trusted_peer.claims()
    push(window, trusted_peer.sign(claims))
    push(window, trusted_peer.sign({**claims, "jti": "second", "txn": HOSTILE, "extra": 1}))
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    assert window.captures_io.compare_selected() is None  # one row is not two
    select_rows(window, 0, 1)
    dialog = window.captures_io.compare_selected()
    section = dialog.section("claims")
    rows = {section.child(i).text(COL_WHERE): section.child(i) for i in range(section.childCount())}
    assert set(rows) == {"jti", "txn", "extra"}
    assert rows["extra"].text(COL_CHANGE) == "added" and rows["extra"].text(COL_B) == "1"
    assert rows["txn"].text(COL_CHANGE) == "changed" and rows["txn"].text(COL_B) == HOSTILE
    assert rows["txn"].text(COL_A) == "8675309"
    assert rows["txn"].foreground(COL_CHANGE).color().name() == CHANGE_COLOURS["changed"]
    assert dialog.summary.textFormat() == Qt.TextFormat.PlainText
    dialog.close()


def test_export_dialog_writes_the_chosen_format(window, qtbot, tmp_path):
    push(window, b"one", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    dialog = window.captures_io.ask_export()
    dialog.selectNameFilter("HAR 1.2 (*.har)")
    dialog.filterSelected.emit("HAR 1.2 (*.har)")
    assert dialog.defaultSuffix() == "har"
    target = tmp_path / "list.har"
    with qtbot.waitSignal(window.captures_io.exported, timeout=10000):
        dialog.fileSelected.emit(str(target))
    assert json.loads(target.read_text())["log"]["entries"][0]["request"]["method"] == "POST"
    dialog.close()
