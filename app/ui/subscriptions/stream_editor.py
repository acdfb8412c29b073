"""The stream editor: the receiver-supplied fields of one SSF stream as a form.

Events requested are a checklist of the transmitter's `events_supported` (the
catalogue's title and description as tooltips); delivery is push (endpoint
defaulting to our own receiver's URL) or poll (the transmitter supplies the URL);
authorization header and description. The transmitter-supplied fields are shown
read-only, `events_delivered` with where it differs from what was requested.
Save sends PATCH or PUT (chosen here), Create sends POST; the answer is shown.
The form only builds request bodies and emits them; the area sends them.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QListView, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)

from app.ui.untrusted import plain_label, tooltip

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
READ_ONLY = ("stream_id", "iss", "aud", "min_verification_interval", "inactivity_timeout")


class StreamEditor(QWidget):
    create_requested = Signal(str, dict)  # issuer, POST body
    save_requested = Signal(str, str, dict)  # issuer, "PATCH" | "PUT", body

    def __init__(self, parent=None):
        super().__init__(parent)
        self.issuer = ""
        self.config: dict[str, Any] | None = None  # the stream shown (None: a new one)
        self.receiver_url = ""
        self._push_endpoint = ""
        self._shown: dict[str, Any] | None = None  # the receiver fields as last filled in (see `edited`)
        self.heading = plain_label("No transmitter selected.", self)
        self.events_model = QStandardItemModel(self)  # the checklist: one checkable item per event type
        self.events = QListView(self)
        self.events.setModel(self.events_model)
        self.method = QComboBox(self)
        self.method.addItem("Push (RFC 8935)", PUSH)
        self.method.addItem("Poll (RFC 8936)", POLL)
        self.endpoint = QLineEdit(self)
        self.authorization = QLineEdit(self)
        self.authorization.setEchoMode(QLineEdit.EchoMode.Password)
        self.authorization.setPlaceholderText("e.g. Bearer s3cret (sent by the transmitter with each push)")
        self.description = QLineEdit(self)
        self.supplied = QPlainTextEdit(self)
        self.supplied.setReadOnly(True)
        self.supplied.setMaximumHeight(110)
        self.delivered_note = plain_label("", self)
        self.update_method = QComboBox(self)
        for text, method, meaning in (("PATCH", "PATCH", "PATCH: change the receiver fields set here"),
                                      ("PUT", "PUT", "PUT: replace every receiver field")):
            self.update_method.addItem(text, method)
            self.update_method.setItemData(self.update_method.count() - 1, meaning, Qt.ItemDataRole.ToolTipRole)
        self.update_method.setToolTip("How Save sends the form: PATCH changes the fields set here, "
                                      "PUT replaces every receiver field.")
        self.save_button = QPushButton("Save", self)
        self.create_button = QPushButton("Create stream", self)
        self.answer = QPlainTextEdit(self)
        self.answer.setReadOnly(True)
        self.answer.setPlaceholderText("The transmitter's answer shows here.")
        self.method.currentIndexChanged.connect(self._method_switched)
        self.save_button.clicked.connect(self.request_save)
        self.create_button.clicked.connect(self.request_create)

        form = QFormLayout()
        form.addRow("Events requested", self.events)
        form.addRow("Delivery", self.method)
        form.addRow("Endpoint URL", self.endpoint)
        form.addRow("Authorization header", self.authorization)
        form.addRow("Description", self.description)
        form.addRow("Transmitter-supplied", self.supplied)
        form.addRow("", self.delivered_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.update_method)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.answer, 1)
        self._set_enabled()

    # -- what is shown ----------------------------------------------------------------------
    def new_stream(self, issuer: str, events_supported: list[str], receiver_url: str, *,
                   receiver_authorization: str = "") -> None:
        """An empty form; push to our receiver, with its bearer token when it needs one."""
        self.issuer, self.config, self.receiver_url = issuer, None, receiver_url
        self._push_endpoint = ""
        self.heading.setText(f"New stream at {issuer}")
        self._fill_events(events_supported, set(), None)
        self._set_method(0)
        self.endpoint.setText(receiver_url)
        self.authorization.setText(receiver_authorization)
        self.description.clear()
        self.supplied.setPlainText("")
        self.delivered_note.setText("")
        self._method_changed()
        self._set_enabled()
        self._shown = self.receiver_fields()

    def show_stream(self, issuer: str, config: dict[str, Any], receiver_url: str) -> None:
        self.issuer, self.config, self.receiver_url = issuer, config, receiver_url
        self._push_endpoint = ""
        self.heading.setText(f"Stream {config.get('stream_id')} at {issuer}")
        requested = [str(e) for e in config.get("events_requested") or []]
        supported = [str(e) for e in config.get("events_supported") or []]
        delivered = [str(e) for e in config.get("events_delivered") or []]
        self._fill_events(list(dict.fromkeys([*supported, *requested])), set(requested), set(delivered))
        delivery = config.get("delivery") or {}
        self._set_method(1 if delivery.get("method") == POLL else 0)
        self.endpoint.setText(str(delivery.get("endpoint_url") or ""))
        self.authorization.setText(str(delivery.get("authorization_header") or ""))
        self.description.setText(str(config.get("description") or ""))
        self.supplied.setPlainText("\n".join(f"{k}: {_text(config[k])}" for k in READ_ONLY if k in config)
                                   + "\nevents_delivered: " + (", ".join(delivered) or "none"))
        missing = [e for e in requested if e not in delivered]
        extra = [e for e in delivered if e not in requested]
        notes = [f"requested, not delivered: {e}" for e in missing] + [f"delivered, not requested: {e}" for e in extra]
        self.delivered_note.setText("events_delivered differs from events_requested:\n" + "\n".join(notes)
                                    if notes else "events_delivered matches events_requested.")
        self._method_changed()
        self._set_enabled()
        self._shown = self.receiver_fields()

    @property
    def edited(self) -> bool:
        """The form differs from what was last shown in it (edits a refresh must not overwrite)."""
        return self._shown is not None and self.issuer != "" and self.receiver_fields() != self._shown

    def show_nothing(self) -> None:
        self.issuer, self.config, self._shown = "", None, None
        self.heading.setText("No transmitter selected.")
        self._set_enabled()

    def show_answer(self, text: str) -> None:
        self.answer.setPlainText(text)

    def _fill_events(self, uris: list[str], checked: set[str], delivered: set[str] | None) -> None:
        from app.core.catalogue import default_catalogue

        catalogue = default_catalogue()
        self.events_model.clear()
        for uri in uris:
            known = catalogue.lookup(uri)
            label = f"{known.title} ({known.family} {known.name})" if known else uri
            item = QStandardItem(label)
            item.setData(uri, Qt.ItemDataRole.UserRole)
            item.setEditable(False)
            item.setCheckable(True)
            item.setCheckState(Qt.CheckState.Checked if uri in checked else Qt.CheckState.Unchecked)
            tip = f"{known.title}\n{known.description}\n{uri}" if known else uri
            if delivered is not None and (uri in checked) != (uri in delivered):
                font = item.font()
                font.setBold(True)
                item.setFont(font)  # bold: events_delivered differs from events_requested here
                tip += "\n" + ("requested but not delivered" if uri in checked else "delivered but not requested")
            item.setToolTip(tooltip(tip))
            self.events_model.appendRow(item)

    def _set_method(self, index: int) -> None:
        """Show a stream's method without treating it as the user's switch (called by the fill)."""
        self.method.blockSignals(True)
        self.method.setCurrentIndex(index)
        self.method.blockSignals(False)

    def _method_switched(self) -> None:
        if self.method.currentData() == POLL and not self.endpoint.isReadOnly():
            self._push_endpoint = self.endpoint.text()  # kept for a switch back to push
        self._method_changed()

    def _method_changed(self) -> None:
        poll = self.method.currentData() == POLL
        self.endpoint.setReadOnly(poll)
        self.authorization.setEnabled(not poll)
        if poll:
            self.endpoint.setText(self._poll_url())  # the transmitter's; empty until it supplies one
            self.endpoint.setPlaceholderText("supplied by the transmitter")
        elif self.endpoint.text() in ("", self._poll_url()):
            self.endpoint.setText(self._push_endpoint or self.receiver_url)

    def _poll_url(self) -> str:
        delivery = (self.config or {}).get("delivery") or {}
        return str(delivery.get("endpoint_url") or "") if delivery.get("method") == POLL else ""

    def _set_enabled(self) -> None:
        self.save_button.setEnabled(bool(self.issuer) and self.config is not None)
        self.update_method.setEnabled(self.save_button.isEnabled())
        self.create_button.setEnabled(bool(self.issuer))

    # -- what is sent ----------------------------------------------------------------------------
    def checked_events(self) -> list[str]:
        items = (self.events_model.item(i) for i in range(self.events_model.rowCount()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def set_checked(self, uris: list[str]) -> None:
        for i in range(self.events_model.rowCount()):
            item = self.events_model.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in uris
                               else Qt.CheckState.Unchecked)

    def receiver_fields(self) -> dict[str, Any]:
        delivery: dict[str, Any] = {"method": self.method.currentData()}
        if delivery["method"] == PUSH:
            delivery["endpoint_url"] = self.endpoint.text().strip()
            if self.authorization.text().strip():
                delivery["authorization_header"] = self.authorization.text().strip()
        body: dict[str, Any] = {"events_requested": self.checked_events(), "delivery": delivery}
        if self.description.text().strip():
            body["description"] = self.description.text().strip()
        return body

    def request_create(self) -> None:
        self.answer.setPlainText("Creating…")
        self.create_requested.emit(self.issuer, self.receiver_fields())

    def request_save(self) -> None:
        if self.config is None:
            return
        body = {"stream_id": self.config.get("stream_id"), **self.receiver_fields()}
        method = self.update_method.currentData()
        self.answer.setPlainText(f"Sending {method}…")
        self.save_requested.emit(self.issuer, method, body)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
