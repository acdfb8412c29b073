"""Security review: secrets never reach a recorded exchange, wherever they sit: URL userinfo
(a push endpoint_url with user:password, a token endpoint URL with client:secret) and a
token endpoint that answers form-encoded under another media type."""

from __future__ import annotations

import json

import httpx
from aiohttp import web

from app.core.subscriptions.exchanges import ExchangeLog
from local_http import serve_handler

SECRET = "pw-s3cret-value"


async def test_url_userinfo_passwords_are_redacted_in_url_and_bodies():
    async def echo(request):
        return web.json_response(await request.json(), status=201)

    runner, _, port = await serve_handler(echo)
    endpoint = f"https://receiver:{SECRET}@rp.example/events"
    async with httpx.AsyncClient(timeout=5.0) as http:
        log = ExchangeLog(http)
        ex = await log.perform("POST", f"http://client:{SECRET}@127.0.0.1:{port}/ssf/streams", operation="create",
                               issuer=None, json_body={"delivery": {"method": "urn:ietf:rfc:8935",
                                                                    "endpoint_url": endpoint}})
        await log.record(ex)
    await runner.cleanup()
    assert ex.status == 201
    record = json.dumps(ex.to_json())
    assert SECRET not in record
    assert "rp.example/events" in record and "receiver:" in record  # what is not secret stays readable


async def test_a_form_encoded_token_answer_under_another_media_type_is_redacted():
    async def token(request):
        return web.Response(text=f"access_token={SECRET}&token_type=bearer&expires_in=60", content_type="text/plain")

    runner, _, port = await serve_handler(token)
    async with httpx.AsyncClient(timeout=5.0) as http:
        log = ExchangeLog(http)
        ex = await log.perform("POST", f"http://127.0.0.1:{port}/token", operation="token", issuer=None,
                               form={"grant_type": "client_credentials"})
        await log.record(ex)
    await runner.cleanup()
    assert SECRET not in json.dumps(ex.to_json())
    assert "token_type=bearer" in ex.response_body
