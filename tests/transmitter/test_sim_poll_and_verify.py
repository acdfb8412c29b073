"""Poll delivery (RFC 8936), verification (SSF 8.1.4) and round trips into our own receiver."""

import asyncio
import time

import pytest

from app.core.transmitter.sets import FAULTS
from conftest import AUDIENCE, settle
from ssf_client import CAEP, PUSH, SSF, SsfClient, payload_of

SESSION_REVOKED = CAEP + "session-revoked"
JANE = {"format": "email", "email": "jane@example.com"}


async def poll_stream(client):
    config = (await client.create({"events_requested": [SESSION_REVOKED]})).json()
    return config["stream_id"], config["delivery"]["endpoint_url"], config["aud"]


async def emit(sim, stream_id, n=1, **kw):
    return await sim.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id, count=n, **kw)


async def test_every_polled_set_verifies_with_pyjwt_against_the_published_jwks(sim, client):
    stream_id, url, aud = await poll_stream(client)
    await emit(sim, stream_id, 3)
    sets = (await client.poll(url, {"returnImmediately": True})).json()["sets"]
    assert len(sets) == 3
    for jti, token in sets.items():
        header, claims = await client.decode(token, aud)
        assert header["typ"] == "secevent+jwt" and header["kid"]
        assert claims["jti"] == jti and claims["aud"] == aud and claims["sub_id"] == JANE
        assert list(claims["events"]) == [SESSION_REVOKED]
        assert "sub" not in claims and "exp" not in claims and isinstance(claims["txn"], str)


async def test_max_events_and_more_available(sim, client):
    stream_id, url, _ = await poll_stream(client)
    await emit(sim, stream_id, 5)
    answer = (await client.poll(url, {"maxEvents": 2, "returnImmediately": True})).json()
    assert len(answer["sets"]) == 2 and answer["moreAvailable"] is True
    everything = (await client.poll(url, {"returnImmediately": True})).json()
    assert len(everything["sets"]) == 5 and everything["moreAvailable"] is False


async def test_unacknowledged_sets_come_again_and_acknowledged_ones_do_not(sim, client):
    stream_id, url, _ = await poll_stream(client)
    await emit(sim, stream_id, 2)
    first = (await client.poll(url, {"returnImmediately": True})).json()["sets"]
    one, other = sorted(first)
    again = (await client.poll(url, {"ack": [one], "returnImmediately": True})).json()["sets"]
    assert list(again) == [other]
    rows = dict(sim.writer._conn.execute("SELECT jti, state FROM deliveries").fetchall())
    assert rows == {one: "delivered", other: "pending"}


async def test_set_errs_fail_the_delivery_with_the_receivers_err(sim, client):
    stream_id, url, _ = await poll_stream(client)
    await emit(sim, stream_id)
    [jti] = (await client.poll(url, {"returnImmediately": True})).json()["sets"]
    r = await client.poll(url, {"maxEvents": 0, "returnImmediately": True,
                                "setErrs": {jti: {"err": "invalid_key", "description": "unknown kid"}}})
    assert r.json() == {"sets": {}, "moreAvailable": False}
    state, err, reason = sim.writer._conn.execute("SELECT state, err, reason FROM deliveries").fetchone()
    assert (state, err) == ("failed", "invalid_key") and "unknown kid" in reason


async def test_long_poll_waits_and_wakes_when_an_event_is_emitted(sim, client):
    stream_id, url, _ = await poll_stream(client)
    waiting = asyncio.ensure_future(client.poll(url, {}))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await emit(sim, stream_id)
    answer = (await asyncio.wait_for(waiting, 5)).json()
    assert len(answer["sets"]) == 1


async def test_long_poll_is_bounded_by_its_timeout(make_sim):
    sim = await make_sim(long_poll_timeout=0.3)
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    _, url, _ = await poll_stream(c)
    started = time.monotonic()
    assert (await c.poll(url, {})).json() == {"sets": {}, "moreAvailable": False}
    assert time.monotonic() - started < 3
    await c.close()


