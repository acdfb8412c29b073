"""Hypothesis throws arbitrary bodies, headers and paths at a live receiver:
never a 5xx, every request captured, the server still answers afterwards."""

import asyncio
import socket
import sqlite3
import threading

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app.core.engine import Engine, EngineConfig


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory):
    loop = asyncio.new_event_loop()
    engine = Engine(EngineConfig(workspace=tmp_path_factory.mktemp("fuzz") / "ws.signalscope", body_limit=4096))
    started = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(engine.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield engine
    asyncio.run_coroutine_threadsafe(engine.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def count(engine) -> int:
    return sqlite3.connect(engine.config.workspace).execute("SELECT count(*) FROM captures").fetchone()[0]


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip)
CONTENT_TYPES = st.sampled_from(["application/secevent+jwt", "application/jwt", "application/json", "text/plain",
                                 "application/x-www-form-urlencoded", "application/octet-stream", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=6000) | st.text(max_size=300).map(str.encode),
       content_type=CONTENT_TYPES,
       headers=st.dictionaries(TOKEN.map(lambda t: "X-" + t), HEADER_VALUE, max_size=5),
       path=st.lists(TOKEN, max_size=3).map(lambda parts: "/" + "/".join(parts)),
       method=st.sampled_from(["POST", "POST", "POST", "PUT", "GET", "DELETE", "PATCH"]))
def test_arbitrary_requests_never_5xx_and_always_captured(live_engine, body, content_type, headers, path, method):
    before = count(live_engine)
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    url = live_engine.receiver.base_url + path
    response = httpx.request(method, url, content=body if method != "GET" else None, headers=headers, timeout=10)
    assert response.status_code < 500
    assert count(live_engine) == before + 1


def test_garbage_on_the_socket_does_not_break_the_server(live_engine):
    for junk in [b"\x00\xff" * 100, b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"GET /\r\n\r\n" * 3]:
        with socket.create_connection(("127.0.0.1", live_engine.receiver.port), timeout=5) as sock:
            sock.sendall(junk)
            sock.shutdown(socket.SHUT_WR)
            try:
                sock.recv(1024)
            except OSError:
                pass
    response = httpx.post(live_engine.receiver.url, content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
