"""SubjectEditor: a format-aware form for one subject identifier (RFC 9493, SSF 3.3/3.5).

Pick the format and the form shows its members: one field per member of a simple
format (email, phone_number, iss_sub, opaque, account, did, uri, jwt_id,
saml_assertion_id, ip-addresses), a list of simple identifiers for `aliases`, and
named members (user, device, session, ...) each with its own simple identifier for
`complex`. `validate()` runs the core's `validate_subject` and shows each problem
next to the field it concerns (the rest under the form), so nothing invalid is sent.
The Subjects tab and the Emit dialog both use it.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from app.core.subjects import COMPLEX_MEMBERS, SIMPLE_FORMATS, validate_subject
from app.ui.untrusted import plain_label

SIMPLE = tuple(SIMPLE_FORMATS)
ALL_FORMATS = (*SIMPLE, "aliases", "complex")
EXAMPLES = {"email": "user@example.com", "phone_number": "+12065550100", "iss": "https://idp.example.com/",
            "sub": "145234573", "id": "11112222333344445555", "uri": "acct:user@service.example.com",
            "url": "did:example:123456", "jti": "B70BA622-9515-4353-A866-823539EECBC8",
            "issuer": "https://idp.example.com/", "assertion_id": "_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6",
            "ip-addresses": "10.29.37.75, 2001:db8::8a2e:370:7334"}


class SubjectEditor(QWidget):
    changed = Signal()

    def __init__(self, parent=None, *, formats: tuple[str, ...] = ALL_FORMATS, initial: str = "email"):
        super().__init__(parent)
        self.format = QComboBox(self)
        self.format.addItems(list(formats))
        self.problems_label = plain_label("", self)
        self.problems_label.setVisible(False)
        self._body: QWidget | None = None
        self.fields: dict[str, QLineEdit] = {}  # simple formats: member -> field
        self.field_problems: dict[str, Any] = {}  # member -> the label beside it
        self.parts: list[tuple[QComboBox | None, "SubjectEditor", QWidget]] = []  # aliases / complex rows
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.format)
        self._layout.addWidget(self.problems_label)
        self.format.setCurrentText(initial)
        self._rebuild(self.format.currentText())
        self.format.currentTextChanged.connect(self._rebuild)

    # -- the form -----------------------------------------------------------------------------
    def _rebuild(self, fmt: str) -> None:
        if self._body is not None:
            self._body.hide()
            self._body.deleteLater()
        self.fields, self.field_problems, self.parts = {}, {}, []
        self._body = QWidget(self)
        self._layout.insertWidget(1, self._body)
        self._clear_problems()
        if fmt == "complex":
            self._parts_body("Add member")
            self.add_part(COMPLEX_MEMBERS[0])
        elif fmt == "aliases":
            self._parts_body("Add identifier")
            self.add_part()
            self.add_part(initial="phone_number")
        else:
            form = QFormLayout(self._body)
            form.setContentsMargins(12, 0, 0, 0)
            for member in SIMPLE_FORMATS.get(fmt, ()):
                field = QLineEdit(self._body)
                field.setPlaceholderText(EXAMPLES.get(member, ""))
                field.textChanged.connect(self.changed)
                problem = plain_label("", self._body)
                problem.setVisible(False)
                self.fields[member], self.field_problems[member] = field, problem
                form.addRow(member, field)
                form.addRow("", problem)
        self.changed.emit()

    def _parts_body(self, add_text: str) -> None:
        layout = QVBoxLayout(self._body)
        layout.setContentsMargins(12, 0, 0, 0)
        self._parts_layout = QVBoxLayout()
        layout.addLayout(self._parts_layout)
        add = QPushButton(add_text, self._body)
        add.clicked.connect(self._add_clicked)
        layout.addWidget(add)
        self.add_button = add

    def _add_clicked(self) -> None:
        self.add_part(self._unused_member() if self.format.currentText() == "complex" else None)

    def _unused_member(self) -> str:
        used = {name.currentText() for name, _, _ in self.parts if name is not None}
        return next((m for m in COMPLEX_MEMBERS if m not in used), "")

    def add_part(self, member: str | None = None, *, initial: str = "email") -> "SubjectEditor":
        """Another identifier of an aliases subject, or a member (named) of a complex one."""
        row = QWidget(self._body)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        name = None
        if self.format.currentText() == "complex":
            name = QComboBox(row)
            name.setEditable(True)  # SSF 3.3: other member names MAY be used
            name.addItems(list(COMPLEX_MEMBERS))
            name.setCurrentText(member or "")
            name.currentTextChanged.connect(self.changed)
            line.addWidget(name)
        editor = SubjectEditor(row, formats=SIMPLE, initial=initial)
        editor.changed.connect(self.changed)
        line.addWidget(editor, 1)
        remove = QPushButton("Remove", row)
        remove.clicked.connect(self._remove_clicked)
        line.addWidget(remove)
        self._parts_layout.addWidget(row)
        self.parts.append((name, editor, row))
        self.changed.emit()
        return editor

    def _remove_clicked(self) -> None:
        button = self.sender()
        for part in list(self.parts):
            if button is not None and button.parent() is part[2]:
                self.parts.remove(part)
                part[2].hide()
                part[2].deleteLater()
        self.changed.emit()

    # -- values -------------------------------------------------------------------------------------
    def subject(self) -> dict[str, Any]:
        fmt = self.format.currentText()
        if fmt == "complex":
            out: dict[str, Any] = {"format": "complex"}
            for name, editor, _ in self.parts:
                out[name.currentText().strip()] = editor.subject()
            return out
        if fmt == "aliases":
            return {"format": "aliases", "identifiers": [editor.subject() for _, editor, _ in self.parts]}
        out = {"format": fmt}
        for member, field in self.fields.items():
            text = field.text().strip()
            out[member] = [p.strip() for p in text.split(",") if p.strip()] if member == "ip-addresses" else text
        return out

    def set_subject(self, subject: dict[str, Any]) -> None:
        fmt = str(subject.get("format", ""))
        if self.format.findText(fmt) < 0:
            return
        if fmt == self.format.currentText():
            self._rebuild(fmt)  # start from an empty form
        else:
            self.format.setCurrentText(fmt)  # rebuilds it
        for _, _, row in self.parts:
            row.hide()
            row.deleteLater()
        if fmt == "complex":
            self.parts = []
            for member, value in subject.items():
                if member != "format" and isinstance(value, dict):
                    self.add_part(member, initial=str(value.get("format", "email"))).set_subject(value)
        elif fmt == "aliases":
            self.parts = []
            for value in subject.get("identifiers") or []:
                if isinstance(value, dict):
                    self.add_part(initial=str(value.get("format", "email"))).set_subject(value)
        else:
            for member, field in self.fields.items():
                value = subject.get(member, "")
                field.setText(", ".join(value) if isinstance(value, list) else str(value))

    def problems(self) -> list[str]:
        subject = self.subject()
        problems = validate_subject(subject)
        if self.format.currentText() == "complex":
            names = [name.currentText().strip() for name, _, _ in self.parts]
            if "" in names:
                problems.append("every member needs a name (user, device, session, ...)")
            if len(set(names)) != len(names):
                problems.append("each member name may appear only once (SSF 3.3)")
        return problems

    def validate(self) -> bool:
        """Show the problems next to their fields; True when the subject is valid."""
        self._clear_problems()
        problems = self.problems()
        general = [p for p in problems if not self._place_beside_field(p)]
        for _, editor, _ in self.parts:
            editor.validate()
        if general:
            self.problems_label.setText("\n".join(general))
            self.problems_label.setVisible(True)
        return not problems

    def _place_beside_field(self, problem: str) -> bool:
        """Show a problem beside the field it names; a part's problem is its own editor's to show."""
        if self.parts and re.match(r"(member '[^']*'|identifiers\[\d+\]): ", problem):
            return True
        for member, label in self.field_problems.items():
            if f"'{member}'" in problem or (member == "phone_number" and "phone_number" in problem) or \
                    (member == "uri" and "'acct:'" in problem):
                label.setText((label.text() + "\n" if label.text() else "") + problem)
                label.setVisible(True)
                return True
        return False

    def _clear_problems(self) -> None:
        self.problems_label.setText("")
        self.problems_label.setVisible(False)
        for label in self.field_problems.values():
            label.setText("")
            label.setVisible(False)

    def shown_problems(self) -> list[str]:
        """Every problem text on show in this editor and its parts (for tests and the dialog)."""
        texts = [self.problems_label.text()] + [label.text() for label in self.field_problems.values()]
        out = [t for text in texts for t in text.split("\n") if t]
        for _, editor, _ in self.parts:
            out += editor.shown_problems()
        return out
