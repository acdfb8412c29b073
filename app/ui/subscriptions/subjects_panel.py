"""The Subjects tab: add or remove subjects of the selected stream (SSF 8.1.3).

The subject comes from a `SubjectEditor` and is validated with the core's rules before
anything is sent; an invalid one is refused with its problems shown beside the fields.
SSF has no call that lists a stream's subjects, so the list shows what was added or
removed from this window (selecting one puts it back in the editor, e.g. to remove it).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QListView, QPushButton, QScrollArea, QVBoxLayout, QWidget

from app.core.subjects import describe_subject
from app.ui.subscriptions.subject_editor import SubjectEditor
from app.ui.untrusted import plain_label, tooltip


class SubjectsPanel(QWidget):
    add_requested = Signal(str, str, dict, bool)  # issuer, stream_id, subject, verified
    remove_requested = Signal(str, str, dict)  # issuer, stream_id, subject

    def __init__(self, parent=None):
        super().__init__(parent)
        self.issuer = ""
        self.stream_id = ""
        self._history: dict[str, list[tuple[str, dict]]] = {}  # stream_id -> [(what, subject)]
        self.heading = plain_label("Select a stream.", self)
        self.editor = SubjectEditor(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        # A short caption, the meaning in the tooltip: the long sentence made the dock wider than a 1366 px screen.
        self.verified = QCheckBox("Verified", self)
        self.verified.setToolTip("The transmitter has verified this subject (SSF 8.1.3.2, the \"verified\" member).")
        self.verified.setChecked(True)
        self.add_button = QPushButton("Add subject", self)
        self.remove_button = QPushButton("Remove subject", self)
        self.answer = plain_label("", self)
        self.model = QStandardItemModel(self)
        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.add_button.clicked.connect(self.request_add)
        self.remove_button.clicked.connect(self.request_remove)
        self.list.clicked.connect(self._picked)

        buttons = QHBoxLayout()
        buttons.addWidget(self.verified, 1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.answer)
        layout.addWidget(plain_label("Added or removed from this window:", self, selectable=False))
        layout.addWidget(self.list, 1)
        self.set_stream("", None)

    def set_stream(self, issuer: str, config: dict[str, Any] | None) -> None:
        self.issuer = issuer
        self.stream_id = str(config.get("stream_id")) if config else ""
        self.heading.setText(f"Subjects of stream {self.stream_id}" if self.stream_id else "Select a stream.")
        for button in (self.add_button, self.remove_button):
            button.setEnabled(bool(self.stream_id))
        self.answer.setText("")
        self._fill_list()

    def _fill_list(self) -> None:
        self.model.clear()
        for what, subject in self._history.get(self.stream_id, []):
            item = QStandardItem(f"{what}: {describe_subject(subject)}")
            item.setEditable(False)
            item.setData(json.dumps(subject), Qt.ItemDataRole.UserRole)
            item.setToolTip(tooltip(json.dumps(subject, indent=2)))
            self.model.appendRow(item)

    def _picked(self, index: QModelIndex) -> None:
        self.editor.set_subject(json.loads(index.data(Qt.ItemDataRole.UserRole)))

    def request_add(self) -> None:
        if self.stream_id and self._checked():
            self.answer.setText("Adding…")
            self.add_requested.emit(self.issuer, self.stream_id, self.editor.subject(), self.verified.isChecked())

    def request_remove(self) -> None:
        if self.stream_id and self._checked():
            self.answer.setText("Removing…")
            self.remove_requested.emit(self.issuer, self.stream_id, self.editor.subject())

    def _checked(self) -> bool:
        if self.editor.validate():
            return True
        self.answer.setText("Not sent: the subject is not valid (see the problems above).")
        return False

    def show_answer(self, stream_id: str, what: str, subject: dict | None, text: str) -> None:
        """`what` is 'added' / 'removed' on success (the subject joins the list), else empty."""
        if what and subject is not None:
            self._history.setdefault(stream_id, []).append((what, subject))
        if stream_id == self.stream_id:
            self.answer.setText(text)
            self._fill_list()
