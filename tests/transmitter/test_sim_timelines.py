"""Timelines of the simulator's deliveries, read back from the workspace."""

from app.core.timeline import DELIVERED, GAVE_UP, PENDING, RETRY, delivery_timeline, out_of_order, stream_lanes
from app.core.transmitter.delivery import ManualClock
from conftest import settle
from test_sim_push import emit, open_stream


async def test_503_twice_then_202_draws_three_attempts_with_labelled_backoff(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 503}, {"status": 503}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    pending = delivery_timeline(engine.writer._conn, d, clock.now())
    assert pending.state == "pending" and pending.gaps[-1].cause == "pending" and pending.pending_at
    for _ in range(3):
        clock.advance(6)
        await settle(engine)
    t = delivery_timeline(engine.writer._conn, d, clock.now())
    assert [a.outcome for a in t.attempts] == [RETRY, RETRY, DELIVERED]
    assert [g.cause for g in t.gaps] == ["backoff", "backoff"]
    assert t.gaps[0].label.endswith("backoff") and t.gaps[0].seconds >= 0.9


async def test_retry_after_wait_is_labelled_as_such(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 429, "headers": {"Retry-After": "2"}}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    clock.advance(3)
    await settle(engine)
    t = delivery_timeline(engine.writer._conn, d, clock.now())
    assert t.gaps[0].cause == "retry-after" and "Retry-After" in t.gaps[0].label


async def test_given_up_delivery_ends_in_a_given_up_marker(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    endpoint.script = [{"status": 500}]
    stream_id = await open_stream(engine, endpoint.url)
    await engine.transmitter.configure(stream_id, policy="github")
    [d] = await emit(engine, stream_id)
    await settle(engine)
    assert delivery_timeline(engine.writer._conn, d, 0).attempts[-1].outcome == GAVE_UP


async def test_stream_lanes_filter_by_state_and_show_out_of_order_arrival(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 503}]  # the first SET fails once, the second goes through at once
    stream_id = await open_stream(engine, endpoint.url)
    first, = await emit(engine, stream_id)
    await settle(engine)
    second, = await emit(engine, stream_id)
    await settle(engine)
    clock.advance(2)
    await settle(engine)
    lanes = stream_lanes(engine.writer._conn, stream_id, clock.now())
    assert [lane.delivery_id for lane in lanes] == [first, second]
    assert out_of_order(lanes) == [second]
    assert [lane.delivery_id for lane in stream_lanes(engine.writer._conn, stream_id, 0, state="delivered")] == [first, second]


async def test_poll_hand_out_is_pending_until_acknowledged(sim):
    from ssf_client import CAEP, SsfClient

    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    config = (await c.create({"events_requested": [CAEP + "session-revoked"]})).json()
    [e] = (await sim.transmitter.emit(event_type="session-revoked", subject={"format": "email", "email": "a@b.c"},
                                      stream_id=config["stream_id"])).emitted
    url = config["delivery"]["endpoint_url"]
    [jti] = (await c.poll(url, {"returnImmediately": True})).json()["sets"]
    assert delivery_timeline(sim.writer._conn, e["delivery_id"], 0).attempts[-1].outcome == PENDING
    await c.poll(url, {"ack": [jti], "maxEvents": 0, "returnImmediately": True})
    assert delivery_timeline(sim.writer._conn, e["delivery_id"], 0).attempts[-1].outcome == DELIVERED
    await c.close()
