"""SettingsDialog: receiver port, simulator port, bearer token, audiences, body size limit, theme, and
the trusted issuers (add by issuer URL, keys found by SSF discovery, or paste a JWKS).
It edits a copy and emits what was chosen; the window saves and applies it."""

from __future__ import annotations

import json
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLineEdit, QListWidget, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout)

from app.core.workspace_settings import THEMES, ReceiverSettings
from app.ui.untrusted import plain_label


class SettingsDialog(QDialog):
    settings_chosen = Signal(object)  # ReceiverSettings
    trust_requested = Signal(str, object, object)  # issuer, jwks_url, jwks
    forget_requested = Signal(str)

    def __init__(self, settings: ReceiverSettings, trusted: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self.port = QSpinBox(self)
        self.port.setRange(0, 65535)
        self.port.setValue(settings.receiver_port)
        self.sim_port = QSpinBox(self)
        self.sim_port.setRange(0, 65535)
        self.sim_port.setSpecialValueText("any free port")
        self.sim_port.setValue(settings.transmitter_port)
        self.sim_port.setToolTip("The transmitter simulator's port: its issuer URL is http://127.0.0.1:PORT")
        self.token = QLineEdit(settings.receiver_token or "", self)
        self.token.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.token.setPlaceholderText("none: no Authorization required")
        self.audiences = QPlainTextEdit("\n".join(settings.audiences), self)
        self.audiences.setPlaceholderText("one audience per line (none: the aud check is skipped)")
        self.audiences.setMaximumHeight(70)
        self.body_limit = QSpinBox(self)
        self.body_limit.setRange(1, 1024 * 1024)
        self.body_limit.setSuffix(" KiB")
        self.body_limit.setValue(max(1, settings.body_limit // 1024))
        self.push_ca_file = QLineEdit(settings.push_ca_file or "", self)
        self.push_ca_file.setPlaceholderText("none: the system's trust store only")
        self.push_ca_file.setToolTip("A PEM file of CA certificates also trusted for https push and replay "
                                     "endpoints (a local endpoint with its own certificate)")
        self.push_insecure = QCheckBox("Accept any certificate from https push and replay endpoints", self)
        self.push_insecure.setChecked(settings.push_insecure)
        self.theme = QComboBox(self)
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        form = QFormLayout()
        form.addRow("Receiver port", self.port)
        form.addRow("Simulator port", self.sim_port)
        form.addRow("Bearer token", self.token)
        form.addRow("Audiences", self.audiences)
        form.addRow("Body size limit", self.body_limit)
        form.addRow("Push CA file", self.push_ca_file)
        form.addRow("", self.push_insecure)
        form.addRow("Theme", self.theme)

        issuers = QGroupBox("Trusted issuers", self)
        self.issuers = QListWidget(issuers)
        self.issuers.addItems(trusted)
        self.issuer_url = QLineEdit(issuers)
        self.issuer_url.setPlaceholderText("https://issuer.example.com")
        self.jwks = QPlainTextEdit(issuers)
        self.jwks.setPlaceholderText('optional: paste a JWKS ({"keys": [...]}); empty: found by SSF discovery')
        self.jwks.setMaximumHeight(70)
        self.issuer_error = plain_label("", issuers)
        add = QPushButton("Trust", issuers)
        add.clicked.connect(self._trust)
        remove = QPushButton("Forget selected", issuers)
        remove.clicked.connect(self._forget)
        row = QHBoxLayout()
        row.addWidget(self.issuer_url, 1)
        row.addWidget(add)
        row.addWidget(remove)
        box = QVBoxLayout(issuers)
        box.addWidget(self.issuers)
        box.addLayout(row)
        box.addWidget(self.jwks)
        box.addWidget(self.issuer_error)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(issuers, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)

    def chosen_settings(self) -> ReceiverSettings:
        audiences = tuple(a.strip() for a in self.audiences.toPlainText().splitlines() if a.strip())
        return replace(self._settings, receiver_port=self.port.value(), transmitter_port=self.sim_port.value(),
                       push_ca_file=self.push_ca_file.text().strip() or None, push_insecure=self.push_insecure.isChecked(),
                       receiver_token=self.token.text() or None,
                       audiences=audiences, body_limit=self.body_limit.value() * 1024, theme=self.theme.currentText())

    def accept(self) -> None:
        chosen = self.chosen_settings()
        super().accept()
        if chosen != self._settings:
            self.settings_chosen.emit(chosen)

    def _trust(self) -> None:
        issuer = self.issuer_url.text().strip()
        if not issuer:
            self.issuer_error.setText("Enter the issuer URL first.")
            return
        jwks = None
        if self.jwks.toPlainText().strip():
            try:
                jwks = json.loads(self.jwks.toPlainText())
            except ValueError as exc:
                self.issuer_error.setText(f"The JWKS is not JSON: {exc}")
                return
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                self.issuer_error.setText('A JWKS is an object with a "keys" list.')
                return
        self.issuer_error.setText("")
        self.trust_requested.emit(issuer, None, jwks)
        if not self.issuers.findItems(issuer, Qt.MatchFlag.MatchExactly):
            self.issuers.addItem(issuer)
        self.issuer_url.clear()
        self.jwks.clear()

    def _forget(self) -> None:
        item = self.issuers.currentItem()
        if item is not None:
            self.forget_requested.emit(item.text())
            self.issuers.takeItem(self.issuers.row(item))
