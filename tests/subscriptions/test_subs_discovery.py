"""Connecting to a transmitter: discovery with fallbacks, metadata validation, JWKS, trust."""

import json

import pytest
from aiohttp import web

from app.core.subscriptions import DiscoveryError, Subscriptions
from app.core.subscriptions.discovery import candidate_urls, validate_metadata
from subs_peers import VariantTransmitter


async def test_the_simulator_is_found_at_the_inserted_location_and_trusted(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    assert client.discovery.location == "SSF 1.0 well-known location"
    assert client.discovery.url == engine.transmitter.base_url + "/.well-known/ssf-configuration"
    assert engine.trust.is_trusted(engine.transmitter.issuer)
    assert [e.operation for e in await subs.exchanges()] == ["discover", "jwks"]


async def test_an_issuer_with_a_path_gets_the_path_after_the_well_known_name(make_sim):
    engine, subs = await make_sim(issuer_path="/tenant1")
    client = await subs.connect(engine.transmitter.issuer)
    assert client.discovery.url == engine.transmitter.base_url + "/.well-known/ssf-configuration/tenant1"


def test_candidates_are_inserted_first_then_legacy_then_appended():
    urls = [u for u, _ in candidate_urls("https://tr.example.com/t1/")]
    assert urls == ["https://tr.example.com/.well-known/ssf-configuration/t1",
                    "https://tr.example.com/.well-known/sse-configuration/t1",
                    "https://tr.example.com/.well-known/risc-configuration/t1",
                    "https://tr.example.com/t1/.well-known/ssf-configuration"]


@pytest.mark.parametrize("where, location", [("appended", "issuer-appended location"), ("sse", "legacy SSE ID1")])
async def test_metadata_at_a_fallback_location_is_used_and_named(sim, where, location):
    engine, subs = sim
    v = await VariantTransmitter(metadata_at=where).start()
    try:
        client = await subs.connect(v.issuer)
        assert client.discovery.location.startswith(location)
        assert any(location in n for n in client.discovery.notes)
        assert engine.trust.is_trusted(v.issuer)  # and persisted for the next run:
        rows = engine.writer._conn.execute("SELECT issuer, jwks_url FROM trusted_issuers").fetchall()
        assert (v.issuer, v.base + "/keys") in rows
        tried = [e.status for e in await subs.exchanges(issuer=v.issuer) if e.operation == "discover"]
        assert tried[-1] == 200 and all(s == 404 for s in tried[:-1])
    finally:
        await v.stop()


def meta(**over):
    m = {"issuer": "https://tr.example.com", "jwks_uri": "https://tr.example.com/jwks", "spec_version": "1_0"}
    return {**m, **over}


def test_metadata_naming_another_issuer_is_refused():
    with pytest.raises(DiscoveryError, match="names issuer 'https://evil.example'"):
        validate_metadata(meta(issuer="https://evil.example"), "https://tr.example.com")


def test_http_is_refused_except_on_loopback():
    with pytest.raises(DiscoveryError, match="requires https"):
        validate_metadata(meta(jwks_uri="http://tr.example.com/jwks"), "https://tr.example.com")
    validate_metadata({"issuer": "http://127.0.0.1:8", "jwks_uri": "http://127.0.0.1:8/k"}, "http://127.0.0.1:8")


def test_metadata_without_jwks_uri_is_refused():
    with pytest.raises(DiscoveryError, match="no 'jwks_uri'"):
        validate_metadata({"issuer": "https://tr.example.com"}, "https://tr.example.com")


def test_missing_spec_version_and_endpoints_are_noted():
    notes = validate_metadata({"issuer": "https://tr.example.com", "jwks_uri": "https://tr.example.com/k"},
                              "https://tr.example.com")
    assert any("1_0-ID1 assumed" in n for n in notes) and any("no configuration_endpoint" in n for n in notes)


async def serve(handler):
    app = web.Application()
    async def handle(request):
        answer = handler(request)
        return await answer if hasattr(answer, "__await__") else answer

    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def test_invalid_metadata_is_reported_and_not_used(sim):
    engine, subs = sim
    runner, base = await serve(lambda r: web.json_response({"issuer": "https://other.example", "jwks_uri": base}))
    try:
        with pytest.raises(DiscoveryError, match="invalid: the SSF configuration names issuer"):
            await subs.connect(base)
        assert not engine.trust.is_trusted(base)
    finally:
        await runner.cleanup()


async def test_a_redirect_is_not_followed(sim):
    _, subs = sim
    runner, base = await serve(lambda r: web.Response(status=302, headers={"Location": "http://127.0.0.1:1/x"}))
    try:
        with pytest.raises(DiscoveryError, match="redirect to 'http://127.0.0.1:1/x' not followed"):
            await subs.connect(base)
    finally:
        await runner.cleanup()


async def test_an_unreachable_transmitter_is_one_sentence(sim):
    _, subs = sim
    with pytest.raises(DiscoveryError, match="cannot reach the transmitter at http://127.0.0.1:1/"):
        await subs.connect("http://127.0.0.1:1")


async def test_a_jwks_with_private_members_is_refused(sim):
    _, subs = sim

    async def handler(request):
        if request.path == "/.well-known/ssf-configuration":
            return web.json_response({"issuer": base, "jwks_uri": base + "/k"})
        return web.json_response({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret"}]})

    runner, base = await serve(handler)
    try:
        with pytest.raises(DiscoveryError, match="private members"):
            await subs.connect(base)
    finally:
        await runner.cleanup()
