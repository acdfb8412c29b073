"""The engine on its own thread: start, call into it, port in use, clean stop."""

import socket

import httpx
import pytest

from app.core.bus import Bus, CaptureStored
from app.core.engine_thread import EngineThread, describe_start_error
from app.core.workspace_settings import ReceiverSettings, load_settings, save_settings_op, engine_options
from app.core.store.schema import connect, open_workspace


@pytest.fixture
def engine_thread():
    thread = EngineThread()
    yield thread
    thread.close()


def test_engine_on_its_thread_captures_and_publishes(engine_thread, tmp_path):
    bus = Bus()
    seen = []
    bus.subscribe(seen.append)
    info = engine_thread.start_engine({"workspace": tmp_path / "ws.signalscope"}, bus).result(10)
    response = httpx.post(info["receiver_url"], content=b'{"a": 1}', headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert [e.capture_id for e in seen if isinstance(e, CaptureStored)] == [1]


def test_call_runs_a_coroutine_with_the_engine(engine_thread, tmp_path):
    engine_thread.start_engine({"workspace": tmp_path / "ws.signalscope"}, Bus()).result(10)

    async def issuers(engine):
        await engine.trust_issuer("https://idp.example.com", jwks={"keys": []})
        return list(engine.trust.issuer_names)

    assert "https://idp.example.com" in engine_thread.call(issuers).result(10)


def test_port_in_use_fails_the_start_with_a_sentence(engine_thread, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        future = engine_thread.start_engine({"workspace": tmp_path / "ws.signalscope", "receiver_port": port}, Bus())
        with pytest.raises(OSError) as info:
            future.result(10)
        message, in_use = describe_start_error(info.value, port)
        assert in_use and str(port) in message
        assert engine_thread.engine is None
    finally:
        busy.close()


def test_close_stops_the_engine_and_the_thread(tmp_path):
    thread = EngineThread()
    info = thread.start_engine({"workspace": tmp_path / "ws.signalscope"}, Bus()).result(10)
    thread.close()
    assert not thread.running
    with pytest.raises(httpx.ConnectError):
        httpx.post(info["receiver_url"], content=b"x")


def test_settings_round_trip_through_the_workspace(tmp_path):
    conn = open_workspace(tmp_path / "ws.signalscope")
    settings = ReceiverSettings(receiver_port=8935, receiver_token="s3cret", audiences=("https://a",), body_limit=4096, theme="dark")
    save_settings_op(settings)(conn)
    loaded = load_settings(connect(tmp_path / "ws.signalscope", readonly=True))
    assert loaded == settings
    assert engine_options(tmp_path, loaded)["receiver_token"] == "s3cret"


def test_unknown_setting_keys_are_kept_and_bad_values_fall_back(tmp_path):
    settings = ReceiverSettings.from_json({"receiver_port": 99999, "theme": "neon", "future": 1})
    assert (settings.receiver_port, settings.theme) == (0, "system")
    assert settings.to_json()["future"] == 1


def test_an_exception_nobody_awaited_is_reported(tmp_path):
    import asyncio
    import threading

    heard = []
    done = threading.Event()
    thread = EngineThread(on_error=lambda text: (heard.append(text), done.set()))
    try:
        async def orphan():
            asyncio.get_running_loop().call_exception_handler({"message": "Task exception was never retrieved",
                                                               "exception": ValueError("lost in a task")})

        thread.submit(orphan()).result(5)
        assert done.wait(5)
        assert "lost in a task" in heard[0]
    finally:
        thread.close()
