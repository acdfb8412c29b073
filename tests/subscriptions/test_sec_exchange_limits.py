"""Security review: every exchange with a transmitter (discovery, management calls, token
endpoint, poll responses) reads a bounded body within a bounded time."""

from __future__ import annotations

import asyncio
import time

import httpx
from aiohttp import web

from app.core.subscriptions.exchanges import ExchangeLog
from local_http import serve_handler


async def test_a_huge_poll_response_is_refused_not_read_whole():
    async def huge(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"sets": {}, "pad": "')
        for _ in range(64):  # 64 MiB, chunked
            await response.write(b"x" * (1024 * 1024))
        await response.write(b'"}')
        return response

    runner, base, _ = await serve_handler(huge)
    async with httpx.AsyncClient(timeout=5.0) as http:
        log = ExchangeLog(http)
        ex = await log.perform("POST", f"{base}/ssf/poll/s1", operation="poll", issuer=base,
                               json_body={"returnImmediately": True})
        assert ex.response is None and "larger than" in (ex.error or "")
    await runner.cleanup()


async def test_a_trickled_answer_hits_a_whole_exchange_deadline():
    async def trickle(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"issuer": "x"')
        for _ in range(200):  # each byte well inside the per-read timeout
            await asyncio.sleep(0.1)
            await response.write(b" ")
        await response.write(b"}")
        return response

    runner, base, _ = await serve_handler(trickle)
    async with httpx.AsyncClient(timeout=httpx.Timeout(1.0)) as http:
        log = ExchangeLog(http, deadline_slack=0.5)
        started = time.monotonic()
        ex = await asyncio.wait_for(
            log.perform("GET", f"{base}/.well-known/ssf-configuration", operation="discover", issuer=None), 10)
        assert ex.response is None and "within 1.5 s" in (ex.error or "")
        assert time.monotonic() - started < 5
    await runner.cleanup()
