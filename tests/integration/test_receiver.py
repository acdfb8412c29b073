"""The receiver over real loopback HTTP, with SETs signed by PyJWT."""

import asyncio
import json
import sqlite3

import aiohttp
import pytest

from app.core.store.captures import export_event, get_capture, iter_captures

SET_TYPE = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}


async def post(url, body, headers=SET_TYPE, method="POST"):
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, data=body, headers=headers) as r:
            return r.status, await r.read(), r.headers


def captures(engine):
    return list(iter_captures(sqlite3.connect(engine.config.workspace)))


async def test_valid_set_gets_202_with_empty_body_and_is_stored_valid(engine, peer):
    status, body, _ = await post(engine.receiver.url, peer.set())
    assert (status, body) == (202, b"")
    [capture] = captures(engine)
    assert capture["verdict"] == "valid" and capture["response_status"] == 202
    assert capture["set_claims"]["iss"] == peer.issuer


@pytest.mark.parametrize("mutate,err", [
    (lambda p: p.sign(p.claims(), headers={"kid": "unknown"}), "invalid_key"),
    (lambda p: p.set(iss="https://evil.example.com"), "invalid_issuer"),
    (lambda p: p.set(aud="https://other.example.com"), "invalid_audience"),
    (lambda p: "not-a-jws", "invalid_request"),
    (lambda p: p.set()[:-4] + "AAAA", "invalid_key"),
], ids=["unknown-kid", "wrong-iss", "wrong-aud", "garbage", "corrupted-signature"])
async def test_unacceptable_sets_get_400_with_the_rfc8935_code(engine, peer, mutate, err):
    status, body, headers = await post(engine.receiver.url, mutate(peer))
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Content-Language"] == "en"
    answer = json.loads(body)
    assert answer["err"] == err and answer["description"]
    assert captures(engine)[0]["response_status"] == 400


async def test_application_jwt_is_accepted_but_flagged(engine, peer):
    status, _, _ = await post(engine.receiver.url, peer.set(), headers={"Content-Type": "application/jwt"})
    assert status == 202
    check = captures(engine)[0]["report"]["checks"][0]
    assert check["name"] == "content_type" and check["status"] == "warn"


async def test_other_content_is_a_webhook_answered_200(engine):
    status, _, _ = await post(engine.receiver.url, b'{"type": "invoice.paid"}', headers={"Content-Type": "application/json"})
    assert status == 200
    [capture] = captures(engine)
    assert capture["kind"] == "webhook" and capture["body"] == b'{"type": "invoice.paid"}'


async def test_bearer_token_is_enforced(make_engine, peer, tmp_path):
    engine = await make_engine(workspace=tmp_path / "t.signalscope", receiver_token="s3cret", trust_issuers=[(peer.issuer, None)])
    status, _, headers = await post(engine.receiver.url, peer.set())
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    status, _, _ = await post(engine.receiver.url, peer.set(), headers={**SET_TYPE, "Authorization": "Bearer wrong"})
    assert status == 401
    status, _, _ = await post(engine.receiver.url, peer.set(), headers={**SET_TYPE, "Authorization": "Bearer s3cret"})
    assert status == 202
    assert [c["response_status"] for c in captures(engine)] == [401, 401, 202]
    await engine.stop()


async def test_oversized_body_gets_413_and_is_kept_truncated(make_engine, tmp_path):
    engine = await make_engine(workspace=tmp_path / "b.signalscope", body_limit=1000)
    status, _, _ = await post(engine.receiver.url, b"x" * 5000)
    assert status == 413
    [capture] = captures(engine)
    assert capture["body_truncated"] and len(capture["body"]) == 1000 and capture["body_size"] >= 1001
    await engine.stop()


async def test_empty_body_gets_400_and_get_gets_405_both_captured(engine):
    assert (await post(engine.receiver.url, b""))[0] == 400
    status, _, headers = await post(engine.receiver.url, None, method="GET")
    assert status == 405 and headers["Allow"] == "POST"
    assert [c["method"] for c in captures(engine)] == ["POST", "GET"]


