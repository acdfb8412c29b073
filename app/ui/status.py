"""The window's status line (receiver URL with a copy button, listening state, live
counts) and ErrorBar, which shows problems in the window instead of losing them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QWidget

from app.ui.untrusted import plain_label


class ReceiverStatus(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = plain_label("Starting…", self, selectable=False)
        self.url = plain_label("", self)
        self.url.setWordWrap(False)
        self.copy = QToolButton(self)
        self.copy.setText("Copy URL")
        self.copy.setToolTip("Copy the receiver URL")
        self.copy.setEnabled(False)
        self.copy.clicked.connect(self.copy_url)
        self.transmitter = plain_label("", self)
        self.transmitter.setWordWrap(False)
        self.transmitter.setVisible(False)
        self.counts = plain_label("", self, selectable=False)
        self.counts.setWordWrap(False)
        self.state.setWordWrap(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.state, self.url, self.copy, self.transmitter):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.counts)
        self.set_counts(0, 0)

    def set_listening(self, info: dict) -> None:
        self.state.setText("Listening")
        self.url.setText(info["receiver_url"])
        self.copy.setEnabled(True)
        transmitter = info.get("transmitter_url")
        self.transmitter.setVisible(bool(transmitter))
        self.transmitter.setText(f"Simulator: {transmitter}" if transmitter else "")

    def set_stopped(self, why: str) -> None:
        self.state.setText(why)
        self.copy.setEnabled(False)
        self.url.setText("")

    def set_counts(self, requests: int, failures: int) -> None:
        self.counts.setText(f"{requests} requests · {failures} failures")

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.url.text())


class ErrorBar(QFrame):
    """A dismissable bar above the list; an optional action button (e.g. pick another port)."""

    action_triggered = Signal(str)  # the action's key

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("ErrorBar")
        self.message = plain_label("", self)
        self.action = QPushButton(self)
        self.action.setVisible(False)
        self.action.clicked.connect(self._action_clicked)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.action)
        layout.addWidget(close)
        self._key = ""
        self.setStyleSheet("#ErrorBar { background: palette(highlight); } #ErrorBar QLabel { color: palette(highlighted-text); }")
        self.hide()

    def show_error(self, text: str, *, action: str = "", key: str = "") -> None:
        self.message.setText(text)
        self._key = key
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self.show()

    def _action_clicked(self) -> None:
        self.action_triggered.emit(self._key)
