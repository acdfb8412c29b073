"""The retry-timeline views' place in the window: the Deliveries dock (table, timeline,
stream lanes), the Observed retries dock, the Policy lab and Fault rules dialogs,
and their menu entries (View, Tools, Receiver).

The window calls `install_retry_views(window)` once (as it calls `build_menus`), hands
it workspace changes (`reload()`), and exposes `show_delivery_timeline(id)`. Docks
and dialogs are built on first use: they import the store, which the window keeps
off its first paint. Dialogs are shown with `show()`/`open()`, never `exec()`.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu

DELIVERIES_DOCK_HEIGHT = 330  # first opened: the list above keeps room for ~6 captures at 1366x768


def menu_named(window, title: str) -> QMenu:
    """The menu bar's menu with this title (ignoring '&'), created if missing, so
    several modules can add to one Tools or View menu."""
    plain = title.replace("&", "")
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == plain:
            return action.menu()
    return window.menuBar().addMenu(title)


class RetryViews(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.deliveries = None  # DeliveriesPanel, once shown
        self.deliveries_dock: QDockWidget | None = None
        view = menu_named(window, "&View")
        self.deliveries_action = self._action(view, "&Deliveries", self.toggle_deliveries, QKeySequence("Ctrl+Shift+D"))
        self.deliveries_action.setCheckable(True)
        self.observed = None  # ObservedRetriesPanel, once shown
        self.observed_dock: QDockWidget | None = None
        self.observed_action = self._action(view, "&Observed retries", self.toggle_observed)
        self.observed_action.setCheckable(True)
        tools = menu_named(window, "&Tools")
        self.policy_lab_action = self._action(tools, "&Policy lab…", self.open_policy_lab)
        self.policy_lab = None  # PolicyLabDialog, once opened
        receiver = menu_named(window, "&Receiver")
        self.fault_rules_action = self._action(receiver, "&Fault rules…", self.open_fault_rules)
        self.fault_rules = None  # FaultRulesTable, once opened
        window.bridge.deliveries_changed.connect(self._deliveries_changed)
        window.bridge.captures_stored.connect(self._captures_stored)

    def _action(self, menu: QMenu, text: str, slot, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _clock(self) -> float:
        """Now, on the simulator's clock (which a time scale speeds up), so "next in N s" is true."""
        thread = self.window.engine_thread
        transmitter = getattr(thread.engine, "transmitter", None) if thread is not None else None
        return transmitter.push.clock.now() if transmitter is not None else time.time()

    def _connection(self):
        return self.window._conn  # noqa: SLF001 - the window's read-only workspace connection, read at each use

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return dock

    # -- deliveries ----------------------------------------------------------------------
    def deliveries_panel(self):
        if self.deliveries is None:
            from app.ui.deliveries_panel import DeliveriesPanel

            self.deliveries = DeliveriesPanel(self._connection, self.window, clock=self._clock)
            self.deliveries.capture_requested.connect(self.window.show_capture_in_list)
            self.deliveries_dock = self._dock("Deliveries", "deliveries_dock", self.deliveries)
            # Its size hint (~470 px) left the capture list two rows on a 768 px screen; a restored layout overrides this.
            self.window.resizeDocks([self.deliveries_dock], [DELIVERIES_DOCK_HEIGHT], Qt.Orientation.Vertical)
            if self.observed_dock is not None:
                self.window.tabifyDockWidget(self.observed_dock, self.deliveries_dock)
            self.deliveries_dock.toggleViewAction().toggled.connect(self.deliveries_action.setChecked)  # its close button
            self.deliveries.reload()
        return self.deliveries

    def toggle_deliveries(self, checked: bool = True) -> None:
        self.deliveries_panel()
        self.deliveries_dock.setVisible(checked)
        self.deliveries_action.setChecked(checked)
        if checked:
            self.deliveries_dock.raise_()

    def show_delivery_timeline(self, delivery_id: int) -> None:
        self.toggle_deliveries(True)
        self.deliveries.show_delivery(delivery_id)

    def _deliveries_changed(self, ids: list) -> None:
        if self.deliveries is not None:
            self.deliveries.deliveries_changed(ids)

    # -- a foreign sender's retries, observed ------------------------------------------------
    def observed_panel(self):
        if self.observed is None:
            from app.ui.observed_retries import ObservedRetriesPanel

            self.observed = ObservedRetriesPanel(self._connection, self.window)
            self.observed_dock = self._dock("Observed retries", "observed_retries_dock", self.observed)
            if self.deliveries_dock is not None:
                self.window.tabifyDockWidget(self.deliveries_dock, self.observed_dock)
            self.observed_dock.toggleViewAction().toggled.connect(self.observed_action.setChecked)
            self.observed.reload()
        return self.observed

    def toggle_observed(self, checked: bool = True) -> None:
        self.observed_panel()
        self.observed_dock.setVisible(checked)
        self.observed_action.setChecked(checked)
        if checked:
            self.observed_dock.raise_()
            self.observed.reload()

    def _captures_stored(self, events: list) -> None:
        if self.observed is not None:
            self.observed.captures_stored(events)

    # -- the policy lab ------------------------------------------------------------------
    def open_policy_lab(self):
        from app.ui.policy_lab_dialog import PolicyLabDialog

        if self.policy_lab is None:
            self.policy_lab = PolicyLabDialog(self.window)
            self.policy_lab.run_requested.connect(self._run_policy)
        self.policy_lab.show()
        self.policy_lab.raise_()
        return self.policy_lab

    def _run_policy(self, policy, script, real_seconds: float) -> None:
        thread, dialog = self.window.engine_thread, self.policy_lab
        if thread is None or not thread.running:
            dialog.run_failed(RuntimeError("the engine thread is not running"))
            return

        async def run():  # on the engine thread (aiohttp is imported there, not on the GUI thread)
            from app.core.policy_run import run_actual, speed_for

            return await run_actual(policy, script, speed=speed_for(policy, script, real_seconds=real_seconds))

        self.window.bridge.run(thread.submit(run()), "running the policy lab", dialog.show_actual, dialog.run_failed)

    # -- receiver fault rules ------------------------------------------------------------
    def open_fault_rules(self):
        from app.ui.fault_rules_dialog import FaultRulesTable

        if self.fault_rules is None:
            self.fault_rules = FaultRulesTable(self.window)
            self.fault_rules.rules_applied.connect(self._apply_fault_rules)
        dialog = self.fault_rules
        dialog.show()
        dialog.raise_()
        thread = self.window.engine_thread
        if thread is None or thread.engine is None:
            dialog.set_rules([])
            dialog.error.setText("The engine is not running: start it to read and apply the receiver's rules.")
            return dialog

        async def live_rules(engine):
            return engine.receiver.faults.to_json()

        dialog.status.setText("Reading the receiver's rules…")
        self.window.bridge.run(thread.call(live_rules), "reading the fault rules", dialog.set_rules, dialog.apply_failed)
        return dialog

    def _apply_fault_rules(self, rules) -> None:
        thread, dialog = self.window.engine_thread, self.fault_rules
        if thread is None:
            dialog.apply_failed(RuntimeError("the engine is not running"))
            return
        self.window.bridge.run(thread.call(lambda engine: engine.set_fault_rules(rules)), "applying the fault rules",
                               dialog.applied, dialog.apply_failed)

    # -- the workspace -----------------------------------------------------------------------
    def reload(self) -> None:
        """The window opened another workspace (or the same one again)."""
        if self.deliveries is not None:
            self.deliveries.shown_id = None
            self.deliveries.reload()
        if self.observed is not None:
            self.observed.shown_key = None
            self.observed.reload()


def install_retry_views(window) -> RetryViews:
    return RetryViews(window)
