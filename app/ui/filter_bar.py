"""FilterBar: free text (FTS over body and headers), verdict, kind, event type and
issuer. It only builds a `CaptureFilter` and emits it; the store does the filtering.
Typing is debounced (250 ms) so each keystroke does not run a query."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

ANY = "Any"


class FilterBar(QWidget):
    filter_changed = Signal(object)  # CaptureFilter
    wants_choices = Signal()  # the window fills the issuer / event type lists on demand

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("Filter: words in body and headers (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumWidth(120)  # with a dock open it was squeezed to "Fi…"
        self.verdict = self._combo([ANY, "valid", "invalid", "unverified"])
        self.kind = self._combo([ANY, "SET", "webhook"])
        self.event_type = self._combo([ANY], editable=True)
        self.issuer = self._combo([ANY], editable=True)
        self.event_type.setMinimumContentsLength(10)
        self.issuer.setMinimumContentsLength(10)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.text, 3)
        for caption, widget in (("Verdict", self.verdict), ("Kind", self.kind), ("Event", self.event_type), ("Issuer", self.issuer)):
            label = QLabel(caption, self)
            label.setBuddy(widget)
            layout.addWidget(label)
            layout.addWidget(widget, 1 if widget in (self.event_type, self.issuer) else 0)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply)
        self.text.textChanged.connect(self._debounce.start)
        self.text.returnPressed.connect(self.apply)
        for combo in (self.verdict, self.kind, self.event_type, self.issuer):
            combo.currentTextChanged.connect(self._debounce.start)

    def _combo(self, items: list[str], *, editable: bool = False) -> QComboBox:
        combo = QComboBox(self)
        combo.addItems(items)
        combo.setEditable(editable)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon if editable
                                  else QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    def set_choices(self, issuers: list[str], event_types: list[str]) -> None:
        for combo, values in ((self.issuer, issuers), (self.event_type, event_types)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([ANY, *values])
            combo.setCurrentText(current)
            combo.blockSignals(False)

    def current_filter(self):
        from app.core.store.captures import CaptureFilter

        def value(combo: QComboBox) -> str | None:
            text = combo.currentText().strip()
            return None if not text or text == ANY else text

        kind = value(self.kind)
        return CaptureFilter(
            text=self.text.text(),
            verdict=value(self.verdict),
            kind={"SET": "set", "webhook": "webhook"}.get(kind) if kind else None,
            issuer=value(self.issuer),
            event_type=value(self.event_type),
        )

    def apply(self) -> None:
        self._debounce.stop()
        self.filter_changed.emit(self.current_filter())

    def focus_text(self) -> None:
        self.text.setFocus()
        self.text.selectAll()
