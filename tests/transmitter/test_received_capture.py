"""From a delivery attempt to the capture our own receiver made of it (Signalscope-Capture)."""

import httpx

from app.core.faults import FaultRules
from app.core.store.deliveries import get_delivery
from app.core.timeline import delivery_timeline, received_capture
from app.core.transmitter.delivery import ManualClock
from conftest import settle
from test_sim_push import emit, open_stream


async def test_each_attempt_to_our_receiver_leads_to_its_own_capture(make_sim):
    clock = ManualClock(1_000_000.0)  # attempt times are virtual: the link must not depend on them
    engine = await make_sim(clock=clock)
    await engine.set_fault_rules(FaultRules.from_json([{"name": "down once", "status": 503, "times": 1}]))
    stream_id = await open_stream(engine, engine.receiver.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    clock.advance(2)
    await settle(engine)
    conn = engine.writer._conn
    delivery = get_delivery(conn, d)
    marks = delivery_timeline(conn, d, clock.now()).attempts
    found = [received_capture(conn, delivery, m) for m in marks]
    rows = conn.execute("SELECT id, response_status, jti FROM captures WHERE jti = ? ORDER BY id",
                        (delivery["jti"],)).fetchall()
    assert [r[1] for r in rows] == [503, 202]
    assert found == [rows[0][0], rows[1][0]]


async def test_an_attempt_elsewhere_has_no_capture(make_sim, endpoint):
    engine = await make_sim()
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    conn = engine.writer._conn
    [mark] = delivery_timeline(conn, d, engine.transmitter.clock.now()).attempts
    assert mark.status == 202 and received_capture(conn, get_delivery(conn, d), mark) is None


async def test_a_capture_id_naming_another_request_is_not_taken(make_sim):
    engine = await make_sim()
    async with httpx.AsyncClient() as h:
        answer = await h.post(engine.receiver.url, json={"type": "invoice.paid"})
    other = int(answer.headers["Signalscope-Capture"])
    conn = engine.writer._conn
    assert conn.execute("SELECT id FROM captures").fetchall() == [(other,)]
    from app.core.timeline import AttemptMark

    forged = AttemptMark(1, 0.0, 0.0, 202, None, "delivered", detail={"response_headers": [["Signalscope-Capture", str(other)]]})
    assert received_capture(conn, {"jti": "some-other-jti", "capture_id": None}, forged) is None
