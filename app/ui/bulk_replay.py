"""Replay a selection: the current filter, the selected rows, or everything that
failed since a time, at a chosen rate, with a progress bar and a Cancel button.

The run is the core's `run_selection` on the engine's loop. Its progress callback
runs on the engine thread and only appends to a deque; a 100 ms timer on the GUI
thread drains it, so however fast items finish the dialog repaints ~10 times a
second. Cancel sets the run's asyncio.Event through the engine loop's
`call_soon_threadsafe` (an Event must be touched on its loop): nothing new starts,
items in flight finish, and the run is recorded `cancelled`.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import shiboken6
from PySide6.QtCore import QDateTime, QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QGridLayout, QGroupBox, QLineEdit, QProgressBar, QPushButton, QRadioButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from app.core.replay_targets import ReplayTarget
from app.ui.replay_dialog import policy_combo
from app.ui.replay_target_picker import TargetPicker
from app.ui.untrusted import elide, plain_label

FILTER, SELECTED, FAILED_SINCE, SAVED = range(4)
SINCE_PRESETS = (("the last 15 minutes", 900), ("the last hour", 3600), ("the last 24 hours", 86400),
                 ("the last 7 days", 7 * 86400))


class BulkReplayDialog(QDialog):
    run_started = Signal(int)  # run id
    run_finished = Signal(object)  # RunSummary
    target_used = Signal(object)  # ReplayTarget
    run_ended = Signal()  # finished, cancelled or failed: the dialog may go now
    progressed = Signal(int)  # items done so far

    def __init__(self, bridge, engine_thread, *, current_filter, filter_count: int, selected_ids: list[int],
                 target: ReplayTarget | None = None, choice: int = FILTER, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Replay a selection")
        self.resize(720, 560)
        self._bridge, self._engine_thread = bridge, engine_thread
        self._filter, self._selected = current_filter, list(selected_ids)

        group = QGroupBox("What", self)
        grid = QGridLayout(group)
        self.choice = QButtonGroup(self)
        labels = (f"The current filter ({filter_count} captures)", f"The selected rows ({len(self._selected)})",
                  "Everything that failed since", "A saved selection")
        for i, text in enumerate(labels):
            button = QRadioButton(text, group)
            self.choice.addButton(button, i)
            grid.addWidget(button, i, 0)
        self.since = QDateTimeEdit(QDateTime.currentDateTime().addSecs(-3600), group)
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        grid.addWidget(self.since, FAILED_SINCE, 1)
        self.since_presets = QComboBox(group)
        for text, seconds in SINCE_PRESETS:
            self.since_presets.addItem(text, seconds)
        self.since_presets.setCurrentIndex(1)
        self.since_presets.activated.connect(self._since_preset)
        grid.addWidget(self.since_presets, FAILED_SINCE, 2)
        self.saved = QComboBox(group)  # names of the selections saved in the workspace
        self._saved: dict[str, Any] = {}
        grid.addWidget(self.saved, SAVED, 1, 1, 2)
        self.save_name = QLineEdit(group)
        self.save_name.setPlaceholderText("a name, to save the choice above for later")
        self.save_button = QPushButton("Save selection", group)
        self.save_button.clicked.connect(self.save_selection)
        grid.addWidget(self.save_name, SAVED + 1, 0, 1, 2)
        grid.addWidget(self.save_button, SAVED + 1, 2)
        self.choice.button(SELECTED).setEnabled(bool(self._selected))
        self.choice.button(SAVED).setEnabled(False)
        self.choice.button(choice if choice != SELECTED or self._selected else FILTER).setChecked(True)
        self._load_saved()

        self.mode = QComboBox(self)
        self.mode.addItem("Exact (original bytes and signature)", "exact")
        self.mode.addItem("Re-signed with the simulator's key (fresh iat and jti, iss = the simulator)", "resign")
        self.picker = TargetPicker(self)  # a stream target queues each SET on it (its own policy applies)
        self.picker.set_target(target)
        self.picker.load_streams(bridge, engine_thread)
        self.rate = QDoubleSpinBox(self)
        self.rate.setRange(0, 10000)
        self.rate.setDecimals(1)
        self.rate.setValue(10)
        self.rate.setSuffix(" / s")
        self.rate.setSpecialValueText("as fast as possible")
        self.policy = policy_combo(self)
        form = QFormLayout()
        form.addRow("Send to", self.picker)
        form.addRow("Mode", self.mode)
        form.addRow("Rate", self.rate)
        form.addRow("Retry policy", self.policy)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.state = plain_label("", self)
        self.items = QTreeWidget(self)
        self.items.setHeaderLabels(["Capture", "State", "Status", "Latency", "Error"])
        self.items.setRootIsDecorated(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.start_button = QPushButton("Start", self)
        self.cancel_button = QPushButton("Cancel run", self)
        self.cancel_button.setEnabled(False)
        self.buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.rejected.connect(self.reject)
        self.picker.changed.connect(self._update_start)

        layout = QVBoxLayout(self)
        layout.addWidget(group)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.state)
        layout.addWidget(self.items, 1)
        layout.addWidget(self.buttons)

        self._outcomes: collections.deque = collections.deque()
        self._summary = None
        self._cancel: asyncio.Event | None = None
        self._running = False
        self.run_id: int | None = None
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(100)
        self._drain_timer.timeout.connect(self._drain)
        self._update_start()

    def _since_preset(self, index: int) -> None:
        self.since.setDateTime(QDateTime.currentDateTime().addSecs(-int(self.since_presets.itemData(index))))
        self.choice.button(FAILED_SINCE).setChecked(True)

    # -- saved selections ------------------------------------------------------------------
    def _load_saved(self) -> None:
        if self._engine_thread is None or self._engine_thread.engine is None:
            return

        async def read(engine):
            from app.core.saved_selections import load

            return load(engine.writer._conn)  # noqa: SLF001 - the engine loop's connection, between commits

        self._bridge.run(self._engine_thread.call(read), "reading saved selections", self._show_saved)

    def _show_saved(self, saved: dict) -> None:
        if not shiboken6.isValid(self):
            return
        self._saved = dict(saved)
        current = self.saved.currentText()
        self.saved.clear()
        self.saved.addItems(sorted(self._saved))
        if current in self._saved:
            self.saved.setCurrentText(current)
        self.choice.button(SAVED).setEnabled(bool(self._saved))

    def save_selection(self) -> None:
        from app.core.saved_selections import SelectionError, save_op

        name = self.save_name.text().strip()
        if self._engine_thread is None or self._engine_thread.engine is None:
            self.state.setText("Not saved: the engine is not running")
            return
        try:
            op = save_op(name, self.selection())
        except SelectionError as exc:
            self.state.setText(f"Not saved: {exc}")
            return

        async def save(engine):
            await engine.writer.run(op)

        def saved(_result) -> None:
            if shiboken6.isValid(self):
                self.state.setText(f"Saved as {name!r}")
                self.save_name.clear()
                self._load_saved()

        self._bridge.run(self._engine_thread.call(save), "saving a selection", saved)

    def selection(self):
        from app.core.replay_runs import Selection
        from app.core.store.captures import CaptureFilter

        choice = self.choice.checkedId()
        if choice == SAVED and self.saved.currentText() in self._saved:
            return self._saved[self.saved.currentText()]
        if choice == SELECTED:
            return Selection(ids=list(self._selected))
        if choice == FAILED_SINCE:
            return Selection(CaptureFilter(), failed_only=True, since=self.since.dateTime().toSecsSinceEpoch())
        return Selection(self._filter)

    def _update_start(self) -> None:
        self.start_button.setEnabled(not self._running and self.picker.problem() is None)

    def start(self) -> None:
        if self._running or self.picker.problem() is not None:
            return
        if self._engine_thread is None or self._engine_thread.engine is None:
            self.state.setText("Not started: the engine is not running")
            return
        selection, target, mode = self.selection(), self.picker.target(), self.mode.currentData()
        rate, policy = self.rate.value() or None, self.policy.currentData()
        self._cancel = cancel = asyncio.Event()  # bound to the engine loop when the run first waits on it
        outcomes = self._outcomes

        def progress(summary, outcome) -> None:  # engine thread: be quick
            outcomes.append((summary.run_id, summary.total, outcome))

        async def run(engine):
            from app.core.replay_targets import run_selection

            return await run_selection(engine, selection, target=target, mode=mode, rate=rate, policy=policy,
                                       cancel=cancel, progress=progress)

        self._running = True
        self.items.clear()
        self.progress.setRange(0, 0)  # busy until the first item says how many there are
        self.state.setText(f"Replaying to {target.describe()}…")
        self.cancel_button.setEnabled(True)
        self._update_start()
        self.target_used.emit(target)
        self._drain_timer.start()
        self._bridge.run(self._engine_thread.call(run), "replaying a selection", self._finished, self._failed)

    def cancel(self) -> None:
        if self._running and self._cancel is not None and self._engine_thread is not None:
            self._engine_thread.loop.call_soon_threadsafe(self._cancel.set)
            self.cancel_button.setEnabled(False)
            self.state.setText("Cancelling: letting the items in flight finish…")

    def _drain(self) -> None:
        done = []
        while self._outcomes:
            done.append(self._outcomes.popleft())
        if not done:
            return
        run_id, total, _ = done[-1]
        if self.run_id is None:
            self.run_id = run_id
            self.run_started.emit(run_id)
        self.progress.setRange(0, max(1, total))
        for _, _, outcome in done:
            status = "" if outcome.status is None else str(outcome.status)
            latency = "" if outcome.latency_ms is None else f"{outcome.latency_ms:.0f} ms"
            QTreeWidgetItem(self.items, [f"#{outcome.capture_id}", outcome.state, status, latency,
                                         elide(outcome.error or "")])
        self.progress.setValue(self.items.topLevelItemCount())
        self.progressed.emit(self.items.topLevelItemCount())
        if self._running and self.cancel_button.isEnabled():
            self.state.setText(f"Run #{run_id}: {self.items.topLevelItemCount()} of {total} done")

    def _finished(self, summary) -> None:
        if not shiboken6.isValid(self):
            return
        self._drain()
        self._drain_timer.stop()
        self._running = False
        self._summary = summary
        self.run_id = summary.run_id
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, max(1, summary.total))
        self.progress.setValue(summary.sent if summary.state == "cancelled" else summary.total)
        self.state.setText(f"Run #{summary.run_id} {summary.state}: {summary.sent} of {summary.total} sent, "
                           f"{summary.succeeded} delivered, {summary.failed} failed")
        self._update_start()
        self.run_finished.emit(summary)
        self.run_ended.emit()

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._drain_timer.stop()
        self._running = False
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.state.setText(f"Not replayed: {exc}")
        self._update_start()
        self.run_ended.emit()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def summary(self) -> Any:
        return self._summary

    def done(self, result: int) -> None:
        self.cancel()  # closing the dialog stops the run (what was sent stays recorded)
        super().done(result)
