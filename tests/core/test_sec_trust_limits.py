"""Security review: JWKS and SSF discovery fetches are bounded in size and in time, so a
hostile or broken issuer cannot exhaust memory or hold the receiver's verification forever."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from aiohttp import web

from app.core.trust import TrustError, TrustStore
from local_http import serve_handler


async def test_a_huge_jwks_is_refused_not_read_whole():
    async def huge(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"keys": [], "pad": "')
        for _ in range(64):  # 64 MiB, chunked: no Content-Length to refuse early
            await response.write(b"x" * (1024 * 1024))
        await response.write(b'"}')
        return response

    runner, base, _ = await serve_handler(huge)
    async with httpx.AsyncClient(timeout=5.0) as http:
        store = TrustStore(http)
        store.trust("https://idp", jwks_url=f"{base}/jwks")
        with pytest.raises(TrustError, match="larger than"):
            await store.refresh("https://idp")
    await runner.cleanup()


async def test_a_huge_declared_ssf_configuration_is_refused():
    async def meta(request):
        return web.Response(body=json.dumps({"jwks_uri": "http://127.0.0.1:9/j", "pad": "x" * (3 * 1024 * 1024)}),
                            content_type="application/json")

    runner, base, _ = await serve_handler(meta)
    async with httpx.AsyncClient(timeout=5.0) as http:
        store = TrustStore(http)
        store.trust(base)
        with pytest.raises(TrustError, match="larger than"):
            await store.discover_jwks_uri(base)
    await runner.cleanup()


async def test_a_jwks_trickled_byte_by_byte_hits_a_whole_fetch_deadline():
    async def trickle(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"keys": [')
        for _ in range(200):  # each byte well inside the per-read timeout, the whole far beyond any deadline
            await asyncio.sleep(0.1)
            await response.write(b" ")
        await response.write(b"]}")
        return response

    runner, base, _ = await serve_handler(trickle)
    async with httpx.AsyncClient(timeout=httpx.Timeout(1.0)) as http:
        store = TrustStore(http, fetch_deadline=1.0)
        store.trust("https://idp", jwks_url=f"{base}/jwks")
        started = time.monotonic()
        with pytest.raises(TrustError, match="within 1 s"):
            await asyncio.wait_for(store.refresh("https://idp"), 10)
        assert time.monotonic() - started < 5
    await runner.cleanup()
