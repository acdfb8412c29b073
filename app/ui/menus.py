"""The menu bar and the small dialogs behind it: workspace new / open / save as /
recent, settings, another receiver port. Dialogs are opened with `open()` and
answer through signals (never a nested `exec()`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.ui import preferences

WORKSPACE_FILTER = "Signalscope workspaces (*.signalscope);;All files (*)"


def build_menus(window) -> None:
    bar = window.menuBar()
    ws = bar.addMenu("&Workspace")
    _action(window, ws, "&New…", QKeySequence.StandardKey.New, lambda: new_workspace(window))
    _action(window, ws, "&Open…", QKeySequence.StandardKey.Open, lambda: open_workspace(window))
    _action(window, ws, "Save &As…", QKeySequence.StandardKey.SaveAs, lambda: save_workspace_as(window))
    window.recent_menu = ws.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent(window))
    ws.addSeparator()
    _action(window, ws, "&Settings…", QKeySequence.StandardKey.Preferences, lambda: open_settings(window))
    ws.addSeparator()
    _action(window, ws, "&Quit", QKeySequence.StandardKey.Quit, window.close)


def _action(window, menu, text, shortcut, slot) -> QAction:
    action = QAction(text, window)
    action.setShortcut(shortcut)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def _fill_recent(window) -> None:
    window.recent_menu.clear()
    for path in preferences.recent():
        action = window.recent_menu.addAction(str(path))
        action.triggered.connect(lambda checked=False, p=path: window.switch_workspace(p))
    window.recent_menu.setEnabled(True)


def _file_dialog(window, title: str, *, save: bool, on_chosen) -> QFileDialog:
    dialog = QFileDialog(window, title, str(window.workspace.parent), WORKSPACE_FILTER)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile if save else QFileDialog.FileMode.ExistingFile)
    dialog.setDefaultSuffix("signalscope")
    dialog.fileSelected.connect(lambda name: on_chosen(Path(name)))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def new_workspace(window) -> QFileDialog:
    def chosen(path: Path) -> None:
        if path.exists():
            path.unlink()  # the dialog asked before overwriting
        window.switch_workspace(path)

    return _file_dialog(window, "New workspace", save=True, on_chosen=chosen)


def open_workspace(window) -> QFileDialog:
    return _file_dialog(window, "Open workspace", save=False, on_chosen=window.switch_workspace)


def copy_workspace(source: Path, target: Path) -> None:
    """A consistent copy of a live workspace (SQLite's online backup)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def save_workspace_as(window) -> QFileDialog:
    def chosen(path: Path) -> None:
        if path.resolve() == window.workspace:
            return
        copy_workspace(window.workspace, path)
        window.switch_workspace(path)

    return _file_dialog(window, "Save workspace as", save=True, on_chosen=chosen)


def ask_port(window) -> QInputDialog:
    dialog = QInputDialog(window)
    dialog.setWindowTitle("Receiver port")
    dialog.setLabelText("Listen on port (0 picks a free one):")
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    dialog.setIntRange(0, 65535)
    dialog.setIntValue(0)

    def chosen(port: int) -> None:
        from dataclasses import replace

        window.apply_settings(replace(window.settings, receiver_port=port))

    dialog.intValueSelected.connect(chosen)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def open_settings(window):
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, sorted(window._trusted), window)
    dialog.settings_chosen.connect(window.apply_settings)
    dialog.trust_requested.connect(window.trust_issuer)
    dialog.forget_requested.connect(window.forget_issuer)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
