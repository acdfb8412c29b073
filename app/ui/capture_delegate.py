"""CaptureRowDelegate: paints the capture list's cells from the model's cached row.

Why: Qt's default delegate asks the model for ~7 roles per cell, each a call from
C++ into Python that must take the GIL, which the engine thread holds most of the
time while it ingests; at ~160 visible cells that is ~1,100 hand-overs per repaint.
This delegate makes one call per cell and hands the style a filled option.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui.capture_model import COL_VERDICT
from app.ui.icons import status_icon


class CaptureRowDelegate(QStyledItemDelegate):
    _features = None  # (HasDisplay, HasDecoration), looked up on first paint: PySide builds enums lazily

    def paint(self, painter, option, index) -> None:
        if CaptureRowDelegate._features is None:
            features = QStyleOptionViewItem.ViewItemFeature
            CaptureRowDelegate._features = (features.HasDisplay, features.HasDecoration)
        has_text, has_icon = CaptureRowDelegate._features
        model = index.model()
        try:
            cells, verdict = model.row_cells(index.row())
        except (IndexError, AttributeError):
            return super().paint(painter, option, index)
        opt = QStyleOptionViewItem(option)
        opt.text = cells[index.column()]
        opt.features |= has_text
        if index.column() == COL_VERDICT:
            opt.icon = status_icon(verdict)
            opt.features |= has_icon
        widget = option.widget
        (widget.style() if widget is not None else QApplication.style()).drawControl(
            QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
