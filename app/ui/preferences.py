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
from PySide6.QtGui import QColor, QPalette
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
    """'system' follows the desktop's light/dark scheme; 'light'/'dark' force one. Where the
    platform cannot switch schemes (Qt's colorScheme stays as it was: plain X11 without a
    desktop's platform theme, the offscreen platform), the Fusion style with a light or dark
    palette does it instead."""
    app = QApplication.instance()
    if app is None:
        return
    global _ORIGINAL
    if _ORIGINAL is None:
        _ORIGINAL = (app.style().name(), QPalette(app.palette()))
    hints = app.styleHints()
    wanted = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(theme)
    if wanted is None:
        hints.unsetColorScheme()
        if _PALETTE_APPLIED:
            _restore(app)
        return
    hints.setColorScheme(wanted)
    if hints.colorScheme() == wanted:
        if _PALETTE_APPLIED:
            _restore(app)
        return
    _apply_palette(app, dark=wanted == Qt.ColorScheme.Dark)


_ORIGINAL: tuple[str, QPalette] | None = None  # the style and palette before any forced theme
_PALETTE_APPLIED = False


def _restore(app) -> None:
    global _PALETTE_APPLIED
    name, palette = _ORIGINAL
    app.setStyle(name)
    app.setPalette(palette)
    _PALETTE_APPLIED = False


def _apply_palette(app, *, dark: bool) -> None:
    global _PALETTE_APPLIED
    app.setStyle("Fusion")
    palette = app.style().standardPalette()  # Fusion's own: a light one
    if dark:
        role = QPalette.ColorRole
        for r, colour in ((role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1f1f1f"),
                          (role.AlternateBase, "#2a2a2a"), (role.Text, "#e6e6e6"), (role.Button, "#333333"),
                          (role.ButtonText, "#e6e6e6"), (role.ToolTipBase, "#3a3a3a"), (role.ToolTipText, "#e6e6e6"),
                          (role.PlaceholderText, "#8a8a8a"), (role.Highlight, "#3d6fb4"),
                          (role.HighlightedText, "#ffffff"), (role.Link, "#7fb0ff"), (role.BrightText, "#ff6b6b")):
            palette.setColor(r, QColor(colour))
        for r in (role.WindowText, role.Text, role.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, r, QColor("#7a7a7a"))
    app.setPalette(palette)
    _PALETTE_APPLIED = True
