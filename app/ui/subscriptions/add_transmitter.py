"""Add transmitter…": an issuer URL and how to authenticate to its management API.

A pasted bearer token or OAuth client credentials (token endpoint, client id,
secret, scope). Secrets are typed into password fields, sent once to the engine
(which saves them in the workspace) and cleared from the form; they are never
shown again. The dialog stays open to show the discovery result: which well-known
location answered and the metadata's validation messages, or why it failed.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPlainTextEdit,
                               QStackedWidget, QVBoxLayout, QWidget)

AUTH_KINDS = (("Bearer token", "bearer"), ("OAuth client credentials", "client_credentials"), ("None", "none"))


class AddTransmitterDialog(QDialog):
    connect_requested = Signal(str, dict)  # issuer, auth (AuthSpec fields)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Add transmitter")
        self.issuer = QLineEdit(self)
        self.issuer.setPlaceholderText("https://transmitter.example.com")
        self.kind = QComboBox(self)
        for text, kind in AUTH_KINDS:
            self.kind.addItem(text, kind)
        self.token = _secret(self, "the management API's bearer token")
        self.token_endpoint = QLineEdit(self)
        self.client_id = QLineEdit(self)
        self.client_secret = _secret(self, "client secret")
        self.scope = QLineEdit("ssf.manage", self)
        self.client_auth = QComboBox(self)
        self.client_auth.addItem("HTTP Basic", "basic")
        self.client_auth.addItem("In the form body", "post")

        self.pages = QStackedWidget(self)
        bearer = QWidget(self.pages)
        form = QFormLayout(bearer)
        form.addRow("Token", self.token)
        oauth = QWidget(self.pages)
        form = QFormLayout(oauth)
        form.addRow("Token endpoint", self.token_endpoint)
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.client_secret)
        form.addRow("Scope", self.scope)
        form.addRow("Client authentication", self.client_auth)
        self.pages.addWidget(bearer)
        self.pages.addWidget(oauth)
        self.pages.addWidget(QWidget(self.pages))
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)

        self.result = QPlainTextEdit(self)
        self.result.setReadOnly(True)
        self.result.setPlaceholderText("The discovery result shows here.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.connect_button = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.ActionRole)
        self.connect_button.clicked.connect(self.request_connect)
        self.buttons.rejected.connect(self.reject)

        top = QFormLayout()
        top.addRow("Issuer", self.issuer)
        top.addRow("Authorization", self.kind)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addWidget(self.result, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 460)

    def auth(self) -> dict:
        kind = self.kind.currentData()
        if kind == "bearer":
            return {"kind": kind, "token": self.token.text().strip()}
        if kind == "client_credentials":
            return {"kind": kind, "token_endpoint": self.token_endpoint.text().strip(),
                    "client_id": self.client_id.text().strip(), "client_secret": self.client_secret.text(),
                    "scope": self.scope.text().strip() or None, "client_auth": self.client_auth.currentData()}
        return {"kind": "none"}

    def request_connect(self) -> None:
        issuer = self.issuer.text().strip()
        if not issuer:
            self.result.setPlainText("Enter the transmitter's issuer URL.")
            return
        auth = self.auth()
        self.token.clear()  # sent once; never shown again
        self.client_secret.clear()
        self.connect_button.setEnabled(False)
        self.result.setPlainText(f"Discovering {issuer}…")
        self.connect_requested.emit(issuer, auth)

    def show_result(self, text: str) -> None:
        self.connect_button.setEnabled(True)
        self.result.setPlainText(text)


def _secret(parent, placeholder: str) -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field
