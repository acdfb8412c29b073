"""The window over the real engine on loopback: SETs signed by PyJWT appear as rows,
the panels show them, filters run in the store, the workspace reopens the same."""

import json
import time

from PySide6.QtCore import Qt

from app.core.catalogue import default_catalogue
from app.ui.capture_model import COL_KIND, COL_STATUS, COL_VERDICT
from app.ui.icons import status_icon
from conftest import push
from peers import SESSION_REVOKED


def rows(window):
    model = window.model
    return [(model.data(model.index(r, COL_KIND)), model.data(model.index(r, COL_VERDICT)),
             model.data(model.index(r, COL_STATUS))) for r in range(model.rowCount())]


def test_pushed_sets_appear_as_rows_with_verdicts_and_icons(window, trusted_peer, qtbot):
    assert push(window, trusted_peer.set()).status_code == 202
    assert push(window, trusted_peer.set(iss="https://unknown.example.com")).status_code == 400
    assert push(window, b'{"type": "invoice.paid"}', {"Content-Type": "application/json"}).status_code == 200
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert rows(window) == [("SET", "valid", "202"), ("SET", "unverified", "400"), ("webhook", "unverified", "200")]
    icon = window.model.data(window.model.index(0, COL_VERDICT), Qt.ItemDataRole.DecorationRole)
    assert icon.cacheKey() == status_icon("valid").cacheKey()


def test_selecting_a_set_fills_the_three_panels(window, trusted_peer, qtbot):
    now = int(time.time())
    push(window, trusted_peer.sign(trusted_peer.claims(iat=now)))
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    with qtbot.waitSignal(window.capture_shown, timeout=2000):
        window.select_row(0)
    tree = window.decoded.tree
    sections = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    assert set(sections) >= {"JOSE header", "Claims", "Events", "Subject"}
    claims = sections["Claims"]
    iat = next(claims.child(i) for i in range(claims.childCount()) if claims.child(i).text(0) == "iat")
    assert iat.text(1) == str(now) and iat.text(2).startswith(time.strftime("%Y-%m-%dT", time.gmtime(now)))
    event = sections["Events"].child(0)
    known = default_catalogue().lookup(SESSION_REVOKED)
    assert (event.text(0), event.text(1), event.text(2)) == (SESSION_REVOKED, known.title, known.description)
    assert json.loads(window.decoded.raw.toPlainText())["claims"]["iss"] == trusted_peer.issuer
    checks = window.verification.checks
    names = [checks.topLevelItem(i).text(0) for i in range(checks.topLevelItemCount())]
    assert names[:3] == ["content_type", "jws_parse", "alg"] and "signature" in names
    signature = checks.topLevelItem(names.index("signature"))
    assert signature.text(1) == "pass" and signature.icon(1).cacheKey() == status_icon("pass").cacheKey()
    assert window.verification.answer.text().startswith("Answered 202")
    request = window.raw_http.request.toPlainText()
    assert request.startswith("POST /events HTTP/1.1") and "header:    " in request and "signature: " in request
    assert window.raw_http.response.toPlainText().startswith("HTTP/1.1 202")


def test_filters_run_in_the_store(window, trusted_peer, qtbot):
    push(window, trusted_peer.set())
    push(window, trusted_peer.set(iss="https://unknown.example.com"))
    push(window, b'{"needle": "findme-unique"}', {"Content-Type": "application/json"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.filter_bar.verdict.setCurrentText("valid")
    window.filter_bar.apply()
    assert rows(window) == [("SET", "valid", "202")]
    window.filter_bar.verdict.setCurrentText("Any")
    window.filter_bar.text.setText("findme")
    window.filter_bar.apply()
    assert rows(window) == [("webhook", "unverified", "200")]
    window.filter_bar.text.clear()
    window.filter_bar.kind.setCurrentText("SET")
    window.filter_bar.issuer.setCurrentText("https://unknown.example.com")
    window.filter_bar.apply()
    assert rows(window) == [("SET", "unverified", "400")]


def test_selection_is_kept_when_rows_arrive(window, trusted_peer, qtbot):
    push(window, trusted_peer.set())
    push(window, trusted_peer.set())
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    window.select_row(0)
    first = window.model.capture_id(window.table.currentIndex())
    for _ in range(5):
        push(window, trusted_peer.set())
    qtbot.waitUntil(lambda: window.model.rowCount() == 7, timeout=5000)
    assert window.model.capture_id(window.table.currentIndex()) == first
    assert len(window.table.selectionModel().selectedRows()) == 1


def test_reopening_the_workspace_shows_the_same_captures(make_window, tmp_path, qtbot, peer):
    window = make_window()
    window.engine_thread.call(lambda e: e.trust_issuer(peer.issuer, jwks=peer.jwks)).result(5)
    push(window, peer.set())
    push(window, b"plain", {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)
    before = rows(window)
    window.close()
    again = make_window(start=False)
    assert rows(again) == before


def test_status_bar_shows_the_url_and_live_counts(window, trusted_peer, qtbot):
    assert window.status.url.text() == window.engine_thread.engine.receiver.url
    push(window, trusted_peer.set())
    push(window, b"", {"Content-Type": "text/plain"})  # 400: a failure
    qtbot.waitUntil(lambda: window.status.counts.text() == "2 requests · 1 failures", timeout=5000)


def test_keyboard_moves_through_the_list_and_ctrl_f_focuses_the_filter(window, trusted_peer, qtbot):
    for _ in range(3):
        push(window, trusted_peer.set())
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.show()
    window.select_row(0)
    window.table.setFocus()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    assert window.table.currentIndex().row() == 1
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.focusWidget() is window.filter_bar.text


def test_closing_the_window_stops_the_engine(window, trusted_peer):
    thread = window.engine_thread
    url = thread.engine.receiver.url
    window.close()
    assert not thread.running
    import httpx
    import pytest

    with pytest.raises(httpx.ConnectError):
        httpx.post(url, content=b"x", timeout=2)


def test_status_bar_shows_the_simulator_when_the_engine_has_one(window):
    info = window.engine_thread.engine.ready_info()
    if info.get("transmitter_url"):
        assert window.status.transmitter.text() == f"Simulator: {info['transmitter_url']}"
        assert window.status.transmitter.isVisibleTo(window.status)
    else:
        assert not window.status.transmitter.isVisibleTo(window.status)


def test_a_workspace_with_gaps_in_its_ids_is_listed_exactly(make_window, tmp_path, qtbot, monkeypatch):
    from app.core.store.schema import connect
    from app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "DENSITY_CHECK_DELAY_MS", 0)

    window = make_window()
    for body in (b"one", b"two", b"three"):
        push(window, body, {"Content-Type": "text/plain"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    window.close()
    conn = connect(tmp_path / "ws.signalscope")
    conn.execute("DELETE FROM captures WHERE id = 2")
    conn.close()
    again = make_window(start=False)
    qtbot.waitUntil(lambda: again.model.rowCount() == 2, timeout=5000)
    assert [again.model.capture_id(again.model.index(r, 0)) for r in range(2)] == [1, 3]
