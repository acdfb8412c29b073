"""Captures in and out from the window: Workspace ▸ Import… / Export…, files dropped
on the window, "Copy as curl" and "Compare…" on the capture list.

Imports and exports run on the engine thread (core `capture_files`) through the
bridge; an import that could not read some files or entries says which in a
message box (plain text, opened with open()). `install(window, replay)` is the
window's hook; the list's context menu is the one the replay actions built.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

IMPORT_FILTER = "Captures (*.jsonl *.ndjson *.json *.har *.jwt *.txt);;All files (*)"
EXPORT_FILTERS = {"JSON lines (*.jsonl)": "jsonl", "HAR 1.2 (*.har)": "har"}


class CaptureFiles(QObject):
    imported = Signal(list)  # [ImportSummary, ...]
    exported = Signal(int)  # how many captures were written

    def __init__(self, window, replay):
        super().__init__(window)
        self.window, self.replay = window, replay
        self.import_action = QAction("&Import captures…", window)
        self.import_action.triggered.connect(self.ask_import)
        self.export_action = QAction("&Export captures…", window)
        self.export_action.triggered.connect(self.ask_export)
        self.curl_action = QAction("Copy as curl", window)
        self.curl_action.triggered.connect(self.copy_as_curl)
        self.compare_action = QAction("Compare…", window)
        self.compare_action.triggered.connect(self.compare_selected)
        menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Workspace"), None)  # = File
        if menu is not None:
            settings = next((a for a in menu.actions() if a.text().startswith("&Settings")), None)
            menu.insertActions(settings, [self.import_action, self.export_action])
            menu.insertSeparator(settings)
        replay.context_menu.addSeparator()
        replay.context_menu.addAction(self.curl_action)
        replay.context_menu.addAction(self.compare_action)
        replay.menu.addSeparator()
        replay.menu.addAction(self.compare_action)
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self.message_box: QMessageBox | None = None

    # -- drag and drop ------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if dropped_files(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            files = dropped_files(event.mimeData())
            if files:
                event.acceptProposedAction()
                self.import_files(files)
                return True
        return False

    # -- import / export ----------------------------------------------------------------
    def ask_import(self) -> QFileDialog:
        dialog = QFileDialog(self.window, "Import captures", str(self.window.workspace.parent), IMPORT_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self._import_files_chosen)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _import_files_chosen(self, names: list[str]) -> None:
        self.import_files([Path(n) for n in names])

    def import_files(self, paths: list[Path]) -> None:
        if not self.replay._engine_ready():
            return

        async def run(engine):
            from app.core.capture_files import import_paths

            return await import_paths(engine, paths)

        self.replay.last_result.setText(f"Importing {len(paths)} file{'s' if len(paths) != 1 else ''}…")
        self.window.bridge.run(self.window.engine_thread.call(run), "importing captures", self._imported)

    def _imported(self, summaries) -> None:
        from app.core.capture_files import describe_imports

        if not shiboken6.isValid(self.window):
            return
        self.window.model.refresh()
        text, problems = describe_imports(summaries)
        self.replay.last_result.setText(text)
        if problems:
            shown = "\n".join(problems[:20]) + (f"\n… and {len(problems) - 20} more" if len(problems) > 20 else "")
            box = QMessageBox(QMessageBox.Icon.Warning, "Import", "", QMessageBox.StandardButton.Close, self.window)
            box.setTextFormat(Qt.TextFormat.PlainText)  # file names and reasons come from the files: never rich text
            box.setText(f"{text}\n\n{shown}")
            box.setDetailedText("\n".join(problems))  # shown with setPlainText
            box.finished.connect(box.deleteLater)
            self.message_box = box
            box.open()
        self.imported.emit(summaries)

    def ask_export(self) -> QFileDialog:
        dialog = QFileDialog(self.window, "Export captures (the list as filtered)", str(self.window.workspace.parent),
                             ";;".join(EXPORT_FILTERS))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("jsonl")
        dialog.filterSelected.connect(self._export_filter_chosen)
        dialog.fileSelected.connect(self._export_file_chosen)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _export_filter_chosen(self, name_filter: str) -> None:
        self.sender().setDefaultSuffix(EXPORT_FILTERS.get(name_filter, "jsonl"))

    def _export_file_chosen(self, name: str) -> None:
        self.export_to(Path(name), EXPORT_FILTERS.get(self.sender().selectedNameFilter()))

    def export_to(self, path: Path, fmt: str | None = None) -> None:
        if not self.replay._engine_ready():
            return
        from app.core.capture_files import format_for

        fmt = format_for(path, fmt)
        flt = self.window.filter_bar.current_filter()

        async def run(engine):
            from app.core.capture_files import export_captures

            return await export_captures(engine, flt, path, fmt)

        self.window.bridge.run(self.window.engine_thread.call(run), f"exporting to {path.name}", self._exported)

    def _exported(self, count: int) -> None:
        if shiboken6.isValid(self.window):
            self.replay.last_result.setText(f"Exported {count} capture{'s' if count != 1 else ''}.")
            self.exported.emit(count)

    # -- curl and compare ------------------------------------------------------------------
    def copy_as_curl(self) -> str | None:
        from app.core.curl import CurlError, curl_command

        capture = self.replay._need_capture()
        if capture is None:
            return None
        host = next((v for k, v in capture["headers"] if k.lower() == "host"), None)
        base = f"http://{host}" if host else "http://127.0.0.1"
        try:
            command = curl_command(capture, base)
        except CurlError as exc:
            self.window.show_error(f"Copy as curl: {exc}")
            return None
        QGuiApplication.clipboard().setText(command)
        self.replay.last_result.setText(f"Copied a curl command for #{capture['id']}.")
        return command

    def compare_selected(self):
        from app.core.store.captures import get_capture
        from app.ui.compare_dialog import CompareDialog

        ids = self.replay.selected_ids()
        if len(ids) != 2 or self.window._conn is None:
            self.replay.last_result.setText("Select two captures to compare (Ctrl+click).")
            return None
        a, b = (get_capture(self.window._conn, i) for i in ids)
        dialog = CompareDialog(a, b, self.window)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog


def dropped_files(mime) -> list[Path]:
    if mime is None or not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


def install(window, replay) -> CaptureFiles:
    return CaptureFiles(window, replay)
