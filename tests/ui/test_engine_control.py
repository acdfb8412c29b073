"""The window in charge of the engine: a port in use, settings, trusting an issuer,
errors shown in the window."""

import socket
import sys
import threading
import time


from app.core.store.schema import connect
from app.core.workspace_settings import load_settings
from app.ui.bridge import EngineBridge
from app.ui.launch import install_error_hooks
from app.ui.platform_check import platform_problem, missing_packages
from conftest import push


def test_a_port_in_use_is_reported_in_the_window_with_a_way_out(make_window, qtbot):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        window = make_window(start=False)
        window.settings.receiver_port = port
        window.start_engine()
        qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=5000)
        assert f"Port {port} is already in use" in window.error_bar.message.text()
        assert window.error_bar.action.text() == "Use another port…"
        with qtbot.waitSignal(window.engine_started, timeout=10000):
            window.apply_settings(type(window.settings)(receiver_port=0))
        assert window.status.state.text() == "Listening"
    finally:
        busy.close()


def test_settings_are_saved_in_the_workspace_and_applied(window, qtbot, peer):
    from dataclasses import replace

    with qtbot.waitSignal(window.engine_started, timeout=10000):
        window.apply_settings(replace(window.settings, receiver_token="s3cret", audiences=("https://rx.example",)))
    assert push(window, peer.set()).status_code == 401
    saved = load_settings(connect(window.workspace, readonly=True))
    assert saved.receiver_token == "s3cret" and saved.audiences == ("https://rx.example",)


def test_the_chosen_port_is_kept_for_the_next_run(window, qtbot):
    port = window.engine_thread.engine.receiver.port
    qtbot.waitUntil(lambda: load_settings(connect(window.workspace, readonly=True)).receiver_port == port, timeout=5000)


def test_the_simulators_port_is_kept_so_its_issuer_stays_the_same(window, qtbot):
    port = window.engine_thread.engine.transmitter_server.port
    qtbot.waitUntil(lambda: load_settings(connect(window.workspace, readonly=True)).transmitter_port == port,
                    timeout=5000)
    assert window.settings.transmitter_port == port


def test_a_kept_simulator_port_in_use_falls_back_to_a_free_one_and_says_so(make_window, qtbot):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        window = make_window(start=False)
        window.settings.transmitter_port = port
        with qtbot.waitSignal(window.engine_started, timeout=10000) as started:
            window.start_engine()
        assert f":{port}" not in started.args[0]["transmitter_url"]
        qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=5000)
        assert f"port {port} is in use" in window.error_bar.message.text()
        assert window.status.state.text() == "Listening"
    finally:
        busy.close()


def test_trust_this_issuer_appears_for_an_unknown_issuer_and_trusts_it(window, qtbot):
    from peers import PeerIssuer

    peer = PeerIssuer(issuer="http://127.0.0.1:9/idp")  # nothing listens there: discovery fails at once
    push(window, peer.set())
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.select_row(0)
    assert window.verification.trust_button.isVisibleTo(window.verification)
    # no metadata server for this issuer: discovery fails, and the failure shows in the window
    window.verification.trust_button.click()
    qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=10000)
    assert peer.issuer in window.error_bar.message.text()
    assert peer.issuer in window.engine_thread.engine.trust.issuer_names
    qtbot.waitUntil(lambda: not window.verification.trust_button.isVisibleTo(window.verification), timeout=5000)


def test_an_exception_in_a_slot_shows_in_the_error_bar(window, qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_error_hooks(window)
    try:
        raise ValueError("boom in a slot")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=2000)
    assert "boom in a slot" in window.error_bar.message.text()


def test_the_bridge_batches_a_burst_into_few_deliveries(qtbot):
    from app.core.bus import CaptureStored

    bridge = EngineBridge()
    batches = []
    bridge.captures_stored.connect(batches.append)

    def burst():
        for i in range(2000):
            bridge.publish(CaptureStored(i, "set", "valid", 202))

    thread = threading.Thread(target=burst)
    started = time.perf_counter()
    thread.start()
    thread.join()
    took = time.perf_counter() - started
    qtbot.waitUntil(lambda: sum(map(len, batches)) == 2000, timeout=3000)
    assert len(batches) <= int(took / 0.05) + 2  # one delivery per 50 ms at most
    bridge.deleteLater()


def test_missing_xcb_libraries_give_the_apt_get_line(monkeypatch):
    assert missing_packages({"libdefinitely-not-here.so.9": "libnot-here9"}) == ["libnot-here9"]
    monkeypatch.setattr("app.ui.platform_check.missing_packages", lambda: ["libxcb-cursor0", "libxkbcommon-x11-0"])
    message = platform_problem({"DISPLAY": ":0"})
    assert "sudo apt-get install -y libxcb-cursor0 libxkbcommon-x11-0" in message
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_bridge_slows_down_while_batches_are_big(qtbot):
    from app.core.bus import CaptureStored
    from app.ui.bridge import BATCH_MS, BUSY_BATCH, BUSY_BATCH_MS

    bridge = EngineBridge()
    for i in range(BUSY_BATCH):
        bridge.publish(CaptureStored(i, "set", "valid", 202))
    bridge.drain()
    assert bridge._timer.interval() == BUSY_BATCH_MS
    bridge.publish(CaptureStored(0, "set", "valid", 202))
    bridge.drain()
    assert bridge._timer.interval() == BATCH_MS
    bridge.deleteLater()


def test_an_error_on_the_engine_loop_shows_in_the_error_bar(window, qtbot):
    import asyncio

    async def orphan():
        asyncio.get_running_loop().call_exception_handler({"message": "boom on the engine loop",
                                                           "exception": RuntimeError("engine task broke")})

    window.engine_thread.submit(orphan()).result(5)
    qtbot.waitUntil(lambda: window.error_bar.isVisibleTo(window), timeout=3000)
    assert "engine task broke" in window.error_bar.message.text()