async def test_repeat_jti_is_answered_like_the_first_and_flagged(engine, peer):
    token = peer.set()
    assert (await post(engine.receiver.url, token))[0] == 202
    assert (await post(engine.receiver.url, token))[0] == 202
    first, second = captures(engine)
    assert second["repeat_of"] == first["id"]
    jti_check = next(c for c in second["report"]["checks"] if c["name"] == "jti")
    assert jti_check["status"] == "warn" and f"#{first['id']}" in jti_check["detail"]


async def test_repeat_of_accepted_set_stays_202_after_its_key_is_gone(engine, peer):
    token = peer.set()
    assert (await post(engine.receiver.url, token))[0] == 202
    await engine.forget_issuer(peer.issuer)
    assert (await post(engine.receiver.url, token))[0] == 202  # RFC 8935: repeats answered as the first
    assert (await post(engine.receiver.url, peer.set()))[0] == 400


async def test_unknown_kid_triggers_one_jwks_refetch_then_verifies_rotated_key(engine, peer):
    assert (await post(engine.receiver.url, peer.set()))[0] == 202
    fetches = peer.server.hits["jwks"]
    from peers import PeerIssuer

    rotated = PeerIssuer(issuer=peer.issuer)
    peer.public_jwk = rotated.public_jwk  # the served JWKS now holds only the new key
    engine.trust._refetch_interval = 0
    status, _, _ = await post(engine.receiver.url, rotated.set())
    assert status == 202
    assert peer.server.hits["jwks"] == fetches + 1


async def test_export_line_has_the_contract_fields(engine, peer):
    await post(engine.receiver.url, peer.set())
    line = export_event(get_capture(sqlite3.connect(engine.config.workspace), 1))
    assert set(line) >= {"id", "received_at", "http", "response", "kind", "set", "event_types", "verification"}
    assert set(line["http"]) >= {"method", "path", "headers", "body"}
    assert line["received_at"].endswith("Z") and line["kind"] == "set"
    assert line["set"]["header"]["typ"] == "secevent+jwt"
    assert line["event_types"] == ["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]
    assert line["verification"]["verdict"] == "valid"
    assert all(set(c) == {"name", "status", "detail"} for c in line["verification"]["checks"])


async def test_no_loss_2000_sets_over_50_connections(engine, peer):
    tokens = [peer.set() for _ in range(2000)]
    statuses = []
    connector = aiohttp.TCPConnector(limit=50)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = list(reversed(tokens))

        async def worker():
            while queue:
                token = queue.pop()
                async with session.post(engine.receiver.url, data=token, headers=SET_TYPE) as r:
                    statuses.append(r.status)

        await asyncio.gather(*(worker() for _ in range(50)))
    assert statuses.count(202) == 2000
    conn = sqlite3.connect(engine.config.workspace)
    assert conn.execute("SELECT count(*) FROM captures WHERE response_status = 202").fetchone()[0] == 2000
    assert conn.execute("SELECT count(DISTINCT jti) FROM captures").fetchone()[0] == 2000


async def test_expect_100_continue_gets_the_body_through(engine, peer):
    token = peer.set().encode()
    async with aiohttp.ClientSession() as s:
        async with s.post(engine.receiver.url, data=token, headers=SET_TYPE, expect100=True) as r:
            assert r.status == 202
    [capture] = captures(engine)
    assert capture["body"] == token and capture["verdict"] == "valid"


async def test_unknown_expectation_is_refused_with_417(engine, peer):
    status, _, _ = await post(engine.receiver.url, peer.set(), headers={**SET_TYPE, "Expect": "teapot"})
    assert status == 417


async def test_a_subscriber_hears_of_every_stored_capture(engine, peer):
    from app.core.bus import CaptureStored

    heard = []
    engine.bus.subscribe(heard.append)
    assert (await post(engine.receiver.url, peer.set()))[0] == 202
    [event] = [e for e in heard if isinstance(e, CaptureStored)]
    assert (event.kind, event.verdict, event.response_status) == ("set", "valid", 202)
