"""Text from the network shows as the characters received: labels, tooltips, text views."""

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt, QTextDocument

from app.ui.untrusted import plain_label, tooltip
from conftest import push

HOSTILE = "<b>x</b><img src=http://127.0.0.1:1/x>"


def rendered(tip: str) -> str:
    """What a tooltip shows: Qt renders it as rich text when it looks like HTML."""
    doc = QTextDocument()
    doc.setHtml(tip) if GuiQt.mightBeRichText(tip) else doc.setPlainText(tip)
    return doc.toPlainText()


def test_a_hostile_claim_shows_literally_in_every_panel(window, trusted_peer, qtbot):
    token = trusted_peer.sign(trusted_peer.claims(txn=HOSTILE, sub_id={"format": "opaque", "id": HOSTILE}))
    push(window, token, {"Content-Type": "application/secevent+jwt", "X-Note": HOSTILE})
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    with qtbot.waitSignal(window.capture_shown, timeout=2000):
        window.select_row(0)
    tree = window.decoded.tree
    claims = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "Claims")
    txn = next(claims.child(i) for i in range(claims.childCount()) if claims.child(i).text(0) == "txn")
    assert txn.text(1) == HOSTILE
    assert HOSTILE in window.decoded.raw.toPlainText().replace("\\u003c", "<")
    assert f"X-Note: {HOSTILE}" in window.raw_http.request.toPlainText()
    subject_cell = window.model.data(window.model.index(0, 4), Qt.ItemDataRole.ToolTipRole)
    assert HOSTILE in rendered(subject_cell)
    for label in (window.verification.verdict, window.verification.answer, window.status.url):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_labels_keep_markup_as_characters():
    label = plain_label(HOSTILE)
    assert label.textFormat() == Qt.TextFormat.PlainText and label.text() == HOSTILE
    label.deleteLater()


def test_tooltips_render_to_the_exact_characters():
    tip = tooltip(HOSTILE + "\nsecond line")
    assert rendered(tip) == HOSTILE + "\nsecond line"
    assert "<img" not in tip and "<b>" not in tip
