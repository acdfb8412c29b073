"""Edit and replay: one capture's headers and body (for a SET: its JOSE header and
claims) edited as text, signed as chosen, sent to a chosen target with a chosen
retry policy, and the outcome shown in the dialog.

The request is built and sent on the engine thread (`edited_request` needs the
simulator's key, which lives there) through the bridge; the answer comes back as
a callback on the GUI thread. Edits are parsed as they are typed: a JSON error is
marked at its spot and Send stays disabled until it is fixed. Open it with
`open()` (never `exec()`); it reports through `replayed` and `target_used`.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QPlainTextEdit, QPushButton, QRadioButton, QTabWidget, QVBoxLayout,
                               QWidget)

from app.core.replay import ReplayEditError, forwarded_headers
from app.core.replay_targets import ReplayTarget
from app.core.retry import PRESETS
from app.ui.json_editor import (JsonEditor, check_claims_value, check_headers, check_object, headers_text, pretty)
from app.ui.replay_target_picker import TargetPicker
from app.ui.untrusted import elide, plain_label, tooltip

SIGNING_CHOICES = (("resign", "Re-sign with the simulator's key"), ("unsigned", "Unsigned (alg none)"),
                   ("original", "Keep the original signature"))


def policy_combo(parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for name, policy in PRESETS.items():
        combo.addItem(f"{policy.title} — {policy.source}" if policy.source else policy.title, name)
    combo.setCurrentIndex(combo.findData("github"))
    return combo


def describe_outcome(outcome) -> str:
    parts = [outcome.state]
    if outcome.status is not None:
        parts.append(f"HTTP {outcome.status}")
    if outcome.latency_ms is not None:
        parts.append(f"{outcome.latency_ms:.0f} ms")
    if outcome.error:
        parts.append(outcome.error)
    if outcome.delivery_id is not None:
        parts.append(f"delivery #{outcome.delivery_id}")
    return " · ".join(parts)


def stale_notes(capture: dict[str, Any], edits: dict[str, Any], req) -> list[str]:
    """Freshness warnings for what keeps its old timestamps (all but a re-sign with a fresh iat)."""
    import json
    import time

    from app.core.replay import freshness_notes

    if edits.get("signing") == "resign" and edits.get("fresh_iat"):
        return []
    claims = json.loads(edits["set_claims"]) if "set_claims" in edits else capture.get("set_claims")
    return freshness_notes({**capture, "set_claims": claims, "headers": req.headers}, time.time())


class ReplayDialog(QDialog):
    replayed = Signal(object)  # ReplayOutcome
    target_used = Signal(object)  # ReplayTarget

    def __init__(self, capture: dict[str, Any], bridge, engine_thread, *, target: ReplayTarget | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.capture = capture
        self._bridge, self._engine_thread = bridge, engine_thread
        self.is_set = capture.get("kind") == "set" and capture.get("set_claims") is not None
        self.setWindowTitle(f"Edit and replay capture #{capture['id']}")
        self.resize(760, 640)
        self.summary = plain_label(elide(f"{capture['method']} {capture['path']} — capture #{capture['id']}"
                                         f" ({'SET' if self.is_set else capture.get('kind', 'webhook')})"), self)
        self.picker = TargetPicker(self)
        self.picker.set_target(target)
        self.picker.load_streams(bridge, engine_thread)
        self.policy = policy_combo(self)
        form = QFormLayout()
        form.addRow("Send to", self.picker)
        form.addRow("Retry policy", self.policy)

        self.tabs = QTabWidget(self)
        self.headers = JsonEditor("headers", self, validate=check_headers)
        self.headers.set_text(headers_text(forwarded_headers(capture["headers"])))
        self.tabs.addTab(self.headers, "Headers")
        self.editors = [self.headers]
        self.body: QPlainTextEdit | None = None
        self.jose_header = self.claims = None
        if self.is_set:
            self.jose_header = JsonEditor("header", self, validate=check_object)
            self.jose_header.set_text(pretty(capture.get("set_header") or {}))
            self.claims = JsonEditor("claims", self, validate=check_claims_value)
            self.claims.set_text(pretty(capture["set_claims"]))
            self.tabs.addTab(self.claims, "Claims")
            self.tabs.addTab(self.jose_header, "JOSE header")
            self.editors += [self.claims, self.jose_header]
            self.tabs.setCurrentWidget(self.claims)
        else:
            self.body = QPlainTextEdit(self)
            self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            try:
                self.body.setPlainText(bytes(capture["body"]).decode("utf-8"))
            except UnicodeDecodeError:
                self.body.setPlainText(f"(binary body, {len(capture['body'])} bytes: sent as captured)")
                self.body.setReadOnly(True)
            self.tabs.addTab(self.body, "Body")
        for editor in self.editors:
            editor.edited.connect(self._update_send)

        self.signing_box = QGroupBox("Signing", self)
        self.signing = QButtonGroup(self)
        box = QVBoxLayout(self.signing_box)
        for i, (_, text) in enumerate(SIGNING_CHOICES):
            button = QRadioButton(text, self.signing_box)
            self.signing.addButton(button, i)
            box.addWidget(button)
        self.signing.button(0).setChecked(True)
        options = QHBoxLayout()
        self.fresh_iat = QCheckBox("Fresh iat", self.signing_box)
        self.fresh_jti = QCheckBox("Fresh jti", self.signing_box)
        self.set_issuer = QCheckBox("Set iss to the simulator's issuer (so the receiver finds the key)", self.signing_box)
        for check in (self.fresh_iat, self.fresh_jti, self.set_issuer):
            check.setChecked(True)
            options.addWidget(check)
        options.addStretch(1)
        box.addLayout(options)
        self.signing_box.setVisible(self.is_set)
        self.signing.idToggled.connect(self._signing_changed)

        self.result = plain_label("", self)
        self.notes = plain_label("", self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.send_button.clicked.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        self.picker.changed.connect(self._update_send)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.signing_box)
        layout.addWidget(self.result)
        layout.addWidget(self.notes)
        layout.addWidget(self.buttons)
        self._sending = False
        self._update_send()

    # -- state ----------------------------------------------------------------------
    def signing_mode(self) -> str:
        return SIGNING_CHOICES[max(0, self.signing.checkedId())][0]

    def _signing_changed(self, *_) -> None:
        resign = self.signing_mode() == "resign"
        for check in (self.fresh_iat, self.fresh_jti, self.set_issuer):
            check.setEnabled(resign)

    def problem(self) -> str | None:
        for editor in self.editors:
            if not editor.valid:
                return editor.error
        return self.picker.problem()

    def _update_send(self) -> None:
        stream = self.picker.target().kind == "stream"
        self.policy.setEnabled(not stream)
        self.policy.setToolTip("A replay into a stream uses the stream's retry policy." if stream else "")
        problem = self.problem()
        self.send_button.setEnabled(problem is None and not self._sending)
        self.send_button.setToolTip(tooltip("" if problem is None else "Fix first: " + problem))

    # -- sending --------------------------------------------------------------------
    def edits(self) -> dict[str, Any]:
        edits: dict[str, Any] = {"headers": self.headers.text()}
        if self.is_set:
            edits.update(set_header=self.jose_header.text(), set_claims=self.claims.text(), signing=self.signing_mode(),
                         fresh_iat=self.fresh_iat.isChecked(), fresh_jti=self.fresh_jti.isChecked())
        else:
            edits["signing"] = "original"
            if self.body is not None and not self.body.isReadOnly():
                edits["body"] = self.body.toPlainText()
        return edits

    def send(self) -> None:
        if self.problem() is not None or self._sending:
            return
        if self._engine_thread is None or self._engine_thread.engine is None:
            self._show_failure("the engine is not running")
            return
        capture, edits, target = self.capture, self.edits(), self.picker.target()
        policy, set_issuer = self.policy.currentData(), self.set_issuer.isChecked() and self.is_set

        async def replay(engine):
            from app.core.replay import edited_request
            from app.core.replay_targets import send_to

            transmitter = engine.transmitter
            key = transmitter.keys.active if transmitter is not None else None
            issuer = transmitter.issuer if transmitter is not None and set_issuer else None
            req = edited_request(capture, key=key, issuer=issuer, **edits)
            req.notes += stale_notes(capture, edits, req)
            return await send_to(engine, req, target, policy=policy)

        self._sending = True
        self._update_send()
        self.result.setText(f"Sending to {target.describe()}…")
        self.notes.setText("")
        self.target_used.emit(target)
        self._bridge.run(self._engine_thread.call(replay), "replaying", self._sent, self._failed)

    def _sent(self, outcome) -> None:
        if not shiboken6.isValid(self):
            return
        self._sending = False
        self._update_send()
        self.result.setText(describe_outcome(outcome))
        self.notes.setText("\n".join(outcome.notes))
        self.replayed.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._sending = False
        if isinstance(exc, ReplayEditError):
            self._mark(str(exc))
        self._update_send()
        self._show_failure(str(exc) or type(exc).__name__)

    def _mark(self, message: str) -> None:
        """Put a core error ("claims: line 3, column 5: ...") on the editor it names."""
        what, _, rest = message.partition(": ")
        for editor in self.editors:
            if editor.what == what:
                editor.show_error(rest)
                self.tabs.setCurrentWidget(editor)

    def _show_failure(self, text: str) -> None:
        self.result.setText(f"Not sent: {text}")
