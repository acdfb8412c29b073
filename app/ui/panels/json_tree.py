"""NodeTree: a tree of core `Node`s (JSON and decoded claims) with copy of any value.

Ctrl+C (or the context menu) copies the current line's value: the text of a
leaf, the JSON of a container. Every cell is set with `setText`, which a
QTreeWidget never renders as rich text; tooltips are escaped.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from app.core.capture_details import Node
from app.ui.untrusted import elide, tooltip

RAW_ROLE = Qt.ItemDataRole.UserRole


class NodeTree(QTreeWidget):
    def __init__(self, parent=None, *, headers=("Name", "Value", "Note")):
        super().__init__(parent)
        self.setColumnCount(len(headers))
        self.setHeaderLabels(list(headers))
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.header().setStretchLastSection(True)
        copy = QAction("Copy value", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_current)
        self.addAction(copy)
        copy_json = QAction("Copy as JSON", self)
        copy_json.triggered.connect(self.copy_current_json)
        self.addAction(copy_json)

    def show_sections(self, sections: list[tuple[str, list[Node]]]) -> None:
        """Top-level sections (e.g. 'JOSE header'), each holding nodes."""
        self.clear()
        for title, nodes in sections:
            top = QTreeWidgetItem(self, [title])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setFirstColumnSpanned(True)
            for node in nodes:
                self._add(top, node)
            top.setExpanded(True)
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(1)
        self.setColumnWidth(0, min(self.columnWidth(0), 360))
        self.setColumnWidth(1, min(self.columnWidth(1), 420))

    def _add(self, parent: QTreeWidgetItem, node: Node) -> None:
        item = QTreeWidgetItem(parent, [elide(node.key, 200), elide(node.value), elide(node.note)])
        item.setData(0, RAW_ROLE, node.raw)
        if node.value and len(node.value) > 60 or "\n" in node.value:
            item.setToolTip(1, tooltip(node.value))
        if node.note:
            item.setToolTip(2, tooltip(node.note))
        for child in node.children:
            self._add(item, child)
        if node.children and len(node.children) <= 20:
            item.setExpanded(True)

    def current_value(self) -> str:
        item = self.currentItem()
        if item is None:
            return ""
        raw = item.data(0, RAW_ROLE)
        if raw is None:
            return item.text(1) or item.text(0)
        return raw if isinstance(raw, str) else json.dumps(raw, indent=2, ensure_ascii=False)

    def copy_current(self) -> None:
        QGuiApplication.clipboard().setText(self.current_value())

    def copy_current_json(self) -> None:
        item = self.currentItem()
        if item is not None:
            QGuiApplication.clipboard().setText(json.dumps(item.data(0, RAW_ROLE), indent=2, ensure_ascii=False))
