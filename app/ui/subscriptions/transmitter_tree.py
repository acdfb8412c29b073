"""The transmitters known to the workspace, each with its streams, as a small tree.

A `QStandardItemModel`: the tree is small and rebuilt whole from one listing (the
transmitter's read-all), not a live feed. Everything in it came from a transmitter
and is shown as plain text (item text is never rich text; tooltips are escaped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from app.ui.untrusted import tooltip

COL_NAME, COL_DELIVERY, COL_DESCRIPTION = range(3)
HEADERS = ("Transmitter / stream", "Delivery", "Description")


class TreeRole(IntEnum):
    KIND = Qt.ItemDataRole.UserRole + 1  # "transmitter" | "stream" | "problem"
    ISSUER = Qt.ItemDataRole.UserRole + 2
    STREAM_ID = Qt.ItemDataRole.UserRole + 3


@dataclass
class TransmitterListing:
    """What one refresh learnt about a transmitter (built on the engine thread)."""

    issuer: str
    builtin: bool
    auth: dict[str, Any]
    location: str = ""  # which well-known location answered
    metadata_url: str = ""
    notes: list[str] = field(default_factory=list)  # metadata validation messages
    streams: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""  # discovery or listing failed: why
    events_supported: list[str] = field(default_factory=list)  # for a new stream's checklist


def mode_of(config: dict[str, Any]) -> str:
    method = str((config.get("delivery") or {}).get("method", ""))
    return {"urn:ietf:rfc:8935": "push", "urn:ietf:rfc:8936": "poll"}.get(method, method or "?")


class TransmitterTreeModel(QStandardItemModel):
    def __init__(self, parent=None):
        super().__init__(0, len(HEADERS), parent)
        self.setHorizontalHeaderLabels(list(HEADERS))
        self.listings: dict[str, TransmitterListing] = {}

    def set_listings(self, listings: list[TransmitterListing]) -> None:
        self.removeRows(0, self.rowCount())
        self.listings = {t.issuer: t for t in listings}
        for t in listings:
            name = f"{t.issuer} (built-in simulator)" if t.builtin else t.issuer
            auth = t.auth.get("kind", "none")
            row = self._row(name, f"auth: {auth}", t.location, kind="transmitter", issuer=t.issuer)
            row[0].setToolTip(tooltip("\n".join([t.issuer, t.metadata_url, *t.notes])))
            if t.problem:
                problem = self._row(t.problem, "", "", kind="problem", issuer=t.issuer)
                problem[0].setToolTip(tooltip(t.problem))
                row[0].appendRow(problem)
            for config in t.streams:
                stream_id = str(config.get("stream_id", "?"))
                endpoint = str((config.get("delivery") or {}).get("endpoint_url", ""))
                child = self._row(stream_id, f"{mode_of(config)} {endpoint}".strip(),
                                  str(config.get("description") or ""), kind="stream", issuer=t.issuer)
                child[0].setData(stream_id, TreeRole.STREAM_ID)
                child[1].setToolTip(tooltip(endpoint))
                row[0].appendRow(child)
            self.appendRow(row)

    def _row(self, *texts: str, kind: str, issuer: str) -> list[QStandardItem]:
        items = []
        for text in texts:
            item = QStandardItem(text)
            item.setEditable(False)
            item.setData(kind, TreeRole.KIND)
            item.setData(issuer, TreeRole.ISSUER)
            items.append(item)
        return items

    def config(self, issuer: str, stream_id: str) -> dict[str, Any] | None:
        listing = self.listings.get(issuer)
        for config in listing.streams if listing else ():
            if config.get("stream_id") == stream_id:
                return config
        return None

    def find_stream(self, stream_id: str) -> QModelIndex:
        for r in range(self.rowCount()):
            parent = self.item(r, 0)
            for c in range(parent.rowCount()):
                child = parent.child(c, 0)
                if child.data(TreeRole.STREAM_ID) == stream_id:
                    return child.index()
        return QModelIndex()

    def find_transmitter(self, issuer: str) -> QModelIndex:
        for r in range(self.rowCount()):
            if self.item(r, 0).data(TreeRole.ISSUER) == issuer:
                return self.item(r, 0).index()
        return QModelIndex()
