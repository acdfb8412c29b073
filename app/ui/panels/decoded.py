"""DecodedPanel: the SET as decoded — JOSE header, claims (times as ISO dates), each
event with its catalogue description, the subject by format — as a tree, and the
raw JSON beside it. A webhook's JSON body shows as a tree too."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QVBoxLayout, QWidget

from app.core.capture_details import Node, body_view, event_nodes, json_nodes, subject_node
from app.ui.panels.json_tree import NodeTree


class DecodedPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = NodeTree(self)
        self.raw = QPlainTextEdit(self)
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.tree, "Tree")
        self.tabs.addTab(self.raw, "Raw JSON")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def show_capture(self, capture: dict | None) -> None:
        if capture is None:
            self.tree.clear()
            self.raw.setPlainText("")
            return
        header, claims = capture.get("set_header"), capture.get("set_claims")
        sections: list[tuple[str, list[Node]]] = []
        if header is not None or claims is not None:
            if header is not None:
                sections.append(("JOSE header", json_nodes(header).children))
            if isinstance(claims, dict):
                plain = {k: v for k, v in claims.items() if k not in ("events", "sub_id")}  # both have sections
                sections.append(("Claims", json_nodes(plain).children))
                events = event_nodes(claims)
                if events:
                    sections.append(("Events", events))
                subject = subject_node(claims.get("sub_id"))
                legacy = [subject_node(p.get("subject")) for p in (claims.get("events") or {}).values()
                          if isinstance(p, dict) and isinstance(p.get("subject"), dict)] \
                    if isinstance(claims.get("events"), dict) else []
                nodes = [n for n in [subject, *legacy] if n is not None]
                if nodes:
                    sections.append(("Subject", nodes))
            raw = {"header": header, "claims": claims}
            self.raw.setPlainText(json.dumps(raw, indent=2, ensure_ascii=False))
        else:
            view = body_view(capture.get("body") or b"", truncated=capture.get("body_truncated", False))
            if view.mode == "json":
                value = json.loads(view.text)
                sections.append(("Body", json_nodes(value).children if isinstance(value, (dict, list)) else [json_nodes(value, "value")]))
            else:
                sections.append(("Body", [Node("body", f"not JSON ({view.mode})")]))
            self.raw.setPlainText(view.text)
        self.tree.show_sections(sections)
