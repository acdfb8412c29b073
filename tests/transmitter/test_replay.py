"""Replay of captures: exact bytes, edited and re-signed, in bulk, recorded as deliveries."""

import asyncio
import json
import time

import aiohttp
import jwt
import pytest

from app.core.replay import ReplayEditError, edited_request, exact_request
from app.core.replay_runs import Selection, run_bulk, select
from app.core.store.captures import CaptureFilter, get_capture
from app.core.store.deliveries import get_delivery
from app.core.transmitter.delivery import ManualClock
from conftest import AUDIENCE, settle
from peers import PeerIssuer, serve_issuer
from ssf_client import PUSH, SsfClient


async def post(url, body, headers):
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers=headers) as r:
            return r.status


async def capture_webhook(sim, body=b'{"type": "invoice.paid", "id": 1}', **headers):
    await post(sim.receiver.base_url + "/hooks", body, {"Content-Type": "application/json", "X-Sig": "abc", **headers})
    return get_capture(sim.writer._conn, sim.writer._conn.execute("SELECT max(id) FROM captures").fetchone()[0])


@pytest.fixture
async def peer_set(sim):
    peer = PeerIssuer()
    server, _ = await serve_issuer(peer)
    await sim.trust_issuer(peer.issuer)
    yield peer
    await server.cleanup()


async def capture_set(sim, peer, **kw):
    await post(sim.receiver.url, peer.set(**{"aud": AUDIENCE, **kw}), {"Content-Type": "application/secevent+jwt"})
    return get_capture(sim.writer._conn, sim.writer._conn.execute("SELECT max(id) FROM captures").fetchone()[0])


async def test_exact_replay_sends_the_same_bytes_and_headers(sim, endpoint):
    capture = await capture_webhook(sim)
    outcome = await sim.replayer.send(exact_request(capture), endpoint.url + "/mine")
    [req] = endpoint.requests
    assert req["body"] == capture["body"] and req["path"] == "/mine"
    assert req["headers"]["X-Sig"] == "abc" and req["headers"]["Content-Type"] == "application/json"
    assert outcome.ok and outcome.status == 202
    d = get_delivery(sim.writer._conn, outcome.delivery_id)
    assert (d["source"], d["capture_id"], d["state"]) == ("replay", capture["id"], "delivered")


async def test_exact_replay_of_an_old_signed_timestamp_says_it_may_be_refused(sim):
    old = str(int(time.time()) - 3600)
    capture = await capture_webhook(sim, **{"Stripe-Signature": f"t={old},v1=deadbeef"})
    notes = exact_request(capture).notes
    assert any("1 h" in n and "replay" in n for n in notes)


async def test_edited_and_resigned_set_verifies_with_pyjwt_against_the_simulator_jwks(sim, peer_set):
    capture = await capture_set(sim, peer_set)
    claims = dict(capture["set_claims"], txn="edited-txn")
    req = edited_request(capture, set_claims=claims, key=sim.transmitter.keys.active, issuer=sim.transmitter.issuer)
    jwks = sim.transmitter.keys.jwks()
    header = jwt.get_unverified_header(req.body)
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    decoded = jwt.decode(req.body, key, algorithms=["ES256"], audience=AUDIENCE)
    assert decoded["txn"] == "edited-txn" and decoded["iss"] == sim.transmitter.issuer
    assert decoded["jti"] != capture["jti"] and decoded["iat"] >= capture["set_claims"]["iat"]
    assert header["typ"] == "secevent+jwt"


async def test_resigned_replay_into_our_own_receiver_is_a_new_valid_capture(sim, peer_set):
    capture = await capture_set(sim, peer_set)
    req = edited_request(capture, set_claims=dict(capture["set_claims"], txn="again"), key=sim.transmitter.keys.active,
                         issuer=sim.transmitter.issuer)
    outcome = await sim.replayer.send(req, sim.receiver.url)
    assert outcome.status == 202
    newest = get_capture(sim.writer._conn, sim.writer._conn.execute("SELECT max(id) FROM captures").fetchone()[0])
    assert newest["verdict"] == "valid" and newest["set_claims"]["txn"] == "again"


