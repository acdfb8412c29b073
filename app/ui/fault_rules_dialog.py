"""FaultRulesTable: edit the receiver's fault rules and apply them to the running
engine. A table (enable toggles, name, match, status, Retry-After, times; add,
remove, reorder) plus a JSON editor for the selected rule's every field. "Apply"
validates with the core (`FaultRules.from_json`): a FaultRuleError shows its
sentence under the table; good rules go up by `rules_applied`, and the window hands
them to `engine.set_fault_rules` (live for the next request, and saved)."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QPlainTextEdit,
                               QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from app.core.faults import FaultRuleError, FaultRules
from app.ui.fault_rules_model import COL_NAME, FaultRulesModel
from app.ui.untrusted import plain_label


class FaultRulesTable(QDialog):
    rules_applied = Signal(object)  # FaultRules

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Receiver fault rules")
        self.resize(1060, 540)  # the table's columns (up to Times and Action) fit without scrolling
        self.model = FaultRulesModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((36, 130, 100, 130, 60, 80, 60)):
            self.table.setColumnWidth(column, width)
        self.add_button = QPushButton("Add", self)
        self.remove_button = QPushButton("Remove", self)
        self.up_button = QPushButton("Move up", self)
        self.down_button = QPushButton("Move down", self)
        row_buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            row_buttons.addWidget(button)
        row_buttons.addStretch(1)

        self.editor = QPlainTextEdit(self)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText('{"name": "flaky", "match": {"path": "/events*"}, "status": 503, "times": 2}')
        self.use_json = QPushButton("Use this JSON for the rule", self)
        editor_box = QWidget(self)
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(plain_label("The selected rule, every field (body, err, header match, delay_ms, close,"
                                            " probability):", self, selectable=False))
        editor_layout.addWidget(self.editor, 1)
        editor_layout.addWidget(self.use_json)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(editor_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 340])

        self.error = plain_label("", self)
        self.error.setStyleSheet("color: #d2372c")
        self.status = plain_label("", self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close, self)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        layout = QVBoxLayout(self)
        layout.addLayout(row_buttons)
        layout.addWidget(split, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.add_button.clicked.connect(self.add_rule)
        self.remove_button.clicked.connect(self.remove_rule)
        self.up_button.clicked.connect(self.move_up)
        self.down_button.clicked.connect(self.move_down)
        self.use_json.clicked.connect(self.use_editor_json)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.dataChanged.connect(self._rule_edited)

    # -- content -------------------------------------------------------------------------
    def set_rules(self, rules: list[dict]) -> None:
        self.model.set_rules(rules)
        self.error.setText("")
        self.status.setText("")
        if self.model.rowCount():
            self.select(0)
        else:
            self.editor.setPlainText("")

    def current_row(self) -> int:
        return self.table.currentIndex().row()

    def select(self, row: int) -> None:
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, COL_NAME),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = current.row()
        self.editor.setPlainText(json.dumps(self.model.rule(row), indent=2) if 0 <= row < self.model.rowCount() else "")

    def _rule_edited(self, top_left: QModelIndex, bottom_right: QModelIndex, roles=()) -> None:
        row = self.current_row()
        if top_left.row() <= row <= bottom_right.row():
            self.editor.setPlainText(json.dumps(self.model.rule(row), indent=2))
        self.status.setText("Not applied yet.")

    # -- rows --------------------------------------------------------------------------------
    def add_rule(self) -> None:
        self.select(self.model.add_rule())
        self.status.setText("Not applied yet.")

    def remove_rule(self) -> None:
        row = self.current_row()
        self.model.remove_rule(row)
        if self.model.rowCount():
            self.select(min(row, self.model.rowCount() - 1))
        self.status.setText("Not applied yet.")

    def move_up(self) -> None:
        self.select(self.model.move_rule(self.current_row(), -1))

    def move_down(self) -> None:
        self.select(self.model.move_rule(self.current_row(), 1))

    def use_editor_json(self) -> None:
        row = self.current_row()
        if row < 0:
            return
        try:
            rule = json.loads(self.editor.toPlainText())
        except json.JSONDecodeError as exc:
            self.error.setText(f"The rule's JSON does not parse: line {exc.lineno} column {exc.colno}: {exc.msg}")
            return
        if not isinstance(rule, dict):
            self.error.setText("A rule is a JSON object.")
            return
        self.error.setText("")
        self.model.replace_rule(row, rule)

    # -- applying ---------------------------------------------------------------------------------
    def apply(self) -> FaultRules | None:
        try:
            rules = FaultRules.from_json(self.model.rules())
        except FaultRuleError as exc:
            self.error.setText(str(exc))
            self.status.setText("Not applied.")
            return None
        self.error.setText("")
        self.status.setText("Applying…")
        self.rules_applied.emit(rules)
        return rules

    def applied(self, _result=None) -> None:
        self.status.setText(f"Applied: the receiver answers the next request with these {self.model.rowCount()} rule(s).")

    def apply_failed(self, error: BaseException) -> None:
        self.error.setText(f"Could not apply the rules: {error}")
        self.status.setText("Not applied.")
