"""Security review: a JWKS fetched over HTTP is public, so a symmetric (oct) key in it is a
secret anyone can read; HS256 SETs "verified" with it would be forgeable by anyone. Only an
inline JWKS (pasted by the user) may carry an HMAC key."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from aiohttp import web

from app.core.jose import b64url_encode, decode_compact
from app.core.trust import TrustStore
from app.core.verify import VALID, SetContext, verify_set

ISSUER = "https://idp.example.com"
SECRET = b"0123456789abcdef0123456789abcdef"
OCT = {"kty": "oct", "kid": "h1", "k": b64url_encode(SECRET)}


def hs256_set() -> str:
    header = b64url_encode(json.dumps({"alg": "HS256", "typ": "secevent+jwt", "kid": "h1"}).encode())
    claims = {"iss": ISSUER, "iat": int(time.time()), "jti": "j1",
              "sub_id": {"format": "email", "email": "jane@example.com"},
              "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked":
                         {"event_timestamp": int(time.time())}}}
    payload = b64url_encode(json.dumps(claims).encode())
    signature = hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url_encode(signature)}"


async def test_an_hmac_key_in_a_fetched_jwks_is_never_used_to_verify():
    async def jwks(request):
        return web.json_response({"keys": [OCT]})

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(timeout=5.0) as http:
        store = TrustStore(http)
        store.trust(ISSUER, jwks_url=f"http://127.0.0.1:{port}/jwks")
        keys = await store.keys_for(ISSUER, kid="h1")
    await runner.cleanup()
    report = verify_set(decode_compact(hs256_set()), SetContext(now=time.time(), keys=keys, trusted_issuers=[ISSUER]))
    assert report.verdict != VALID
    assert report.status_of("signature") != "pass"


def test_an_inline_jwks_may_still_carry_an_hmac_key():
    store = TrustStore()
    store.trust(ISSUER, jwks={"keys": [OCT]})
    report = verify_set(decode_compact(hs256_set()),
                        SetContext(now=time.time(), keys=store.cached_keys(ISSUER), trusted_issuers=[ISSUER]))
    assert report.status_of("signature") == "pass"
