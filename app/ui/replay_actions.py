"""Replay in the window: the actions (context menu of the capture list, a toolbar,
a Replay menu), the dialogs behind them and the Replays dock.

`install(window)` is the window's only hook: it builds a `ReplayActions` that reads
the window's attributes (its table, model, bridge, engine thread, read-only
connection) and reports back through the window's own surfaces (error bar, a
status label). Actions:
  Replay to last target   the current capture, exact, to the remembered target
  Replay to…              the current capture, exact, to a target chosen now
  Edit and replay…        the editor dialog (app/ui/replay_dialog.py)
  Replay selection…       a bulk run (app/ui/bulk_replay.py); also "failed since…"
The last target is saved in the workspace (core replay_targets).
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QMenu

from app.ui.replays_view import ReplaysView
from app.ui.untrusted import elide, plain_label

log = logging.getLogger(__name__)


class ReplayActions(QObject):
    timeline_requested = Signal(int)  # a delivery id: the window shows its timeline
    replayed = Signal(object)  # a ReplayOutcome of a single replay

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._last_target = None
        self._last_loaded_from = None
        window.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # "the selected rows"

        def action(text, slot, shortcut=None):
            a = QAction(text, window)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            return a

        self.replay_last_action = action("Replay to last target", self.replay_last, "Ctrl+R")
        self.replay_to_action = action("Replay to…", self.replay_to, "Ctrl+Shift+R")
        self.edit_action = action("Edit and replay…", self.edit_and_replay, "Ctrl+E")
        self.selection_action = action("Replay selection…", self.replay_selection)
        self.failed_action = action("Replay failed since…", self.replay_failed)
        self.actions = [self.replay_last_action, self.replay_to_action, self.edit_action, self.selection_action]

        self.view = ReplaysView(lambda: window._conn, window)
        self.dock = QDockWidget("Replays", window)
        self.dock.setObjectName("replays-dock")
        self.dock.setWidget(self.view)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._dock_visible)
        self.view.timeline_requested.connect(self.timeline_requested)
        show_timeline = getattr(window, "show_delivery_timeline", None)  # branch `timelines` adds it
        if callable(show_timeline):
            self.timeline_requested.connect(show_timeline)

        self.toolbar = window.addToolBar("Replay")
        self.toolbar.setObjectName("replay-toolbar")
        for a in self.actions:
            self.toolbar.addAction(a)
        self.menu = window.menuBar().addMenu("&Replay")
        for a in self.actions + [self.failed_action]:
            self.menu.addAction(a)
        self.menu.addSeparator()
        self.show_view_action = self.dock.toggleViewAction()
        self.show_view_action.setText("Show &Replays")
        self.menu.addAction(self.show_view_action)
        try:
            from app.ui.retry_views import menu_named  # the View menu others add docks to
        except ImportError:
            pass
        else:
            menu_named(window, "&View").addAction(self.show_view_action)
        self.context_menu = QMenu(window.table)
        for a in self.actions:
            self.context_menu.addAction(a)
        window.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        window.table.customContextMenuRequested.connect(self._context_menu)

        if hasattr(window.bridge, "deliveries_changed"):  # batched DeliveryChanged / Changed('deliveries')
            window.bridge.deliveries_changed.connect(self._deliveries_changed)
        else:
            window.bridge.changed.connect(self._workspace_changed)
        self.last_result = plain_label("", window)
        window.statusBar().addPermanentWidget(self.last_result)

    # -- what the actions act on ------------------------------------------------------
    def current_capture(self) -> dict | None:
        window = self.window
        capture_id = window.model.capture_id(window.table.currentIndex())
        if capture_id is None or window._conn is None:
            return None
        from app.core.store.captures import get_capture

        return get_capture(window._conn, capture_id)

    def selected_ids(self) -> list[int]:
        model = self.window.model
        rows = self.window.table.selectionModel().selectedRows()
        return sorted(i for i in (model.capture_id(r) for r in rows) if i is not None)

    def last_target(self):
        conn = self.window._conn
        if conn is not None and conn is not self._last_loaded_from:  # first look, or another workspace
            from app.core.replay_targets import load_last_target

            self._last_loaded_from = conn
            self._last_target = load_last_target(conn)
        return self._last_target

    def remember(self, target) -> None:
        self._last_target = target
        engine_thread = self.window.engine_thread
        if engine_thread is not None and engine_thread.engine is not None:
            from app.core.replay_targets import save_last_target_op

            self.window.bridge.run(engine_thread.call(lambda e: e.writer.run(save_last_target_op(target))),
                                   "saving the replay target")

    def _engine_ready(self) -> bool:
        thread = self.window.engine_thread
        if thread is None or thread.engine is None:
            self.window.show_error("Replay needs the engine: it is not running.")
            return False
        return True

    def _need_capture(self) -> dict | None:
        capture = self.current_capture()
        if capture is None:
            self.last_result.setText("Select a capture to replay.")
        return capture

    # -- actions ----------------------------------------------------------------------
    def replay_last(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        target = self.last_target()
        if target is None:
            self.replay_to()
            return
        self.replay_exact(capture, target)

    def replay_to(self):
        capture = self._need_capture()
        if capture is None:
            return None
        from app.ui.replay_target_picker import TargetDialog

        dialog = TargetDialog(self.window.bridge, self.window.engine_thread, self.last_target(), self.window)
        dialog.chosen.connect(lambda target: self.replay_exact(capture, target))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def replay_exact(self, capture: dict, target) -> None:
        if not self._engine_ready():
            return
        self.remember(target)

        async def replay(engine):
            from app.core.replay import exact_request
            from app.core.replay_targets import send_to

            return await send_to(engine, exact_request(capture), target)

        self.last_result.setText(elide(f"Replaying #{capture['id']} to {target.describe()}…", 120))
        self.window.bridge.run(self.window.engine_thread.call(replay), f"replaying capture #{capture['id']}",
                               self._replayed, self._replay_failed)

    def _replayed(self, outcome) -> None:
        from app.ui.replay_dialog import describe_outcome

        if not shiboken6.isValid(self.last_result):
            return
        text = f"Replay of #{outcome.capture_id}: {describe_outcome(outcome)}"
        self.last_result.setText(elide(text, 120))
        self.last_result.setToolTip("")
        self.replayed.emit(outcome)
        self.view.schedule_refresh()

    def _replay_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self.last_result):
            self.last_result.setText("")
            self.window.show_error(f"Replay failed: {exc}")

    def edit_and_replay(self):
        capture = self._need_capture()
        if capture is None:
            return None
        from app.ui.replay_dialog import ReplayDialog

        dialog = ReplayDialog(capture, self.window.bridge, self.window.engine_thread, target=self.last_target(),
                              parent=self.window)
        dialog.target_used.connect(self.remember)
        dialog.replayed.connect(self._replayed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def replay_selection(self, *, failed_since: bool = False):
        from app.ui.bulk_replay import FAILED_SINCE, FILTER, SELECTED, BulkReplayDialog

        ids = self.selected_ids()
        choice = FAILED_SINCE if failed_since else (SELECTED if len(ids) > 1 else FILTER)
        dialog = BulkReplayDialog(self.window.bridge, self.window.engine_thread,
                                  current_filter=self.window.filter_bar.current_filter(),
                                  filter_count=self.window.model.rowCount(), selected_ids=ids,
                                  target=self.last_target(), choice=choice, parent=self.window)
        dialog.target_used.connect(self.remember)
        dialog.run_started.connect(self.view.schedule_refresh)
        dialog.run_ended.connect(self.view.schedule_refresh)
        dialog.progressed.connect(self._bulk_progressed)
        dialog.finished.connect(self._dispose_bulk)
        dialog.open()
        return dialog

    def replay_failed(self):
        return self.replay_selection(failed_since=True)

    def _dispose_bulk(self, result: int) -> None:
        dialog = self.sender()
        if dialog.running:  # closing cancelled it; keep it until the run has ended
            dialog.run_ended.connect(dialog.deleteLater)
        else:
            dialog.deleteLater()

    def _bulk_progressed(self, done: int) -> None:
        if self.dock.isVisible():
            self.view.schedule_refresh()

    def _deliveries_changed(self, ids: list) -> None:
        if self.dock.isVisible():  # a replay attempted, queued on a stream, retried...
            self.view.schedule_refresh()

    def _workspace_changed(self, topic: str) -> None:
        if topic == "deliveries" and self.dock.isVisible():  # e.g. a replay queued on a stream
            self.view.schedule_refresh()

    def _context_menu(self, pos) -> None:
        self.context_menu.popup(self.window.table.viewport().mapToGlobal(pos))

    def _dock_visible(self, visible: bool) -> None:
        if visible:
            self.view.refresh()

    def show_replays(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.view.refresh()


def install(window) -> ReplayActions:
    return ReplayActions(window)
