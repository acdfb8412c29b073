"""Security review: a sender that trickles its body cannot hold a receiver handler forever:
the body must arrive within the receiver's body deadline, else 408 (and the request is kept)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from urllib.parse import urlsplit

from app.core.store.captures import iter_captures


async def test_a_trickled_body_is_answered_408_at_the_body_deadline(make_engine, tmp_path):
    engine = await make_engine(workspace=tmp_path / "slow.signalscope", transmitter=False)
    engine.receiver.config.body_timeout = 1.0
    url = urlsplit(engine.receiver.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{")
    await writer.drain()

    async def trickle():
        for _ in range(100):
            await asyncio.sleep(0.2)
            writer.write(b" ")
            await writer.drain()

    dripping = asyncio.ensure_future(trickle())
    started = time.monotonic()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 6)
    finally:
        dripping.cancel()
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
    assert time.monotonic() - started < 4
    [capture] = list(iter_captures(sqlite3.connect(engine.config.workspace)))
    assert capture["response_status"] == 408 and capture["body_truncated"]
