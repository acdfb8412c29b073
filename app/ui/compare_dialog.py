"""Compare two captures side by side: request basics, headers by name, and the
decoded SET header and claims member by member (core `compare_captures`).

Each difference is a row: where (header name or claim path), what changed
(added / removed / changed, also colour-coded), the value in A and in B. All of
it is plain text in a QTreeWidget (values that came over the network are never
rendered; tooltips are escaped).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from app.ui.untrusted import elide, plain_label, tooltip

CHANGE_COLOURS = {"added": "#2e9d4f", "removed": "#d2372c", "changed": "#d98c00"}  # the status icons' colours
SECTIONS = (("Request", "request"), ("Headers", "headers"), ("JOSE header", "set_header"), ("Claims", "claims"))
COL_WHERE, COL_CHANGE, COL_A, COL_B = range(4)


def value_text(difference: dict[str, Any], side: str) -> str:
    if side not in difference:
        return ""
    value = difference[side]
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def where_text(difference: dict[str, Any]) -> str:
    return " › ".join(str(p) for p in difference["path"]) or "(whole value)"


class CompareDialog(QDialog):
    def __init__(self, a: dict[str, Any], b: dict[str, Any], parent=None):
        super().__init__(parent)
        from app.core.compare import compare_captures

        self.setWindowTitle(f"Compare capture #{a['id']} with #{b['id']}")
        self.resize(900, 560)
        self.result = compare_captures(a, b)
        counts = {k: len(self.result[k]) for _, k in SECTIONS}
        summary = ("The two captures carry the same request, headers and decoded SET." if self.result["same"] else
                   f"A = #{a['id']} ({a['method']} {a['path']}), B = #{b['id']} ({b['method']} {b['path']}): "
                   + ", ".join(f"{n} {title.lower()}" for (title, key), n in zip(SECTIONS, counts.values()) if n)
                   + " differences")
        self.summary = plain_label(elide(summary, 400), self)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Where", "Change", f"A (#{a['id']})", f"B (#{b['id']})"])
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((COL_WHERE, 240), (COL_CHANGE, 80), (COL_A, 260)):
            self.tree.setColumnWidth(column, width)
        for title, key in SECTIONS:
            differences = self.result[key]
            section = QTreeWidgetItem(self.tree, [f"{title} ({len(differences)})", "", "", ""])
            for difference in differences:
                self._row(section, difference)
            section.setExpanded(bool(differences))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def _row(self, section: QTreeWidgetItem, difference: dict[str, Any]) -> QTreeWidgetItem:
        texts = [where_text(difference), difference["change"], value_text(difference, "a"), value_text(difference, "b")]
        item = QTreeWidgetItem(section, [elide(t) for t in texts])
        brush = QBrush(QColor(CHANGE_COLOURS[difference["change"]]))
        for column in (COL_WHERE, COL_CHANGE):
            item.setForeground(column, brush)
        for column, text in enumerate(texts):
            if len(text) > 60:
                item.setToolTip(column, tooltip(text))
        return item

    def section(self, key: str) -> QTreeWidgetItem:
        return self.tree.topLevelItem([k for _, k in SECTIONS].index(key))
