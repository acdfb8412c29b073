"""`signalscope` / `make run`: open the window.

Paint first, then start the engine (on its own thread, importing aiohttp there):
the window appears in about the time a bare PySide6 window takes. Exceptions in
slots (sys.excepthook) and in threads are logged and shown in the window's error
bar, never lost.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

log = logging.getLogger("app.ui")

APP_ID = "io.github.signalscope.Signalscope"


def launch_gui(workspace: Path | None = None, argv: list[str] | None = None) -> int:
    from app.ui.platform_check import platform_problem

    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    from app.core.store.schema import default_workspace_path

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    window = open_window(Path(workspace) if workspace else default_workspace_path())
    return app.exec() if window is not None else 1


def open_window(workspace: Path):
    """Build and show the window; the engine starts once it has painted."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance()
    app.setApplicationName("Signalscope")
    app.setOrganizationName("Signalscope")
    app.setDesktopFileName(APP_ID)
    from importlib import resources

    icon = resources.files("app.resources").joinpath(f"{APP_ID}.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    # The engine thread runs Python flat out while the receiver ingests; the GUI thread asks for
    # the GIL for every painted cell. A 2 ms switch interval (default 5 ms) shortens each wait.
    sys.setswitchinterval(0.002)
    window = MainWindow(workspace, open_after_paint=True)
    install_error_hooks(window)
    window.show()
    return window


def install_error_hooks(window) -> None:
    """Log every uncaught exception and show it in the window (slots, threads)."""
    import shiboken6

    def show(text: str) -> None:
        if shiboken6.isValid(window):
            window.report_error.emit(text)

    def excepthook(kind, value, tb) -> None:
        log.error("uncaught exception", exc_info=(kind, value, tb))
        show(f"Unexpected error: {kind.__name__}: {value}")

    def thread_hook(args) -> None:
        log.error("uncaught exception in thread %s", args.thread.name if args.thread else "?",
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        show(f"Unexpected error in {args.thread.name if args.thread else 'a thread'}: {args.exc_value}")

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
