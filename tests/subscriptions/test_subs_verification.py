"""Verification round trips (SSF 8.1.4) tracked by state, and paused/resumed delivery seen by the client."""

import asyncio

from app.core.transmitter.streams import PUSH
from subs_peers import Sink, wait_for

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
JANE = {"format": "email", "email": "jane@example.com"}


async def push_stream(engine, subs, url=None):
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"delivery": {"method": PUSH, "endpoint_url": url or engine.receiver.url},
                                          "events_requested": [SESSION_REVOKED]})).data
    return client, config


def capture(engine, capture_id):
    return engine.writer._conn.execute(
        "SELECT origin, verdict, response_status FROM captures WHERE id = ?", (capture_id,)).fetchone()


async def test_push_round_trip_is_confirmed_when_our_receiver_gets_the_set_with_our_state(sim):
    engine, subs = sim
    client, config = await push_stream(engine, subs)
    outcome = await subs.verify(client, config, timeout=5)
    assert outcome.result == "confirmed", outcome.detail
    assert capture(engine, outcome.capture_id) == ("push", "valid", 202)
    assert engine.receiver.expected_states == {}  # the state is no longer awaited


async def test_poll_round_trip_is_confirmed_and_the_set_acknowledged(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({})).data
    outcome = await subs.verify(client, config, timeout=5)
    assert outcome.result == "confirmed", outcome.detail
    assert capture(engine, outcome.capture_id) == ("poll", "valid", 202)
    states = engine.writer._conn.execute("SELECT state FROM deliveries WHERE mode = 'poll'").fetchall()
    assert states == [("delivered",)]


async def test_a_verification_set_with_another_state_is_a_mismatch(sim):
    engine, subs = sim
    client, config = await push_stream(engine, subs)
    stream_id = config["stream_id"]
    future = subs.tracker.expect(stream_id, "the-state-we-sent")
    await client.request_verification(stream_id, "someone-elses-state")
    outcome = await subs.tracker.wait(stream_id, "the-state-we-sent", future, 5)
    assert outcome.result == "mismatch" and "someone-elses-state" in outcome.detail
    # and the receiver answered it as RFC 8935 / SSF 8.1.4.1 say: 400 invalid_state
    origin, verdict, status = capture(engine, outcome.capture_id)
    assert (verdict, status) == ("invalid", 400)


async def test_a_verification_set_that_fails_verification_is_reported_invalid(sim):
    engine, subs = sim
    client, config = await push_stream(engine, subs)
    await engine.transmitter.configure(config["stream_id"], faults=["bad_signature"])
    outcome = await subs.verify(client, config, timeout=5)
    assert outcome.result == "invalid" and "invalid_key" in outcome.detail


async def test_no_set_in_time_is_a_timeout_naming_where_the_stream_pushes(sim):
    engine, subs = sim
    sink = await Sink().start()
    try:
        client, config = await push_stream(engine, subs, url=sink.url)
        outcome = await subs.verify(client, config, timeout=0.5)
        assert outcome.result == "timeout"
        assert f"pushes to {sink.url}, not to this receiver" in outcome.detail
        assert engine.receiver.expected_states == {}
    finally:
        await sink.runner.cleanup()


async def test_paused_stream_delivers_nothing_then_everything_in_order_on_resume(sim):
    engine, subs = sim
    client, config = await push_stream(engine, subs)
    stream_id = config["stream_id"]
    assert (await client.set_status(stream_id, "paused")).data["status"] == "paused"
    emitted = []
    for i in range(4):
        result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id,
                                               txn=f"t{i}")
        emitted += [e["jti"] for e in result.emitted]

    def received():
        return [r[0] for r in engine.writer._conn.execute(
            "SELECT jti FROM captures WHERE event_types LIKE '%session-revoked%' ORDER BY id")]

    await asyncio.sleep(0.3)
    assert received() == []
    assert (await client.set_status(stream_id, "enabled")).data["status"] == "enabled"
    await wait_for(lambda: len(received()) == 4, what="the held SETs")
    assert received() == emitted


async def test_paused_poll_stream_hands_out_nothing_then_everything_in_order(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer)
    config = (await client.create_stream({"events_requested": [SESSION_REVOKED]})).data
    stream_id = config["stream_id"]
    await client.set_status(stream_id, "paused")
    result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id, count=3)
    poller = subs.poller(client, config)
    assert (await poller.poll()).sets == []
    await client.set_status(stream_id, "enabled")
    outcome = await poller.poll()
    assert [s.jti for s in outcome.sets] == [e["jti"] for e in result.emitted]
