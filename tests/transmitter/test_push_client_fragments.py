"""The push client's response parser does not depend on how the bytes are cut into packets.

A property test drives `_Connection` with a fake transport: each valid response is fed in
one piece and split at arbitrary points, and both must give the same status, headers, body
excerpt and the same keep-alive decision. One real-socket test delivers a response a few
bytes at a time through the loopback interface."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.transmitter.push_client import PushClient, _Connection

EXCERPT = 64


class FakeTransport:
    def __init__(self):
        self.written = bytearray()
        self.closed = False

    def write(self, data):
        self.written += data

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True


@st.composite
def responses(draw):
    """(response bytes, head_only, ends with the connection, expected (status, headers, body), reusable)."""
    kind = draw(st.sampled_from(["length", "chunked", "chunked", "chunked", "continue", "204", "close",
                                 "conn-close", "head"]))
    body = draw(st.binary(max_size=200))
    extra = draw(st.lists(st.tuples(st.sampled_from(["X-A", "Retry-After", "Content-Type"]),
                                    st.text("abc 123;=,/", max_size=12).map(str.strip)), max_size=3))
    head_lines = [f"{n}: {v}" for n, v in extra]
    headers = list(extra)
    status, reason = draw(st.sampled_from([(200, "OK"), (202, "Accepted"), (400, "Bad Request"), (503, "")]))
    head_only, eof, reusable, wire_body = False, False, True, b""
    prefix = b""
    if kind in ("length", "continue", "conn-close", "head"):
        head_lines.append(f"Content-Length: {len(body)}")
        headers.append(("Content-Length", str(len(body))))
        wire_body = body if kind != "head" else b""
        if kind == "continue":
            prefix = b"HTTP/1.1 100 Continue\r\n\r\n"
        if kind == "conn-close":
            head_lines.append("Connection: close")
            headers.append(("Connection", "close"))
            reusable = False
        if kind == "head":
            head_only, body = True, b""
    elif kind == "chunked":
        head_lines.append("Transfer-Encoding: chunked")
        headers.append(("Transfer-Encoding", "chunked"))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        parts = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)]) if b > a]
        for part in parts:
            size = f"{len(part):x}"
            size = size.upper() if draw(st.booleans()) else size
            ext = draw(st.sampled_from(["", ";ext", ";a=1;b=\"x\""]))
            wire_body += f"{size}{ext}\r\n".encode() + part + b"\r\n"
        last_ext = draw(st.sampled_from(["", ";ext", "; done"]))
        trailers = draw(st.sampled_from(["", "X-Trailer: 1\r\n", "A: b\r\nC: d\r\n"]))
        wire_body += f"0{last_ext}\r\n{trailers}\r\n".encode()
    elif kind == "204":
        status, reason, body = 204, "No Content", b""
    else:  # close
        eof, reusable, wire_body = True, False, body
    status_line = f"HTTP/1.1 {status} {reason}".rstrip() if reason or draw(st.booleans()) else f"HTTP/1.1 {status}"
    head = "\r\n".join([status_line, *head_lines]) + "\r\n\r\n"
    data = prefix + head.encode("latin-1") + wire_body
    return data, head_only, eof, (status, headers, body[:EXCERPT]), reusable


def run(data: bytes, cuts, head_only: bool, eof: bool):
    """Feed the response in fragments; returns ((status, headers, body) or the error, reusable)."""
    client = PushClient(user_agent="t", excerpt=EXCERPT)
    conn = _Connection(("http", "x", 80), client)
    conn.connection_made(FakeTransport())
    waiter = conn.exchange(b"POST / HTTP/1.1\r\n\r\n", 5, 5, head_only=head_only)
    bounds = sorted(set(cuts) | {0, len(data)})
    for a, b in zip(bounds, bounds[1:]):
        conn.data_received(data[a:b])
    if eof:
        conn.eof_received()
        conn.connection_lost(None)
    assert waiter.done(), "the response was complete but the exchange did not end"
    if waiter.exception() is not None:
        return repr(waiter.exception()), conn.reusable
    r = waiter.result()
    return (r.status, r.headers, r.body), conn.reusable


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
async def test_any_fragmentation_parses_like_one_piece(data):
    wire, head_only, eof, expected, reusable = data.draw(responses())
    # cuts anywhere, and many next to the delimiters, where a parser is most likely to slip
    marks = sorted({i + d for i, c in enumerate(wire) if c in b"\r\n;:" for d in (0, 1)})
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=6))
    cuts += data.draw(st.lists(st.sampled_from(marks), max_size=24))
    whole = run(wire, [], head_only, eof)
    assert whole == (expected, reusable)
    assert run(wire, cuts, head_only, eof) == whole


async def test_one_byte_at_a_time_parses_like_one_piece():
    wire = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"7;ext\r\n{\"err\":\r\n1A\r\n\"invalid_request\",\"x\":\"y\"}\r\n0;last\r\nX-T: 1\r\n\r\n")
    every = list(range(len(wire)))
    assert run(wire, every, False, False) == run(wire, [], False, False)
    assert run(wire, every, False, False)[0][2] == b'{"err":"invalid_request","x":"y"}'


async def test_real_socket_fragmented_delivery_keeps_the_connection():
    wire = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"7;ext\r\n{\"err\":\r\n1A\r\n\"invalid_request\",\"x\":\"y\"}\r\n0\r\nX-T: 1\r\n\r\n")
    connections = 0

    async def handle(reader, writer):
        nonlocal connections
        connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(1)
                for i in range(0, len(wire), 3):  # 3-byte fragments, each flushed on its own
                    writer.write(wire[i:i + 3])
                    await writer.drain()
                    await asyncio.sleep(0.001)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/events"
    client = PushClient(user_agent="t")
    try:
        for _ in range(2):
            resp = await client.send("POST", url, b"x", (), 5)
            assert (resp.status, resp.body) == (400, b'{"err":"invalid_request","x":"y"}')
        assert client.connections_made == 1 and connections == 1
    finally:
        await client.close()
        await asyncio.sleep(0.05)  # the handler sees the end of the connection and returns
        server.close()
        await server.wait_closed()


@given(st.integers(1, 60))
@settings(max_examples=20, deadline=None)
async def test_bytes_past_the_response_or_an_end_while_idle_make_the_connection_unusable(cut):
    wire = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 408 Request Timeout\r\n\r\n"
    assert run(wire, [cut], False, False) == ((202, [("Content-Length", "2")], b"ok"), False)
    client = PushClient(user_agent="t")
    conn = _Connection(("http", "x", 80), client)
    conn.connection_made(FakeTransport())
    waiter = conn.exchange(b"POST / HTTP/1.1\r\n\r\n", 5, 5)
    conn.data_received(wire[:wire.index(b"HTTP", 1)])
    assert waiter.result().body == b"ok" and conn.reusable
    conn.eof_received()
    assert not conn.reusable
