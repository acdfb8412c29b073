"""VerificationPanel: the report's checks in order with their icons, the RFC 8935
answer that was (or should have been) given, and one click to trust an unknown
issuer (the window does the trusting: this panel only asks, by signal)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.core.capture_details import rfc8935_answer
from app.ui.icons import status_icon
from app.ui.untrusted import elide, plain_label, tooltip


class VerificationPanel(QWidget):
    trust_requested = Signal(str)  # issuer

    def __init__(self, parent=None):
        super().__init__(parent)
        self.verdict = plain_label("", self)
        self.checks = QTreeWidget(self)
        self.checks.setColumnCount(3)
        self.checks.setHeaderLabels(["Check", "Result", "Detail"])
        self.checks.setRootIsDecorated(False)
        self.checks.setUniformRowHeights(True)
        self.checks.setAlternatingRowColors(True)
        self.answer = plain_label("", self)
        self.trust_button = QPushButton("Trust this issuer", self)
        self.trust_button.setVisible(False)
        self.trust_button.clicked.connect(self._trust_clicked)
        self._issuer: str | None = None
        row = QHBoxLayout()
        row.addWidget(self.verdict, 1)
        row.addWidget(self.trust_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.checks, 1)
        layout.addWidget(self.answer)

    def show_capture(self, capture: dict | None, *, trusted: set[str] = frozenset()) -> None:
        self.checks.clear()
        self._issuer = None
        self.trust_button.setVisible(False)
        if capture is None:
            self.verdict.setText("")
            self.answer.setText("")
            return
        report = capture["report"]
        verdict = report.get("verdict", capture["verdict"])
        summary = f"Verdict: {verdict}"
        if report.get("err"):
            summary += f" — {report['err']}: {report.get('description') or ''}"
        self.verdict.setText(summary)
        for check in report.get("checks", []):
            item = QTreeWidgetItem(self.checks, [check["name"], check["status"], elide(check.get("detail") or "")])
            item.setIcon(1, status_icon(check["status"]))
            item.setToolTip(2, tooltip(check.get("detail") or ""))
        for column in (0, 1):
            self.checks.resizeColumnToContents(column)
        self.answer.setText(rfc8935_answer(capture))
        issuer = capture.get("issuer")
        issuer_check = next((c for c in report.get("checks", []) if c["name"] == "issuer"), None)
        if issuer and issuer not in trusted and issuer_check is not None and issuer_check["status"] == "fail":
            self._issuer = issuer
            self.trust_button.setText("Trust this issuer")
            self.trust_button.setToolTip(tooltip(f"Trust {issuer} (keys found through its SSF metadata)"))
            self.trust_button.setVisible(True)

    def _trust_clicked(self) -> None:
        if self._issuer:
            self.trust_requested.emit(self._issuer)