async def test_legacy_poll_field_names_are_accepted(sim, client):
    stream_id, url, _ = await poll_stream(client)
    await emit(sim, stream_id, 2)
    [a, b] = sorted((await client.poll(url, {"returnImmediately": True})).json()["sets"])
    r = await client.poll(url, {"acks": [a], "max_events": 5, "return_immediately": True})
    assert list(r.json()["sets"]) == [b]


async def test_malformed_poll_request_is_400(sim, client):
    _, url, _ = await poll_stream(client)
    assert (await client.poll(url, {"maxEvents": "ten"})).status_code == 400
    assert (await client.poll(url, {"ack": "jti-1"})).status_code == 400


async def test_verification_is_204_then_a_set_with_the_same_state(sim, client):
    stream_id, url, aud = await poll_stream(client)
    assert (await client.verify(stream_id, "s-123")).status_code == 204
    sets = (await client.poll(url, {"returnImmediately": True})).json()["sets"]
    [token] = sets.values()
    _, claims = await client.decode(token, aud)
    assert claims["events"] == {SSF + "verification": {"state": "s-123"}}
    assert claims["sub_id"] == {"format": "opaque", "id": stream_id}


async def test_verification_faster_than_the_interval_is_429_with_retry_after(sim, client):
    stream_id, _, _ = await poll_stream(client)
    assert (await client.verify(stream_id, "a")).status_code == 204
    r = await client.verify(stream_id, "b")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


async def push_to_own_receiver(sim, client):
    config = (await client.create({"delivery": {"method": PUSH, "endpoint_url": sim.receiver.url},
                                   "events_requested": [SESSION_REVOKED]})).json()
    assert config["aud"] == AUDIENCE  # the simulator mints the receiver's configured audience
    return config["stream_id"]


async def last_capture(sim):
    await settle(sim)
    for _ in range(100):
        row = sim.writer._conn.execute("SELECT verdict, report, response_status FROM captures ORDER BY id DESC").fetchone()
        if row:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError("nothing reached the receiver")


async def test_round_trip_clean_set_is_valid_at_our_receiver(sim, client):
    stream_id = await push_to_own_receiver(sim, client)
    await emit(sim, stream_id)
    verdict, _, status = await last_capture(sim)
    assert (verdict, status) == ("valid", 202)


@pytest.mark.parametrize("fault", [f for f, (_, check) in FAULTS.items() if check])
async def test_round_trip_each_fault_is_named_by_the_receivers_check(sim, client, fault):
    import json

    stream_id = await push_to_own_receiver(sim, client)
    if fault == "repeat_jti":
        await emit(sim, stream_id)
        await settle(sim)
    await emit(sim, stream_id, faults=[fault])
    _, report, _ = await last_capture(sim)
    checks = {c["name"]: c["status"] for c in _expand(json.loads(report)["checks"])}
    expected = FAULTS[fault][1]
    assert checks[expected] in ("fail", "warn"), (fault, checks)


def _expand(checks):
    from app.core.verify import expand_checks

    return expand_checks(checks)


async def test_duplicate_and_shuffle_faults_change_what_is_delivered(sim, client):
    stream_id, url, _ = await poll_stream(client)
    result = await emit(sim, stream_id, 4, faults=["duplicate"])
    jtis = [e["jti"] for e in result.emitted]
    assert len(jtis) == 8 and len(set(jtis)) == 4
    rows = sim.writer._conn.execute("SELECT faults FROM deliveries").fetchall()
    assert all("duplicate" in r[0] for r in rows)
    plain = await emit(sim, stream_id, 20)
    assert [e["batch_index"] for e in plain.emitted] == list(range(20))
    shuffled = await emit(sim, stream_id, 20, faults=["shuffle"])
    order = [e["batch_index"] for e in shuffled.emitted]
    assert sorted(order) == list(range(20)) and order != list(range(20))
