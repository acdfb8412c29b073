"""Showing text that came over the network: always as plain text.

Qt guesses whether a string is rich text (`Qt::mightBeRichText`) for labels and
tooltips, so a claim holding `<img src=http://...>` would be rendered, and its
image fetched. Labels get `Qt.PlainText`; bodies go in `QPlainTextEdit`; a tooltip,
which has no text-format switch, gets the text HTML-escaped inside a paragraph
that keeps its line breaks, so what shows is exactly the characters received.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def tooltip(text: str) -> str:
    return "<p style='white-space:pre-wrap'>" + html.escape(text, quote=False) + "</p>" if text else ""


def plain_label(text: str = "", parent: QWidget | None = None, *, selectable: bool = True) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


def elide(text: str, limit: int = 300) -> str:
    """Cells show one line: long or multi-line values are cut (the panels show them whole)."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
