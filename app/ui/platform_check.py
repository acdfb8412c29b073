"""Before Qt starts on Linux/X11: are the xcb plugin's system libraries there?

Without them Qt aborts with "could not load the Qt platform plugin xcb", which
tells a newcomer nothing. We try to load each library the plugin links against
and, if some are missing, return the one `apt-get install` line that fixes it."""

from __future__ import annotations

import ctypes
import os
import sys

# soname -> Debian/Ubuntu package (what PySide6's libqxcb.so links against)
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libfontconfig.so.1": "libfontconfig1",
}


def missing_packages(libraries: dict[str, str] = XCB_LIBRARIES) -> list[str]:
    missing = []
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def platform_problem(environ=os.environ) -> str | None:
    """A message when the window cannot open here, else None."""
    if not sys.platform.startswith("linux"):
        return None
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: Qt's own business
    if not platform and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return ("signalscope: no display to open a window on (DISPLAY is not set). Run it in a desktop session,"
                " under xvfb-run, or use `signalscope headless`.")
    missing = missing_packages()
    if missing:
        return ("signalscope: Qt's xcb platform plugin needs system libraries that are missing. Install them with:\n"
                f"    sudo apt-get install -y {' '.join(missing)}")
    return None
