"""End to end: the simulator pushes to our own receiver while its fault rules misbehave on purpose."""

from app.core.faults import FaultRules
from app.core.timeline import DELIVERED, RETRY, delivery_timeline
from app.core.transmitter.delivery import ManualClock
from conftest import settle
from test_sim_push import emit, open_stream


async def rigged(make_sim, rules):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    await engine.set_fault_rules(FaultRules.from_json(rules))
    stream_id = await open_stream(engine, engine.receiver.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    return engine, clock, stream_id, d


async def run_for(engine, clock, seconds, step=1.0):
    for _ in range(int(seconds / step)):
        clock.advance(step)
        await settle(engine)


async def test_503_for_the_first_two_then_202_draws_three_attempts_with_the_right_waits(make_sim):
    engine, clock, _, d = await rigged(make_sim, [{"name": "down twice", "status": 503, "times": 2}])
    await run_for(engine, clock, 8)
    t = delivery_timeline(engine.writer._conn, d, clock.now())
    assert [a.status for a in t.attempts] == [503, 503, 202]
    assert [a.outcome for a in t.attempts] == [RETRY, RETRY, DELIVERED]
    assert 0.9 <= t.gaps[0].seconds <= 1.1 + 1.0 and 4.5 <= t.gaps[1].seconds <= 5.5 + 1.0  # policy wait, 1 s steps
    rules = [r[0] for r in engine.writer._conn.execute("SELECT rule FROM captures ORDER BY id")]
    assert rules == ["down twice", "down twice", None]


async def test_429_retry_after_2_is_honoured(make_sim):
    engine, clock, _, d = await rigged(make_sim, [{"name": "throttle", "retry_after": 2, "times": 1}])
    first = delivery_timeline(engine.writer._conn, d, clock.now()).attempts[0]
    assert first.status == 429 and first.retry_after == 2 and first.next_retry_at - first.ended_at >= 2
    await run_for(engine, clock, 3)
    t = delivery_timeline(engine.writer._conn, d, clock.now())
    assert [a.status for a in t.attempts] == [429, 202] and t.gaps[0].cause == "retry-after"


async def test_410_retires_the_stream(make_sim):
    engine, clock, stream_id, d = await rigged(make_sim, [{"name": "retired", "status": 410}])
    t = delivery_timeline(engine.writer._conn, d, clock.now())
    assert t.state == "retired" and len(t.attempts) == 1
    assert engine.transmitter.streams[stream_id].status == "disabled"


async def test_closed_connection_is_recorded_as_a_transport_error(make_sim):
    engine, clock, _, d = await rigged(make_sim, [{"name": "drop", "close": True, "times": 1}])
    first = delivery_timeline(engine.writer._conn, d, clock.now()).attempts[0]
    assert first.status is None and "closed" in first.error
    await run_for(engine, clock, 2)
    assert delivery_timeline(engine.writer._conn, d, clock.now()).state == "delivered"
