"""Fixtures for the window tests: a private preferences file, a check that no test
leaks a top-level widget, and the real window over the real engine on loopback."""

from __future__ import annotations

import pytest
import httpx
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from peers import PeerIssuer

SET_HEADERS = {"Content-Type": "application/secevent+jwt"}


def pytest_collection_modifyitems(items):
    # The offscreen platform prints this for every window it shows; not our warning.
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                                      "This plugin does not support raise"))


@pytest.fixture(autouse=True)
def private_preferences(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALSCOPE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def no_leaked_widgets(qapp):
    """Fails a test that leaves a top-level widget behind (set up before qtbot, so it
    checks after qtbot has closed the widgets it was given)."""
    before = set(map(id, QApplication.topLevelWidgets()))
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets()
              if id(w) not in before and w.metaObject().className() not in ("QTipLabel",)]
    for widget in leaked:  # clean up so one leak does not fail every later test
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not leaked, f"leaked top-level widgets: {[w.metaObject().className() for w in leaked]}"


@pytest.fixture
def make_window(qtbot, tmp_path):
    from app.ui.main_window import MainWindow

    def make(workspace=None, *, start=True):
        window = MainWindow(workspace or tmp_path / "ws.signalscope")
        qtbot.addWidget(window)
        if start:
            with qtbot.waitSignal(window.engine_started, timeout=10000):
                window.start_engine()
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def peer():
    return PeerIssuer()


@pytest.fixture
def trusted_peer(window, peer):
    """A PyJWT-signing issuer the running engine trusts (inline JWKS)."""
    window.engine_thread.call(lambda e: e.trust_issuer(peer.issuer, jwks=peer.jwks)).result(5)
    return peer


def push(window, body: bytes | str, headers=SET_HEADERS) -> httpx.Response:
    url = window.engine_thread.engine.receiver.url
    return httpx.post(url, content=body, headers=headers, timeout=5)
