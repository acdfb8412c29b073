"""The RFC 8936 poll client: polled SETs verified like pushed ones, stored with origin 'poll', acknowledged."""

import asyncio
import json

import pytest

from app.core.bus import CaptureStored
from app.core.subscriptions import TransmitterError

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
JANE = {"format": "email", "email": "jane@example.com"}


async def poll_stream(engine, subs):
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"events_requested": [SESSION_REVOKED]})).data
    return client, config


async def emit(engine, stream_id, n=1, **kw):
    result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id,
                                           count=n, **kw)
    return [e["jti"] for e in result.emitted]


def deliveries(engine):
    return {jti: (state, err) for jti, state, err in
            engine.writer._conn.execute("SELECT jti, state, err FROM deliveries WHERE mode = 'poll'")}


async def test_polled_sets_are_verified_and_stored_as_poll_captures(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    stored = []
    engine.bus.subscribe(lambda e: stored.append(e) if isinstance(e, CaptureStored) else None)
    jtis = await emit(engine, config["stream_id"], 2)
    outcome = await subs.poller(client, config).poll()
    assert sorted(s.jti for s in outcome.sets) == sorted(jtis)
    assert all(s.verdict == "valid" and s.err is None for s in outcome.sets)
    rows = engine.writer._conn.execute("SELECT origin, kind, verdict, jti, response_status FROM captures").fetchall()
    assert sorted(rows) == sorted(("poll", "set", "valid", j, 202) for j in jtis)
    assert sorted(e.capture_id for e in stored) == sorted(s.capture_id for s in outcome.sets)


async def test_valid_sets_are_acknowledged_and_invalid_ones_reported_with_the_receivers_err(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    [good] = await emit(engine, config["stream_id"])
    [bad_aud] = await emit(engine, config["stream_id"], faults=["wrong_aud"])
    [bad_sig] = await emit(engine, config["stream_id"], faults=["bad_signature"])
    poller = subs.poller(client, config)
    await poller.poll()
    final = await poller.flush()
    assert final.acknowledged == [good]
    assert {j: e["err"] for j, e in final.reported.items()} == {bad_aud: "invalid_audience", bad_sig: "invalid_key"}
    assert deliveries(engine) == {good: ("delivered", None), bad_aud: ("failed", "invalid_audience"),
                                  bad_sig: ("failed", "invalid_key")}


async def test_acknowledgements_ride_on_the_next_poll(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    [first] = await emit(engine, config["stream_id"])
    poller = subs.poller(client, config)
    await poller.poll()
    [second] = await emit(engine, config["stream_id"])
    outcome = await poller.poll()
    assert outcome.acknowledged == [first] and [s.jti for s in outcome.sets] == [second]
    [ex] = [e for e in await subs.exchanges() if e.id == outcome.exchange_id]
    assert json.loads(ex.request_body)["ack"] == [first]


async def test_without_acknowledging_the_same_sets_come_again_and_are_flagged_as_repeats(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    [jti] = await emit(engine, config["stream_id"])
    peek = subs.poller(client, config, acknowledge=False)
    first, again = await peek.poll(), await peek.poll()
    assert [s.jti for s in first.sets] == [s.jti for s in again.sets] == [jti]
    assert again.acknowledged == [] and await peek.flush() is None
    repeat_of = engine.writer._conn.execute("SELECT repeat_of FROM captures ORDER BY id DESC").fetchone()[0]
    assert repeat_of == first.sets[0].capture_id


async def test_max_events_limits_a_poll_and_more_available_says_so(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    await emit(engine, config["stream_id"], 3)
    outcome = await subs.poller(client, config).poll(max_events=2)
    assert len(outcome.sets) == 2 and outcome.more_available is True


async def test_continuous_long_polling_picks_up_an_event_emitted_while_waiting(make_sim):
    engine, subs = await make_sim(long_poll_timeout=0.4)
    client, config = await poll_stream(engine, subs)
    seen = []
    poller = subs.poller(client, config)
    running = asyncio.ensure_future(poller.run(seconds=1.5, on_outcome=seen.append))
    await asyncio.sleep(0.2)
    [jti] = await emit(engine, config["stream_id"])
    outcomes = await asyncio.wait_for(running, 5)
    assert [s.jti for o in outcomes for s in o.sets] == [jti]
    assert [o.acknowledged for o in outcomes if o.acknowledged] == [[jti]]
    assert deliveries(engine)[jti][0] == "delivered"
    assert seen == outcomes
    bodies = [json.loads(e.request_body) for e in await subs.exchanges() if e.operation == "poll"]
    assert bodies[0] == {"returnImmediately": False}


async def test_a_push_stream_has_no_poller(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"delivery": {"method": "urn:ietf:rfc:8935",
                                                       "endpoint_url": engine.receiver.url}})).data
    with pytest.raises(TransmitterError, match="does not deliver by poll"):
        subs.poller(client, config)


async def test_a_polled_capture_says_it_was_polled_in_its_report(sim):
    engine, subs = sim
    client, config = await poll_stream(engine, subs)
    await emit(engine, config["stream_id"])
    [polled] = (await subs.poller(client, config).poll()).sets
    report = json.loads(engine.writer._conn.execute("SELECT report FROM captures WHERE id = ?",
                                                    (polled.capture_id,)).fetchone()[0])
    assert ["content_type", "pass", "polled: the SET came in an RFC 8936 poll response"] in report["checks"]
