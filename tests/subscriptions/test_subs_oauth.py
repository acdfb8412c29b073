"""OAuth 2.0 client credentials: token fetched, sent, refreshed before expiry, renewed on 401, never recorded."""

import base64
import json

import pytest

from app.core.subscriptions import AuthError, AuthSpec, TransmitterError
from app.core.subscriptions.auth import ClientCredentials


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def spec(variant, **over):
    base = dict(kind="client_credentials", token_endpoint=variant.base + "/oauth/token", client_id="ci-client",
                client_secret="s3cret-value", scope="ssf.manage")
    return AuthSpec(**{**base, **over})


async def test_the_token_request_authenticates_the_client_with_basic_and_asks_for_the_scope(sim, variant):
    _, subs = sim
    client = await subs.connect(variant.issuer, spec(variant))
    await client.get_status("s1")
    [request] = variant.token_requests
    assert request["form"] == {"grant_type": "client_credentials", "scope": "ssf.manage"}
    assert base64.b64decode(request["authorization"][6:]) == b"ci-client:s3cret-value"
    assert variant.requests[-1][2] == "Bearer at-1"


async def test_client_secret_in_the_form_when_asked(sim, variant):
    _, subs = sim
    client = await subs.connect(variant.issuer, spec(variant, client_auth="post"))
    await client.get_status("s1")
    assert variant.token_requests[0]["form"]["client_secret"] == "s3cret-value"
    assert variant.token_requests[0]["authorization"] is None


async def test_the_token_is_reused_then_refreshed_before_it_expires(sim, variant):
    _, subs = sim
    clock = Clock()
    source = ClientCredentials(variant.base + "/oauth/token", "ci-client", "s3cret-value", scope="ssf.manage",
                               log=subs.log, clock=clock, refresh_margin=10)
    assert await source.authorization() == "Bearer at-1"
    clock.now += 49  # expires_in 60, margin 10: still fresh
    assert await source.authorization() == "Bearer at-1"
    clock.now += 2
    assert await source.authorization() == "Bearer at-2"
    assert source.fetches == 2


async def test_a_refused_token_is_renewed_once_and_the_call_retried(sim, variant):
    _, subs = sim
    client = await subs.connect(variant.issuer, spec(variant))
    await client.get_status("s1")
    variant.tokens.discard("at-1")  # revoked at the transmitter
    answer = await client.get_status("s1")
    assert answer.status == 200 and variant.requests[-1][2] == "Bearer at-2"
    statuses = [e.status for e in await subs.exchanges(issuer=variant.issuer) if e.operation == "status"]
    assert statuses == [200, 401, 200]


async def test_wrong_client_credentials_are_one_sentence(sim, variant):
    _, subs = sim
    client = await subs.connect(variant.issuer, spec(variant, client_secret="nope"))
    with pytest.raises(TransmitterError, match=r"refused the client credentials: invalid_client \(unknown client\)"):
        await client.get_status("s1")


async def test_a_scope_the_server_does_not_grant_is_refused(sim, variant):
    _, subs = sim
    client = await subs.connect(variant.issuer, spec(variant, scope="ssf.admin"))
    with pytest.raises(TransmitterError, match="invalid_scope"):
        await client.get_status("s1")


def test_a_token_endpoint_over_plain_http_elsewhere_than_loopback_is_refused():
    with pytest.raises(AuthError, match="requires https"):
        ClientCredentials("http://idp.example.com/token", "id", "secret", log=None)


@pytest.mark.parametrize("client_auth", ["basic", "post"])
async def test_neither_secret_nor_token_reaches_the_exchange_records(sim, variant, client_auth):
    engine, subs = sim
    client = await subs.connect(variant.issuer, spec(variant, client_auth=client_auth))
    await client.get_status("s1")
    token_ex = [e for e in await subs.exchanges() if e.operation == "token"][0]
    if client_auth == "post":
        assert "client_secret=%5Bredacted%5D" in token_ex.request_body
    assert json.loads(token_ex.response_body)["access_token"] == "[redacted]"
    rows = json.dumps(engine.writer._conn.execute("SELECT * FROM transmitter_exchanges").fetchall(), default=str)
    assert "s3cret-value" not in rows and "at-1" not in rows
    assert base64.b64encode(b"ci-client:s3cret-value").decode() not in rows


async def test_the_credentials_are_remembered_in_the_workspace_and_only_described(sim, variant):
    _, subs = sim
    await subs.connect(variant.issuer, spec(variant))
    known = {t.issuer: t for t in await subs.known_transmitters()}
    assert known[variant.issuer].auth == {"kind": "client_credentials", "token_endpoint": variant.base + "/oauth/token",
                                          "client_id": "ci-client", "scope": "ssf.manage"}
    again = await subs.connect(variant.issuer)  # no credentials given: the saved ones are used
    assert (await again.get_status("s1")).status == 200
