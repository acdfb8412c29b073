"""PolicyLabDialog: try a retry policy against a scripted endpoint.

"Simulate" runs core `policy_lab.simulate` (pure, microseconds, so on the GUI
thread) and draws the whole planned schedule, days of it, at once. "Run for real"
asks (`run_requested`) for core `policy_run.run_actual` — the real push deliverer
on accelerated time — to run on the engine thread; the window hands the resulting
timeline back to `show_actual`, and planned and actual are drawn as two lanes on
one axis. No policy logic lives here: the editor collects fields, the core decides.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QGroupBox, QHBoxLayout, QPlainTextEdit,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from app.core.policy_lab import SCRIPT_PRESETS, EndpointScript, ScriptError, Simulation, simulate
from app.core.retry import PolicyError
from app.core.timeline import Timeline, format_duration
from app.ui.attempt_details import AttemptDetails
from app.ui.policy_editor import CUSTOM, ERROR_STYLE, PolicyEditor
from app.ui.timeline_view import LaneView, TimelineView
from app.ui.untrusted import plain_label


class PolicyLabDialog(QDialog):
    run_requested = Signal(object, object, float)  # RetryPolicy, EndpointScript, real seconds to fit the run into

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Policy lab")
        self.resize(1180, 640)
        self.editor = PolicyEditor(self)
        policy_box = QGroupBox("Retry policy", self)
        QVBoxLayout(policy_box).addWidget(self.editor)

        self.script_preset = QComboBox(self)
        self.script_preset.addItems([*SCRIPT_PRESETS, CUSTOM])
        self.script = QPlainTextEdit(self)
        self.script.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.script.setPlaceholderText('[{"until": "3h", "status": 503}, {"attempt": 4, "status": 410}]')
        self.script_error = plain_label("", self)
        self.script_error.setStyleSheet(ERROR_STYLE)
        self.script_error.setVisible(False)
        script_box = QGroupBox("Endpoint script", self)
        script_layout = QVBoxLayout(script_box)
        script_layout.addWidget(self.script_preset)
        script_layout.addWidget(self.script, 1)
        script_layout.addWidget(self.script_error)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(policy_box)
        left_layout.addWidget(script_box, 1)

        self.timeline = TimelineView(self, lane_height=70)
        self.timeline.tick_origin = 0.0  # times are seconds since the first attempt
        self.timeline.empty_text = "Press Simulate to draw the policy's schedule against the endpoint script"
        self.summary = plain_label("", self)
        self.details = AttemptDetails(self)
        self.details.origin = 0.0
        self.simulate_button = QPushButton("Simulate", self)
        self.simulate_button.setDefault(True)
        self.run_button = QPushButton("Run for real", self)
        self.run_button.setToolTip("Deliver once through the real push deliverer against this script, at accelerated time")
        self.run_seconds = QSpinBox(self)
        self.run_seconds.setRange(1, 25)  # run_actual stops after 30 real seconds
        self.run_seconds.setValue(8)
        self.run_seconds.setPrefix("in about ")
        self.run_seconds.setSuffix(" s")
        self.run_status = plain_label("", self)
        actions = QHBoxLayout()
        for widget in (self.simulate_button, self.run_button, self.run_seconds):
            actions.addWidget(widget)
        actions.addWidget(self.run_status, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.timeline, 2)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.details, 1)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)

        self.planned: Simulation | None = None
        self.actual: Timeline | None = None
        self.simulate_button.clicked.connect(self.simulate)
        self.run_button.clicked.connect(self.run_for_real)
        self.script_preset.currentIndexChanged.connect(self._script_preset_chosen)
        self.script.textChanged.connect(self._script_edited)
        self.timeline.attempt_selected.connect(self.details.show_attempt)
        self._script_preset_chosen()

    # -- the script --------------------------------------------------------------------
    def _script_preset_chosen(self) -> None:
        name = self.script_preset.currentText()
        if name in SCRIPT_PRESETS:
            self.script.blockSignals(True)
            self.script.setPlainText(json.dumps(SCRIPT_PRESETS[name], indent=1))
            self.script.blockSignals(False)

    def _script_edited(self) -> None:
        name = self.script_preset.currentText()
        if name in SCRIPT_PRESETS:
            try:
                same = json.loads(self.script.toPlainText()) == SCRIPT_PRESETS[name]
            except ValueError:
                same = False
            if not same:
                self.script_preset.blockSignals(True)
                self.script_preset.setCurrentText(CUSTOM)
                self.script_preset.blockSignals(False)

    def endpoint_script(self) -> EndpointScript:
        try:
            data = json.loads(self.script.toPlainText())
        except json.JSONDecodeError as exc:
            raise ScriptError(f"the script is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        return EndpointScript.from_json(data)

    def _inputs(self):
        """(policy, script), or None with the errors shown next to their fields."""
        policy = script = None
        try:
            policy = self.editor.policy()
            self.editor.show_error(None)
        except PolicyError as exc:
            self.editor.show_error(exc)
        try:
            script = self.endpoint_script()
            self.script_error.setVisible(False)
        except ScriptError as exc:
            self.script_error.setText(str(exc))
            self.script_error.setVisible(True)
        return (policy, script) if policy is not None and script is not None else None

    # -- planned and actual ---------------------------------------------------------------
    def simulate(self) -> Simulation | None:
        inputs = self._inputs()
        if inputs is None:
            return None
        policy, script = inputs
        self.planned, self.actual = simulate(policy, script), None
        self._draw()
        return self.planned

    def run_for_real(self) -> None:
        if self.simulate() is None:
            return
        self.run_button.setEnabled(False)
        self.run_status.setText(f"Running against a scripted endpoint (about {self.run_seconds.value()} s)…")
        self.run_requested.emit(self.planned.policy, self.endpoint_script(), float(self.run_seconds.value()))

    def show_actual(self, timeline: Timeline) -> None:
        self.run_button.setEnabled(True)
        self.actual = timeline
        self.run_status.setText(f"Actual run: {len(timeline.attempts)} attempts, {timeline.state}.")
        self._draw()

    def run_failed(self, error: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.run_status.setText(f"The run failed: {error}")

    def _draw(self) -> None:
        sim = self.planned
        planned = sim.timeline(title="planned")
        lanes = [LaneView("planned", planned)]
        if self.actual is not None:
            lanes.append(LaneView("actual", self.actual))
        self.timeline.set_lanes(lanes)
        span = sim.attempts[-1].at - sim.attempts[0].at if sim.attempts else 0.0
        self.summary.setText(f"Planned: {len(sim.attempts)} attempt(s) over {format_duration(span)}, "
                             f"{sim.state}" + (f" — {sim.reason}." if sim.reason != sim.state else "."))
        if planned.attempts:
            self.timeline.select_attempt(0, len(planned.attempts) - 1)
