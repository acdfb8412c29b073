"""Emit test event…": make the built-in simulator send an event on its streams.

Stream (one, or every stream that wants the event), event type from the catalogue
(title and description as tooltip), the subject through the same `SubjectEditor` as
the Subjects tab, optional payload claims as JSON, fault knobs with what each breaks,
and a count. Checked here first (subject by the core, claims as a JSON object), then
handed up as one request for `Transmitter.emit` on the engine thread; the result
(deliveries emitted, streams skipped and why) is shown in the dialog, which stays open.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox,
                               QPlainTextEdit, QSpinBox, QVBoxLayout)

from app.ui.subscriptions.subject_editor import SubjectEditor
from app.ui.untrusted import plain_label, tooltip

DEFAULT_EVENT = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


class EmitDialog(QDialog):
    emit_requested = Signal(dict)  # keyword arguments of Transmitter.emit

    def __init__(self, streams: list[dict[str, Any]], parent=None):
        super().__init__(parent)
        from app.core.catalogue import default_catalogue
        from app.core.transmitter.sets import FAULTS

        self.setWindowTitle("Emit test event")
        self.stream = QComboBox(self)
        for config in streams:
            stream_id = str(config.get("stream_id"))
            description = str(config.get("description") or "")
            self.stream.addItem(f"{stream_id} {description}".strip(), stream_id)
        self.stream.addItem("Every stream that wants it", None)
        self.event_type = QComboBox(self)
        for event in default_catalogue().events:
            self.event_type.addItem(f"{event.title} ({event.family} {event.name})", event.uri)
            self.event_type.setItemData(self.event_type.count() - 1, tooltip(f"{event.description}\n{event.uri}"),
                                        Qt.ItemDataRole.ToolTipRole)
        self.event_type.setCurrentIndex(max(0, self.event_type.findData(DEFAULT_EVENT)))
        self.subject = SubjectEditor(self)
        self.subject.fields["email"].setText("jane@example.com")
        self.claims = QPlainTextEdit(self)
        self.claims.setPlaceholderText('optional payload claims, e.g. {"initiating_entity": "admin"}')
        self.claims.setMaximumHeight(70)
        self.claims_problem = plain_label("", self)
        self.faults: dict[str, QCheckBox] = {}
        faults_box = QGroupBox("Fault knobs (each breaks one thing on purpose)", self)
        grid = QGridLayout(faults_box)
        for i, (name, (what, check)) in enumerate(FAULTS.items()):
            box = QCheckBox(f"{name}: {what}", faults_box)
            box.setToolTip(tooltip(what + (f" (caught by the receiver's {check} check)" if check else "")))
            self.faults[name] = box
            grid.addWidget(box, i // 2, i % 2)
        self.count = QSpinBox(self)
        self.count.setRange(1, 1000)
        self.count.setMaximumWidth(120)  # not a full-width field for a number up to 1000
        self.result = QPlainTextEdit(self)
        self.result.setReadOnly(True)
        self.result.setPlaceholderText("What the simulator did shows here.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.emit_button = self.buttons.addButton("Emit", QDialogButtonBox.ButtonRole.ActionRole)
        self.emit_button.clicked.connect(self.request_emit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Stream", self.stream)
        form.addRow("Event type", self.event_type)
        form.addRow("Subject", self.subject)
        form.addRow("Claims (JSON)", self.claims)
        form.addRow("", self.claims_problem)
        form.addRow("Count", self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(faults_box)
        layout.addWidget(self.result, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 680)

    def request(self) -> dict[str, Any] | None:
        """The emit request, or None (with the problems shown) when the form is not valid."""
        ok = self.subject.validate()
        claims = None
        self.claims_problem.setText("")
        text = self.claims.toPlainText().strip()
        if text:
            try:
                claims = json.loads(text)
            except ValueError as exc:
                self.claims_problem.setText(f"not JSON: {exc}")
                ok = False
            else:
                if not isinstance(claims, dict):
                    self.claims_problem.setText("the claims must be a JSON object")
                    ok = False
        if not ok:
            return None
        return {"event_type": self.event_type.currentData(), "subject": self.subject.subject(),
                "stream_id": self.stream.currentData(), "claims": claims, "count": self.count.value(),
                "faults": [name for name, box in self.faults.items() if box.isChecked()]}

    def request_emit(self) -> None:
        request = self.request()
        if request is None:
            self.result.setPlainText("Not emitted: fix the problems shown above.")
            return
        self.emit_button.setEnabled(False)
        self.result.setPlainText("Emitting…")
        self.emit_requested.emit(request)

    def show_result(self, result: dict[str, Any] | None, error: str = "") -> None:
        self.emit_button.setEnabled(True)
        if result is None:
            self.result.setPlainText(f"Failed: {error}")
            return
        lines = [f"{len(result['emitted'])} deliver{'y' if len(result['emitted']) == 1 else 'ies'} emitted"]
        lines += [f"  delivery #{e['delivery_id']} on {e['stream_id']}: jti {e['jti']}" + (" (held: paused)" if e.get("held") else "")
                  for e in result["emitted"]]
        if result["skipped"]:
            lines.append(f"{len(result['skipped'])} stream(s) skipped")
            lines += [f"  {s['stream_id']}: {s['reason']}" for s in result["skipped"]]
        self.result.setPlainText("\n".join(lines))
