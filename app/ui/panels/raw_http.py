"""RawHttpPanel: the request line and headers, the body (pretty JSON, a compact JWS
with its three parts told apart, hex for binary) and our response, all as plain text."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit, QSplitter, QVBoxLayout, QWidget
from PySide6.QtCore import Qt

from app.core.capture_details import body_view, request_head, response_text


class JwsHighlighter(QSyntaxHighlighter):
    """Colours the header, payload and signature of a compact JWS line differently."""

    _jws = QRegularExpression(r"^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)$")

    def __init__(self, document, palette: QPalette):
        super().__init__(document)
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        colours = ("#ff7b72", "#d2a8ff", "#79c0ff") if dark else ("#b31d28", "#6f42c1", "#005cc5")
        self._formats = []
        for colour in colours:
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            self._formats.append(fmt)

    def highlightBlock(self, text: str) -> None:
        match = self._jws.match(text)
        if not match.hasMatch():
            return
        for group, fmt in enumerate(self._formats, start=1):
            self.setFormat(match.capturedStart(group), match.capturedLength(group), fmt)


class RawHttpPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.request = self._text_view(mono)
        self.response = self._text_view(mono)
        self.highlighter = JwsHighlighter(self.request.document(), self.palette())
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.request)
        split.addWidget(self.response)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def _text_view(self, font: QFont) -> QPlainTextEdit:
        view = QPlainTextEdit(self)
        view.setReadOnly(True)
        view.setFont(font)
        view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        return view

    def show_capture(self, capture: dict | None) -> None:
        if capture is None:
            self.request.setPlainText("")
            self.response.setPlainText("")
            return
        view = body_view(capture["body"], truncated=capture["body_truncated"])
        text = request_head(capture) + "\n\n" + view.text
        if view.parts:
            header, payload, signature = view.parts
            text += ("\n\n— compact JWS, three parts —\n"
                     f"header:    {header}\npayload:   {payload}\nsignature: {signature}")
        if capture["body_truncated"]:
            text += f"\n\n… truncated: {capture['body_size']} bytes received, {len(capture['body'])} kept"
        self.request.setPlainText(text)
        answer = response_text(capture)
        if capture.get("rule"):  # a receiver fault rule answered instead of the normal answer
            answer += f"\n\n— answered by the fault rule “{capture['rule']}” —"
        self.response.setPlainText(answer)
