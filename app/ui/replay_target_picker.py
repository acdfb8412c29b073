"""Choosing where a replay goes: this app's receiver, a URL, or a simulator stream.

A combo box (the receiver, "A URL…", then one entry per stream) and a URL field
shown for "A URL…" (and `TargetDialog`, the picker alone for "Replay to…"). The streams are asked of the engine when the picker is
filled (`load_streams`), through the bridge, so the GUI never waits for them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from app.core.replay import ReplayEditError
from app.core.replay_targets import RECEIVER, STREAM, URL, ReplayTarget
from app.ui.untrusted import plain_label

_RECEIVER_TEXT, _URL_TEXT = "This app's receiver", "A URL…"


class TargetPicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, streams: bool = True):
        super().__init__(parent)
        self._with_streams = streams
        self.choice = QComboBox(self)
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # streams arrive after the first show
        self.choice.addItem(_RECEIVER_TEXT, (RECEIVER, ""))
        self.choice.addItem(_URL_TEXT, (URL, ""))
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("http://127.0.0.1:8080/webhooks")
        self.url.setClearButtonEnabled(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        layout.addWidget(self.url, 1)
        self.choice.currentIndexChanged.connect(self._choice_changed)
        self.url.textChanged.connect(self.changed)
        self._pending_stream: str | None = None
        self._choice_changed()

    def load_streams(self, bridge, engine_thread) -> None:
        if not self._with_streams or engine_thread is None or engine_thread.engine is None:
            return

        async def streams(engine):
            from app.core.replay_targets import stream_choices

            return stream_choices(engine)

        bridge.run(engine_thread.call(streams), "listing the simulator's streams", self.set_streams, lambda exc: None)

    def set_streams(self, streams: list[tuple[str, str]]) -> None:
        import shiboken6

        if not shiboken6.isValid(self):  # the dialog closed before the engine answered
            return
        for stream_id, text in streams:
            self.choice.addItem(f"Stream: {text}", (STREAM, stream_id))
        if self._pending_stream is not None:
            self.set_target(ReplayTarget(STREAM, stream_id=self._pending_stream))

    def set_target(self, target: ReplayTarget | None) -> None:
        if target is None:
            return
        if target.kind == URL:
            self.choice.setCurrentIndex(1)
            self.url.setText(target.url)
            return
        for i in range(self.choice.count()):
            if self.choice.itemData(i) == (target.kind, target.stream_id):
                self.choice.setCurrentIndex(i)
                self._pending_stream = None
                return
        if target.kind == STREAM:
            self._pending_stream = target.stream_id  # the streams have not arrived yet

    def target(self) -> ReplayTarget:
        kind, stream_id = self.choice.currentData()
        return ReplayTarget(kind, self.url.text().strip() if kind == URL else "", stream_id)

    def problem(self) -> str | None:
        try:
            self.target().check()
        except ReplayEditError as exc:
            return str(exc)
        return None

    def _choice_changed(self) -> None:
        self.url.setVisible(self.choice.currentData()[0] == URL)
        self.changed.emit()


class TargetDialog(QDialog):
    """Where should this go? (opened with open(); answers with `chosen`)."""

    chosen = Signal(object)  # ReplayTarget

    def __init__(self, bridge, engine_thread, target, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Replay to…")
        self.setMinimumWidth(460)  # it opened 200 px wide, its sentence wrapped and a URL had no room
        self.picker = TargetPicker(self)
        self.picker.set_target(target)
        self.picker.load_streams(bridge, engine_thread)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Replay")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.picker.changed.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Send the capture again, byte for byte, to:", self))
        layout.addWidget(self.picker)
        layout.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.picker.problem() is None)

    def accept(self) -> None:
        if self.picker.problem() is None:
            self.chosen.emit(self.picker.target())
            super().accept()
