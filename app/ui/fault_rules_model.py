"""FaultRulesModel: the receiver's fault rules as an editable table.

Rows are the rules' JSON objects (core `faults` format), so a rule keeps fields the
table has no column for (body, err, header matches, delay, probability) and the
per-rule JSON editor and the table edit the same thing. Validation is the core's
(`faults.parse_rule`); the Action column shows its summary, or its error.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from app.core.faults import FaultRuleError, parse_rule
from app.ui.untrusted import elide, tooltip
from app.ui.table_model import HeaderedTableModel

COL_ON, COL_NAME, COL_PATH, COL_EVENT, COL_STATUS, COL_RETRY_AFTER, COL_TIMES, COL_ACTION = range(8)
HEADERS = ("On", "Name", "Path", "Event type", "Status", "Retry-After", "Times", "Action")
_MATCH = {COL_PATH: "path", COL_EVENT: "event_type"}
_NUMBERS = {COL_STATUS: "status", COL_RETRY_AFTER: "retry_after", COL_TIMES: "times"}


def problem_of(rule: dict, row: int) -> str | None:
    try:
        parse_rule(rule, row)
    except FaultRuleError as exc:
        return str(exc)
    return None


class FaultRulesModel(HeaderedTableModel):
    HEADERS = HEADERS
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rules: list[dict[str, Any]] = []

    def rules(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._rules)

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rules = copy.deepcopy(list(rules))
        self.endResetModel()

    def rule(self, row: int) -> dict[str, Any]:
        return copy.deepcopy(self._rules[row])

    def replace_rule(self, row: int, rule: dict[str, Any]) -> None:
        self._rules[row] = copy.deepcopy(rule)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    # -- Qt model interface ------------------------------------------------------------
    def row_count(self) -> int:
        return len(self._rules)

    def _text(self, rule: dict, column: int, row: int) -> str:
        if column == COL_NAME:
            return str(rule.get("name", ""))
        if column in _MATCH:
            value = (rule.get("match") or {}).get(_MATCH[column])
            return "" if value is None else str(value)
        if column in _NUMBERS:
            value = rule.get(_NUMBERS[column])
            return "" if value is None else str(value)
        if column == COL_ACTION:
            problem = problem_of(rule, row)
            return problem if problem else parse_rule(rule, row).describe()
        return ""

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rules):
            return None
        rule, column, row = self._rules[index.row()], index.column(), index.row()
        if role == Qt.ItemDataRole.CheckStateRole and column == COL_ON:
            return Qt.CheckState.Checked if rule.get("enabled", True) else Qt.CheckState.Unchecked
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole) and column != COL_ON:
            text = self._text(rule, column, row)
            return elide(text) if role == Qt.ItemDataRole.DisplayRole else text
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_ACTION:
            return tooltip(self._text(rule, column, row))
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_ACTION and problem_of(rule, row):
            return QColor("#d2372c")
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if index.column() == COL_ON:
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() != COL_ACTION:
            return flags | Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not 0 <= index.row() < len(self._rules):
            return False
        rule, column = self._rules[index.row()], index.column()
        if column == COL_ON and role == Qt.ItemDataRole.CheckStateRole:
            rule["enabled"] = Qt.CheckState(value) == Qt.CheckState.Checked
        elif role != Qt.ItemDataRole.EditRole or column in (COL_ON, COL_ACTION):
            return False
        elif column == COL_NAME:
            rule["name"] = str(value).strip()
        elif column in _MATCH:
            match = dict(rule.get("match") or {})
            text = str(value).strip()
            match.pop(_MATCH[column], None) if not text else match.__setitem__(_MATCH[column], text)
            rule["match"] = match
            if not match:
                rule.pop("match")
        else:
            text = str(value).strip()
            if not text:
                rule.pop(_NUMBERS[column], None)
            elif text.isdigit():
                rule[_NUMBERS[column]] = int(text)
            else:
                return False
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), len(HEADERS) - 1))
        return True

    # -- rows --------------------------------------------------------------------------
    def add_rule(self, rule: dict[str, Any] | None = None) -> int:
        names = {r.get("name") for r in self._rules}
        n = len(self._rules) + 1
        while f"rule {n}" in names:
            n += 1
        row = len(self._rules)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rules.append(copy.deepcopy(rule) if rule else {"name": f"rule {n}", "enabled": True, "status": 503})
        self.endInsertRows()
        return row

    def remove_rule(self, row: int) -> None:
        if 0 <= row < len(self._rules):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rules[row]
            self.endRemoveRows()

    def move_rule(self, row: int, step: int) -> int:
        """Move a rule up (-1) or down (+1); its new row."""
        target = row + step
        if not (0 <= row < len(self._rules) and 0 <= target < len(self._rules)) or step not in (-1, 1):
            return row
        # beginMoveRows wants the destination as "insert before this row" in the old numbering
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), target + 1 if step > 0 else target)
        self._rules.insert(target, self._rules.pop(row))
        self.endMoveRows()
        return target
