"""PolicyEditor: a retry policy as a form — a preset (core PRESETS, with its `source`)
or custom: schedule (explicit delays, or exponential / linear / fixed growth from a
base), factor, cap, jitter, max attempts, max age, the statuses that are retried,
whether Retry-After is honoured. It only collects text: `RetryPolicy.from_json`
validates, and its PolicyError is shown under the field it names."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from app.core.policy_lab import ScriptError, parse_duration
from app.core.retry import PRESETS, PolicyError, RetryPolicy
from app.ui.untrusted import plain_label

SCHEDULES = ("explicit delays", "exponential", "linear", "fixed")
CUSTOM = "Custom"
ERROR_STYLE = "color: #d2372c"


def _seconds(value: float | None) -> str:
    """Seconds as the editor shows them: 5s, 5m, 2h, 3d when whole, else plain seconds."""
    if value is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value:g}" if value < 60 else f"{value:g}s"


def _duration_or_text(text: str) -> Any:
    """A duration in seconds ("90", "5m", "3h"), or the text itself for the core to refuse."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_duration(text, "")
    except ScriptError:
        return text


def _number_or_text(text: str) -> Any:
    text = text.strip()
    try:
        return float(text) if text else None
    except ValueError:
        return text


class PolicyEditor(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.preset = QComboBox(self)
        for policy in PRESETS.values():
            self.preset.addItem(policy.title, policy.name)
        self.preset.addItem(CUSTOM, None)
        self.source = plain_label("", self)
        self.schedule = QComboBox(self)
        self.schedule.addItems(SCHEDULES)
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, Any] = {}
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("", self.source)
        form.addRow("Schedule", self.schedule)
        for name, label, hint in (
            ("delays", "Delays", "5, 5m, 30m, 2h (before retry 1, 2, …)"),
            ("base", "Base", "first delay, e.g. 60 or 1m"),
            ("factor", "Factor", "exponential growth per retry, e.g. 2"),
            ("max_delay", "Longest delay", "cap, e.g. 12h"),
            ("jitter", "Jitter", "± fraction of each delay, e.g. 0.1"),
            ("max_attempts", "Max attempts", "including the first; empty: no limit"),
            ("max_age", "Max age", "give up after, e.g. 3d; empty: no limit"),
            ("retry_statuses", "Retried statuses", "e.g. 500, 503; empty: the default classification"),
        ):
            edit = QLineEdit(self)
            edit.setPlaceholderText(hint)
            edit.textEdited.connect(self._edited)
            self.fields[name] = edit
            form.addRow(label, self._with_error(name, edit))
        self.honor_retry_after = QCheckBox("Honour Retry-After (429, 503)", self)
        self.honor_retry_after.toggled.connect(self._edited)
        form.addRow("", self.honor_retry_after)
        self.general_error = plain_label("", self)
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setVisible(False)
        form.addRow("", self.general_error)
        self.setLayout(form)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.schedule.currentIndexChanged.connect(self._schedule_chosen)
        self.load(next(iter(PRESETS.values())))

    def _with_error(self, name: str, edit: QLineEdit) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(edit)
        error = plain_label("", box)
        error.setStyleSheet(ERROR_STYLE)
        error.setVisible(False)
        column.addWidget(error)
        self.errors[name] = error
        return box

    # -- loading -------------------------------------------------------------------------
    def load(self, policy: RetryPolicy) -> None:
        for widget in (self.preset, self.schedule):
            widget.blockSignals(True)
        index = self.preset.findData(policy.name)
        self.preset.setCurrentIndex(index if index >= 0 and PRESETS.get(policy.name) == policy else self.preset.count() - 1)
        self.source.setText(policy.source or "")
        self.schedule.setCurrentText("explicit delays" if policy.base is None else policy.growth)
        values = {"delays": ", ".join(_seconds(d) for d in policy.delays), "base": _seconds(policy.base),
                  "factor": f"{policy.factor:g}", "max_delay": _seconds(policy.max_delay), "jitter": f"{policy.jitter:g}",
                  "max_attempts": "" if policy.max_attempts is None else str(policy.max_attempts),
                  "max_age": _seconds(policy.max_age),
                  "retry_statuses": ", ".join(map(str, policy.retry_statuses or ()))}
        for name, edit in self.fields.items():
            edit.setText(values[name])
        self.honor_retry_after.blockSignals(True)
        self.honor_retry_after.setChecked(policy.honor_retry_after)
        self.honor_retry_after.blockSignals(False)
        for widget in (self.preset, self.schedule):
            widget.blockSignals(False)
        self._base_policy = policy
        self._schedule_chosen()
        self.show_error(None)

    def _preset_chosen(self) -> None:
        name = self.preset.currentData()
        if name is not None:
            self.load(PRESETS[name])
            self.changed.emit()

    def _schedule_chosen(self) -> None:
        explicit = self.schedule.currentText() == "explicit delays"
        self.fields["delays"].setEnabled(explicit)
        for name in ("base", "max_delay"):
            self.fields[name].setEnabled(not explicit)
        self.fields["factor"].setEnabled(self.schedule.currentText() == "exponential")
        self._edited()

    def _edited(self, *_) -> None:
        if self.preset.currentData() is not None and self._differs():
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(self.preset.count() - 1)
            self.preset.blockSignals(False)
        self.changed.emit()

    def _differs(self) -> bool:
        try:
            return self.policy() != PRESETS[self.preset.currentData()]
        except PolicyError:
            return True

    # -- the policy ------------------------------------------------------------------------
    def policy_json(self) -> dict[str, Any]:
        text = {name: edit.text() for name, edit in self.fields.items()}
        base = self._base_policy
        data: dict[str, Any] = {"name": base.name if self.preset.currentData() else "custom",
                                "title": base.title if self.preset.currentData() else "Custom policy",
                                "source": base.source if self.preset.currentData() else "",
                                "timeout": base.timeout, "jitter_abs": base.jitter_abs,
                                "honor_retry_after": self.honor_retry_after.isChecked()}
        if self.schedule.currentText() == "explicit delays":
            delays = [_duration_or_text(d) for d in text["delays"].split(",") if d.strip()]
            data["delays"] = delays if all(isinstance(d, float) for d in delays) else text["delays"]
        else:
            data.update(growth=self.schedule.currentText(), base=_duration_or_text(text["base"]),
                        max_delay=_duration_or_text(text["max_delay"]) or 86400.0)
        data["factor"] = _number_or_text(text["factor"]) if text["factor"].strip() else 2.0
        data["jitter"] = _number_or_text(text["jitter"]) or 0.0
        attempts = text["max_attempts"].strip()
        data["max_attempts"] = int(attempts) if attempts.isdigit() else (attempts or None)
        data["max_age"] = _duration_or_text(text["max_age"])
        statuses = text["retry_statuses"].strip()
        if statuses:
            parts = [s.strip() for s in statuses.split(",") if s.strip()]
            data["retry_statuses"] = [int(s) for s in parts] if all(s.isdigit() for s in parts) else statuses
        return data

    def policy(self) -> RetryPolicy:
        """The policy in the form (PolicyError names a bad field)."""
        return RetryPolicy.from_json(self.policy_json())

    def show_error(self, error: PolicyError | None) -> None:
        """Show a PolicyError under the field it names (or under the form)."""
        for label in (*self.errors.values(), self.general_error):
            label.setVisible(False)
        if error is None:
            return
        named = re.match(r"'(\w+)'", str(error))
        label = self.errors.get(named.group(1)) if named else None
        label = label or self.general_error
        label.setText(str(error))
        label.setVisible(True)