async def test_original_signature_over_edits_and_unsigned_are_refused_by_the_receiver(sim, peer_set):
    capture = await capture_set(sim, peer_set)
    tampered = edited_request(capture, set_claims=dict(capture["set_claims"], txn="tampered"), signing="original")
    unsigned = edited_request(capture, signing="unsigned")
    a = await sim.replayer.send(tampered, sim.receiver.url)
    b = await sim.replayer.send(unsigned, sim.receiver.url)
    assert (a.status, b.status) == (400, 400) and a.state == b.state == "failed"
    reports = [json.loads(r[0]) for r in sim.writer._conn.execute("SELECT report FROM captures ORDER BY id DESC LIMIT 2")]
    assert {r["err"] for r in reports} == {"invalid_key", "invalid_request"}


async def test_edit_errors_point_at_the_spot(sim, peer_set):
    capture = await capture_set(sim, peer_set)
    with pytest.raises(ReplayEditError, match="claims: line 2, column"):
        edited_request(capture, set_claims='{"iss": "x",\n "iat": }', key=sim.transmitter.keys.active)
    with pytest.raises(ReplayEditError, match="'iat' must be"):
        edited_request(capture, set_claims={"iat": "yesterday"}, key=sim.transmitter.keys.active)
    with pytest.raises(ReplayEditError, match="headers"):
        edited_request(capture, headers='[["only-a-name"]]')


async def test_bulk_replay_of_1000_captures_honours_the_rate(sim, endpoint):
    async with aiohttp.ClientSession() as s:
        for start in range(0, 1000, 100):
            await asyncio.gather(*(s.post(sim.receiver.base_url + "/bulk", data=json.dumps({"n": i}).encode(),
                                          headers={"Content-Type": "application/json"}) for i in range(start, start + 100)))
    selection = Selection(CaptureFilter(text="bulk"))
    ids = select(sim.writer._conn, selection)
    assert len(ids) == 1000
    t0 = time.monotonic()
    summary = await run_bulk(sim.writer, sim.replayer, sim.writer._conn, ids, target=endpoint.url, build=exact_request,
                             mode="exact", selection=selection, rate=2000)
    elapsed = time.monotonic() - t0
    assert summary.state == "finished" and summary.succeeded == 1000 and len(endpoint.requests) == 1000
    assert elapsed >= 999 / 2000
    assert {json.loads(r["body"])["n"] for r in endpoint.requests} == set(range(1000))


async def test_cancelling_a_bulk_replay_leaves_consistent_records(sim, endpoint):
    for i in range(40):
        await capture_webhook(sim, body=json.dumps({"n": i}).encode())
    selection = Selection()
    ids = select(sim.writer._conn, selection)
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(0.25, cancel.set)
    summary = await run_bulk(sim.writer, sim.replayer, sim.writer._conn, ids, target=endpoint.url, build=exact_request,
                             mode="exact", selection=selection, rate=40, cancel=cancel)
    assert summary.state == "cancelled" and 0 < summary.sent < 40
    conn = sim.writer._conn
    run = conn.execute("SELECT total, succeeded, failed, state FROM replay_runs WHERE id = ?", (summary.run_id,)).fetchone()
    assert run == (40, summary.sent, 0, "cancelled")
    assert conn.execute("SELECT count(*) FROM deliveries WHERE run_id = ?", (summary.run_id,)).fetchone()[0] == summary.sent
    assert conn.execute("SELECT count(*) FROM deliveries d WHERE run_id = ? AND NOT EXISTS"
                        " (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id)", (summary.run_id,)).fetchone()[0] == 0


async def test_failed_since_selects_only_refused_captures_after_t(sim, peer_set):
    await capture_set(sim, peer_set)
    before = time.time()
    bad = await capture_set(sim, peer_set, aud="https://not-us.example")
    await capture_set(sim, peer_set)
    assert select(sim.writer._conn, Selection(failed_only=True, since=before)) == [bad["id"]]


async def test_replay_into_a_simulator_stream_goes_through_its_retry_policy(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    sim = await make_sim(clock=clock)
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    stream_id = (await c.create({"delivery": {"method": PUSH, "endpoint_url": endpoint.url}})).json()["stream_id"]
    await c.close()
    capture = await capture_webhook(sim)
    endpoint.script = [{"status": 503}]
    entry = await sim.transmitter.enqueue_token(stream_id, b"a.b.c", jti="replayed", event_type=None,
                                                capture_id=capture["id"])
    await settle(sim)
    clock.advance(2)
    await settle(sim)
    d = get_delivery(sim.writer._conn, entry["delivery_id"])
    assert [a["status"] for a in d["attempts"]] == [503, 202] and d["source"] == "replay"
