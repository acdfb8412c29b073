"""Per-user window preferences (QSettings in an ini file): geometry, the splitter and
column layout, the last detail tab, which docks were open and where, recent workspaces;
and the colour scheme.

The file lives in the platform config directory, or in $SIGNALSCOPE_CONFIG_DIR
(tests point it at a temporary directory). Receiver settings are not here: they
belong to the workspace (app/core/workspace_settings.py)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

MAX_RECENT = 8


def store() -> QSettings:
    base = os.environ.get("SIGNALSCOPE_CONFIG_DIR") or platformdirs.user_config_dir("signalscope", "Signalscope")
    return QSettings(str(Path(base) / "window.ini"), QSettings.Format.IniFormat)


def save_window(window) -> None:
    s = store()
    for key, value in window.saved_state().items():
        s.setValue(key, value)
    if window.details.count():
        s.setValue("detail_tab", window.details.currentIndex())
    s.sync()


def restore_window(window) -> bool:
    """Geometry and layout from the last run; False when there was none (first run)."""
    s = store()
    geometry = s.value("geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    splitter = s.value("splitter")
    if splitter is not None:
        window.splitter.restoreState(splitter)
    header = s.value("header")
    if header is not None:
        window.table.horizontalHeader().restoreState(header)
    return splitter is not None


def saved_docks():
    """(names of the docks open at the last close, the window's saved dock layout or None)."""
    s = store()
    names = s.value("open_docks") or []
    if isinstance(names, str):  # an ini file stores a one-element list as a plain value
        names = [names]
    return [str(n) for n in names], s.value("dock_state")


def restore_detail_tab(window) -> None:
    tab = store().value("detail_tab")
    if tab is not None:
        window.details.setCurrentIndex(int(tab))


def recent() -> list[Path]:
    value = store().value("recent") or []
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in value]


def add_recent(path: Path) -> None:
    paths = [str(path)] + [str(p) for p in recent() if str(p) != str(path)]
    s = store()
    s.setValue("recent", paths[:MAX_RECENT])
    s.sync()


def apply_theme(theme: str) -> None:
    """'system' follows the desktop's light/dark scheme; 'light'/'dark' force one."""
    app = QApplication.instance()
    if app is None:
        return
    hints = app.styleHints()
    if theme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
    elif theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
    else:
        hints.unsetColorScheme()
