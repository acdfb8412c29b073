"""Light and dark themes take effect even where the platform cannot switch colour schemes
(the offscreen platform here, plain X11), and 'system' gives the original look back."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app.ui import preferences


def window_lightness() -> int:
    return QApplication.instance().palette().window().color().lightness()


def test_dark_then_light_then_system(qapp):
    before = (qapp.style().name(), qapp.palette().window().color().name())
    try:
        preferences.apply_theme("dark")
        assert window_lightness() < 80
        assert qapp.palette().text().color().lightness() > 180  # readable text on it
        preferences.apply_theme("light")
        assert window_lightness() > 200
        preferences.apply_theme("system")
        assert (qapp.style().name(), qapp.palette().window().color().name()) == before
    finally:
        preferences.apply_theme("system")


def test_the_settings_theme_is_applied_by_the_window(window, qtbot):
    from dataclasses import replace

    try:
        with qtbot.waitSignal(window.engine_started, timeout=10000):
            window.apply_settings(replace(window.settings, theme="dark"))
        assert window_lightness() < 80
        assert window.palette().window().color().lightness() < 80
    finally:
        preferences.apply_theme("system")
