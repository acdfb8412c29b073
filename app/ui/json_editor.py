"""A JSON text editor that parses as you type and marks a syntax error at its spot.

Used by the replay dialog for headers, the JOSE header and the claims. The text is
plain (QPlainTextEdit: what came over the network is never rendered), the error
is marked with an extra selection at the line/column json.JSONDecodeError (or a
core ReplayEditError "...: line L, column C: ...") names, and a plain-text
message under the editor says what is wrong. `validity_changed` tells the dialog
when to enable Send.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from app.ui.untrusted import plain_label

POSITION = re.compile(r"line (\d+), column (\d+): (.*)$", re.S)
ERROR_COLOUR = QColor("#d2372c")  # the icons' fail colour


class JsonEditor(QWidget):
    validity_changed = Signal(bool)
    edited = Signal()

    def __init__(self, what: str, parent: QWidget | None = None, *,
                 validate: Callable[[Any], str | None] | None = None):
        super().__init__(parent)
        self.what = what
        self._validate = validate
        self.editor = QPlainTextEdit(self)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        self.message = plain_label("", self)
        self.message.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.message)
        self.error: str | None = None
        self.error_position: tuple[int, int] | None = None
        self.value: Any = None
        self.editor.textChanged.connect(self._parse)

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)  # textChanged parses it

    def text(self) -> str:
        return self.editor.toPlainText()

    @property
    def valid(self) -> bool:
        return self.error is None

    def _parse(self) -> None:
        try:
            value = json.loads(self.text())
        except json.JSONDecodeError as exc:
            self.show_error(exc.msg, exc.lineno, exc.colno)
        else:
            problem = self._validate(value) if self._validate else None
            if problem:
                self.show_error(problem)
            else:
                self.value = value
                self._set_error(None, None)
        self.edited.emit()

    def show_error(self, message: str, line: int | None = None, column: int | None = None) -> None:
        """Mark an error (from the parser, a check, or the core on Send)."""
        if line is None:
            match = POSITION.search(message)
            if match:
                line, column, message = int(match[1]), int(match[2]), match[3]
        where = f"line {line}, column {column}: " if line is not None else ""
        self._set_error(f"{self.what}: {where}{message}", (line, column) if line is not None else None)

    def _set_error(self, error: str | None, position: tuple[int, int] | None) -> None:
        was_valid = self.error is None
        self.error, self.error_position = error, position
        self.message.setText(error or "")
        self.message.setVisible(error is not None)
        self.editor.setExtraSelections(self._marks(position) if position else [])
        if was_valid != (error is None):
            self.validity_changed.emit(error is None)

    def _marks(self, position: tuple[int, int]) -> list[QTextEdit.ExtraSelection]:
        line, column = position
        doc = self.editor.document()
        block = doc.findBlockByNumber(max(0, min(line - 1, doc.blockCount() - 1)))
        cursor = QTextCursor(block)
        offset = max(0, min(column - 1, block.length() - 1))
        cursor.setPosition(block.position() + offset)
        if offset < block.length() - 1:
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor)
        else:  # at the end of the line (or of the text): mark the line
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
        spot = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(ERROR_COLOUR)
        background = QColor(ERROR_COLOUR)
        background.setAlpha(60)
        fmt.setBackground(background)
        spot.format = fmt
        spot.cursor = cursor
        whole = QTextEdit.ExtraSelection()
        line_fmt = QTextCharFormat()
        tint = QColor(ERROR_COLOUR)
        tint.setAlpha(25)
        line_fmt.setBackground(tint)
        line_fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        whole.format = line_fmt
        whole.cursor = QTextCursor(block)
        return [whole, spot]


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def headers_text(headers: list[tuple[str, str]]) -> str:
    """Headers as a JSON list of [name, value] pairs, one per line (order and repeats kept)."""
    if not headers:
        return "[]"
    return "[\n" + ",\n".join("  " + json.dumps([k, v], ensure_ascii=False) for k, v in headers) + "\n]"


def check_headers(value: Any) -> str | None:
    if isinstance(value, dict):
        value = list(value.items())
    if not isinstance(value, list) or not all(isinstance(h, (list, tuple)) and len(h) == 2
                                              and all(isinstance(x, str) for x in h) for h in value):
        return "an object of name -> value, or a list of [name, value] pairs"
    return None


def check_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a JSON object"


def check_claims_value(value: Any) -> str | None:
    from app.core.replay import ReplayEditError, check_claims

    try:
        check_claims(value)
    except ReplayEditError as exc:
        return str(exc).removeprefix("claims: ")
    return None
