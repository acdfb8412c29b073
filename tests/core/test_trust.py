import httpx
import pytest
from aiohttp import web

from app.core.trust import TrustError, TrustStore, parse_jwks, well_known_url
from peers import PeerIssuer, serve_issuer


@pytest.mark.parametrize("issuer,url", [
    ("https://tr.example.com", "https://tr.example.com/.well-known/ssf-configuration"),
    ("https://tr.example.com/issuer1", "https://tr.example.com/.well-known/ssf-configuration/issuer1"),
    ("https://tr.example.com/issuer1/", "https://tr.example.com/.well-known/ssf-configuration/issuer1"),
])
def test_well_known_url_is_inserted_before_the_issuer_path(issuer, url):
    assert well_known_url(issuer) == url


def test_jwks_with_private_members_is_refused():
    peer = PeerIssuer(alg="ES256")
    leaked = dict(peer.public_jwk, d="AAAA")
    with pytest.raises(TrustError, match="private members"):
        parse_jwks({"keys": [leaked]}, where="x")


async def test_discovers_jwks_and_refetches_once_on_unknown_kid():
    peer = PeerIssuer()
    runner, issuer = await serve_issuer(peer, issuer_path="/tenant1")
    async with httpx.AsyncClient() as http:
        store = TrustStore(http, refetch_interval=0)
        store.trust(issuer)
        keys = await store.keys_for(issuer, kid=peer.kid)
        assert peer.kid in keys.by_kid and runner.hits["jwks"] == 1
        await store.keys_for(issuer, kid=peer.kid)
        assert runner.hits["jwks"] == 1  # cached
        old_kid = peer.kid
        rotated = PeerIssuer()
        peer.public_jwk = dict(rotated.public_jwk)
        keys = await store.keys_for(issuer, kid=rotated.kid)
        assert rotated.kid in keys.by_kid and old_kid not in keys.by_kid and runner.hits["jwks"] == 2
    await runner.cleanup()


async def test_refetch_is_rate_limited():
    peer = PeerIssuer()
    runner, issuer = await serve_issuer(peer)
    async with httpx.AsyncClient() as http:
        store = TrustStore(http, refetch_interval=60)
        store.trust(issuer)
        await store.keys_for(issuer, kid=peer.kid)
        for _ in range(5):
            await store.keys_for(issuer, kid="nope")
        assert runner.hits["jwks"] == 1
    await runner.cleanup()


async def test_redirecting_jwks_is_not_followed():
    app = web.Application()

    async def redirect(request):
        raise web.HTTPFound("http://127.0.0.1:9/elsewhere")

    app.router.add_get("/jwks", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as http:
        store = TrustStore(http)
        store.trust("https://idp", jwks_url=f"http://127.0.0.1:{port}/jwks")
        with pytest.raises(TrustError, match="redirects are not followed"):
            await store.refresh("https://idp")
    await runner.cleanup()
