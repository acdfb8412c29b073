"""The Status tab of the selected stream: status, verification, poll (SSF 8.1.2, 8.1.4; RFC 8936).

- Status: read it; enable / pause / disable with an optional reason.
- Verify: a full round trip by the core (a fresh `state`, then the verification SET
  matched at our receiver or by polling): confirmed, invalid, mismatch or timeout,
  with the state and the capture that carried it.
- Poll streams: Poll now (one request; what verified is acknowledged) and auto-poll.
  Polled SETs are captures like pushed ones (origin poll): they appear in the list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from app.ui.subscriptions.transmitter_tree import mode_of
from app.ui.untrusted import plain_label

STATUSES = ("enabled", "paused", "disabled")


class StatusPanel(QWidget):
    read_requested = Signal(str, str)  # issuer, stream_id
    status_requested = Signal(str, str, str, str)  # issuer, stream_id, status, reason
    verify_requested = Signal(str, dict)  # issuer, stream config
    poll_requested = Signal(str, dict)
    auto_poll_toggled = Signal(str, dict, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.issuer = ""
        self.config: dict[str, Any] | None = None
        self.heading = plain_label("Select a stream.", self)
        self.current = plain_label("", self)
        self.read_button = QPushButton("Read status", self)
        self.status = QComboBox(self)
        self.status.addItems(list(STATUSES))
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("optional, e.g. SYSTEM_DOWN_FOR_MAINTENANCE")
        self.apply_button = QPushButton("Apply status", self)
        self.verify_button = QPushButton("Verify", self)
        self.verification = plain_label("", self)
        self.poll_button = QPushButton("Poll now", self)
        self.auto_poll = QCheckBox("Auto-poll", self)
        self.poll_result = plain_label("", self)

        status_box = QGroupBox("Status", self)
        form = QFormLayout(status_box)
        row = QHBoxLayout()
        row.addWidget(self.current, 1)
        row.addWidget(self.read_button)
        form.addRow("Current", row)
        form.addRow("New status", self.status)
        form.addRow("Reason", self.reason)
        form.addRow("", self.apply_button)
        verify_box = QGroupBox("Verification", self)
        column = QVBoxLayout(verify_box)
        column.addWidget(self.verify_button)
        column.addWidget(self.verification)
        poll_box = QGroupBox("Poll (RFC 8936)", self)
        column = QVBoxLayout(poll_box)
        row = QHBoxLayout()
        row.addWidget(self.poll_button)
        row.addWidget(self.auto_poll)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.poll_result)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(status_box)
        layout.addWidget(verify_box)
        layout.addWidget(poll_box)
        layout.addStretch(1)

        self.read_button.clicked.connect(self.request_read)
        self.apply_button.clicked.connect(self.request_status)
        self.verify_button.clicked.connect(self.request_verify)
        self.poll_button.clicked.connect(self.request_poll)
        self.auto_poll.toggled.connect(self._auto_toggled)
        self.set_stream("", None, auto_polling=False)

    def set_stream(self, issuer: str, config: dict[str, Any] | None, *, auto_polling: bool) -> None:
        self.issuer, self.config = issuer, config
        stream_id = self.stream_id
        poll = config is not None and mode_of(config) == "poll"
        self.heading.setText(f"Stream {stream_id} ({mode_of(config)})" if config else "Select a stream.")
        for widget in (self.read_button, self.apply_button, self.verify_button, self.status, self.reason):
            widget.setEnabled(config is not None)
        self.poll_button.setEnabled(poll)
        self.auto_poll.setEnabled(poll)
        self.auto_poll.blockSignals(True)
        self.auto_poll.setChecked(auto_polling)
        self.auto_poll.blockSignals(False)
        self.current.setText("")
        self.verification.setText("")
        # The disabled Poll box said nothing about why: a push stream has nothing to poll.
        hint = "A push stream: the transmitter sends its SETs to the endpoint; only poll streams are polled."
        self.poll_result.setText("Auto-polling…" if auto_polling else hint if config is not None and not poll else "")
        if config is not None:
            self.request_read()

    @property
    def stream_id(self) -> str:
        return str(self.config.get("stream_id")) if self.config else ""

    # -- requests ------------------------------------------------------------------------------
    def request_read(self) -> None:
        if self.config:
            self.read_requested.emit(self.issuer, self.stream_id)

    def request_status(self) -> None:
        if self.config:
            self.current.setText("Changing…")
            self.status_requested.emit(self.issuer, self.stream_id, self.status.currentText(), self.reason.text().strip())

    def request_verify(self) -> None:
        if self.config:
            self.verify_button.setEnabled(False)
            self.verification.setText("Waiting for the verification SET…")
            self.verify_requested.emit(self.issuer, self.config)

    def request_poll(self) -> None:
        if self.config:
            self.poll_result.setText("Polling…")
            self.poll_requested.emit(self.issuer, self.config)

    def _auto_toggled(self, on: bool) -> None:
        if self.config:
            self.poll_result.setText("Auto-polling…" if on else "Auto-poll stopped.")
            self.auto_poll_toggled.emit(self.issuer, self.config, on)

    # -- answers ----------------------------------------------------------------------------------
    def show_status(self, stream_id: str, data: Any, text: str = "") -> None:
        if stream_id != self.stream_id:
            return
        if isinstance(data, dict) and data.get("status"):
            reason = f" ({data['reason']})" if data.get("reason") else ""
            self.current.setText(f"{data['status']}{reason}" + (f"\n{text}" if text else ""))
        else:
            self.current.setText(text)

    def show_verification(self, stream_id: str, outcome=None, error: str = "") -> None:
        if stream_id != self.stream_id:
            return
        self.verify_button.setEnabled(True)
        if outcome is None:
            self.verification.setText(f"Failed: {error}")
            return
        lines = [f"{outcome.result}: {outcome.detail}", f"state: {outcome.state}"]
        if outcome.capture_id is not None:
            lines.append(f"capture #{outcome.capture_id} ({outcome.origin}), {outcome.elapsed_ms:.0f} ms")
        lines += [f"note: {n}" for n in outcome.notes]
        self.verification.setText("\n".join(lines))

    def show_poll(self, stream_id: str, outcome=None, error: str = "") -> None:
        if stream_id != self.stream_id:
            return
        if outcome is None:
            self.poll_result.setText(f"Failed: {error}")
            return
        lines = [f"{len(outcome.sets)} SET(s) polled" + (", more available" if outcome.more_available else "")]
        lines += [f"#{s.capture_id} {s.verdict} {s.jti}" + (f" ({s.err})" if s.err else "") for s in outcome.sets]
        self.poll_result.setText("\n".join(lines))

    def show_auto_poll(self, stream_id: str, count: int, total: int) -> None:
        if stream_id == self.stream_id and self.auto_poll.isChecked():
            self.poll_result.setText(f"Auto-polling: {total} SET(s) so far" + (f" (+{count})" if count else ""))

    def auto_poll_ended(self, stream_id: str, why: str) -> None:
        if stream_id == self.stream_id:
            self.auto_poll.blockSignals(True)
            self.auto_poll.setChecked(False)
            self.auto_poll.blockSignals(False)
            self.poll_result.setText(f"Auto-poll stopped: {why}" if why else "Auto-poll stopped.")
        elif why and not self.auto_poll.isChecked():  # e.g. the stream was deleted elsewhere and left the tree
            self.poll_result.setText(f"Auto-poll of stream {stream_id} stopped: {why}")
