"""Push delivery with retries, on a manual clock: every attempt recorded, the policy followed."""

import json

from app.core.store.deliveries import get_delivery
from app.core.transmitter.delivery import ManualClock
from conftest import settle
from ssf_client import CAEP, PUSH, SsfClient, payload_of

SESSION_REVOKED = CAEP + "session-revoked"
JANE = {"format": "email", "email": "jane@example.com"}


async def open_stream(engine, endpoint_url, **extra):
    c = SsfClient(engine.transmitter.issuer, engine.transmitter.management_token)
    await c.discover()
    config = (await c.create({"delivery": {"method": PUSH, "endpoint_url": endpoint_url, **extra},
                              "events_requested": [SESSION_REVOKED]})).json()
    await c.close()
    return config["stream_id"]


async def emit(engine, stream_id, **kw):
    result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id, **kw)
    return [e["delivery_id"] for e in result.emitted]


def delivery(engine, delivery_id):
    return get_delivery(engine.writer._conn, delivery_id)


async def test_push_request_has_the_rfc8935_headers_and_the_stream_authorization(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    stream_id = await open_stream(engine, endpoint.url + "/events", authorization_header="Bearer receiver-secret")
    [d] = await emit(engine, stream_id)
    await settle(engine)
    [req] = endpoint.requests
    assert req["headers"]["Content-Type"] == "application/secevent+jwt"
    assert req["headers"]["Accept"] == "application/json"
    assert req["headers"]["Authorization"] == "Bearer receiver-secret"
    assert payload_of(req["body"].decode())["events"].keys() == {SESSION_REVOKED}
    assert delivery(engine, d)["state"] == "delivered"


async def test_503_twice_then_202_makes_three_attempts_with_the_policy_waits(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 503}, {"status": 503}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    first = delivery(engine, d)
    assert first["state"] == "pending" and len(first["attempts"]) == 1
    wait = first["attempts"][0]["next_retry_at"] - first["attempts"][0]["ended_at"]
    assert 0.9 <= wait <= 1.1  # simulator policy: 1 s (+-10 % jitter)
    clock.advance(0.5)
    await settle(engine)
    assert len(delivery(engine, d)["attempts"]) == 1  # not due yet
    clock.advance(0.7)
    await settle(engine)
    second = delivery(engine, d)["attempts"][1]
    assert second["status"] == 503 and 4.5 <= second["next_retry_at"] - second["ended_at"] <= 5.5
    clock.advance(6)
    await settle(engine)
    final = delivery(engine, d)
    assert [a["status"] for a in final["attempts"]] == [503, 503, 202]
    assert final["state"] == "delivered" and final["attempts"][-1]["next_retry_at"] is None


async def test_429_retry_after_is_honoured_over_a_shorter_backoff(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 429, "headers": {"Retry-After": "120"}}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    attempt = delivery(engine, d)["attempts"][0]
    assert attempt["retry_after"] == 120
    assert attempt["next_retry_at"] - attempt["ended_at"] >= 120
    clock.advance(60)
    await settle(engine)
    assert len(endpoint.requests) == 1
    clock.advance(61)
    await settle(engine)
    assert delivery(engine, d)["state"] == "delivered"


async def test_410_retires_the_delivery_and_disables_the_stream(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    endpoint.script = [{"status": 410}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    assert delivery(engine, d)["state"] == "retired"
    stream = engine.transmitter.streams[stream_id]
    assert stream.status == "disabled" and "410" in stream.reason
    assert (await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id)).emitted == []


async def test_400_with_an_err_fails_without_retry_and_records_the_err(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    endpoint.script = [{"status": 400, "body": json.dumps({"err": "invalid_audience", "description": "not me"}),
                        "headers": {"Content-Type": "application/json"}}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    record = delivery(engine, d)
    assert record["state"] == "failed" and record["err"] == "invalid_audience"
    assert "not me" in record["attempts"][0]["response_body"]


async def test_a_redirect_is_a_failed_attempt_and_is_never_followed(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    endpoint.script = [{"status": 302, "headers": {"Location": endpoint.url + "/elsewhere"}}]
    stream_id = await open_stream(engine, endpoint.url + "/events")
    [d] = await emit(engine, stream_id)
    await settle(engine)
    assert [r["path"] for r in endpoint.requests] == ["/events"]
    attempt = delivery(engine, d)["attempts"][0]
    assert attempt["status"] == 302 and "not followed" in attempt["reason"]
    assert delivery(engine, d)["state"] == "pending"


async def test_a_slow_endpoint_is_a_timeout_and_a_closed_connection_a_transport_error(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock(), attempt_timeout=0.2)
    endpoint.script = [{"sleep": 1.0}, {"close": True}]
    stream_id = await open_stream(engine, endpoint.url)
    [d1] = await emit(engine, stream_id)
    await settle(engine)
    [d2] = await emit(engine, stream_id)
    await settle(engine)
    assert delivery(engine, d1)["attempts"][0]["error"].startswith("timeout")
    assert delivery(engine, d2)["attempts"][0]["status"] is None
    assert "closed" in delivery(engine, d2)["attempts"][0]["error"]


async def test_the_policy_gives_up_after_its_last_attempt(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock)
    endpoint.script = [{"status": 500}] * 10
    stream_id = await open_stream(engine, endpoint.url)
    await engine.transmitter.configure(stream_id, policy="slack")  # 1 try + 3 retries: 0 s, 1 min, 5 min
    [d] = await emit(engine, stream_id)
    for _ in range(6):
        await settle(engine)
        clock.advance(400)
    record = delivery(engine, d)
    assert len(record["attempts"]) == 4 and record["state"] == "failed"
    assert "gave up" in record["reason"]


async def test_pending_retries_survive_a_restart(make_sim, endpoint, tmp_path):
    ws = tmp_path / "restart.signalscope"
    clock = ManualClock(1_000_000.0)
    first = await make_sim(clock=clock, workspace=ws)
    endpoint.script = [{"status": 503}]
    stream_id = await open_stream(first, endpoint.url)
    [d] = await emit(first, stream_id)
    await settle(first)
    await first.stop()
    second = await make_sim(clock=clock, workspace=ws)
    assert second.transmitter.rescheduled == 1
    clock.advance(2)
    await settle(second)
    record = delivery(second, d)
    assert record["state"] == "delivered" and [a["n"] for a in record["attempts"]] == [1, 2]


async def test_paused_stream_holds_events_and_delivers_them_in_order_on_enable(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    stream_id = await open_stream(engine, endpoint.url)
    t = engine.transmitter
    await t.set_status(stream_id, "paused", None)
    ids = [(await emit(engine, stream_id, txn=f"t{i}"))[0] for i in range(5)]
    await settle(engine)
    assert endpoint.requests == []
    assert all(delivery(engine, i)["held"] for i in ids)
    await t.set_status(stream_id, "enabled", None)
    await settle(engine)
    assert [payload_of(r["body"].decode())["txn"] for r in endpoint.requests] == [f"t{i}" for i in range(5)]
    assert all(delivery(engine, i)["state"] == "delivered" for i in ids)


async def test_disabled_stream_drops_new_events_and_what_was_pending(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    endpoint.script = [{"status": 503}]
    stream_id = await open_stream(engine, endpoint.url)
    [d] = await emit(engine, stream_id)
    await settle(engine)
    await engine.transmitter.set_status(stream_id, "disabled", "admin")
    assert delivery(engine, d)["state"] == "failed" and "disabled" in delivery(engine, d)["reason"]
    result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id)
    assert result.emitted == [] and "disabled" in result.skipped[0]["reason"]


async def test_transmitter_initiated_pause_is_announced_with_a_stream_updated_set(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock())
    stream_id = await open_stream(engine, endpoint.url)
    await engine.transmitter.set_status(stream_id, "paused", "maintenance", by_transmitter=True)
    await settle(engine)
    [req] = endpoint.requests
    claims = payload_of(req["body"].decode())
    assert claims["events"] == {"https://schemas.openid.net/secevent/ssf/event-type/stream-updated":
                                {"status": "paused", "reason": "maintenance"}}
    assert claims["sub_id"] == {"format": "opaque", "id": stream_id}


async def test_removed_subject_gets_no_events_and_default_none_needs_an_added_subject(make_sim, endpoint):
    engine = await make_sim(clock=ManualClock(), default_subjects="NONE")
    stream_id = await open_stream(engine, endpoint.url)
    t = engine.transmitter
    skipped = await t.emit(event_type="session-revoked", subject=JANE, stream_id=stream_id)
    assert skipped.emitted == [] and "NONE" in skipped.skipped[0]["reason"]
    await t.add_subject({"stream_id": stream_id, "subject": {"format": "complex", "tenant": {"format": "opaque", "id": "T"}}})
    ok = await t.emit(event_type="session-revoked", stream_id=stream_id,
                      subject={"format": "complex", "tenant": {"format": "opaque", "id": "T"}, "user": JANE})
    assert len(ok.emitted) == 1
    await t.remove_subject({"stream_id": stream_id, "subject": {"format": "complex", "tenant": {"format": "opaque", "id": "T"}}})
    gone = await t.emit(event_type="session-revoked", stream_id=stream_id,
                        subject={"format": "complex", "tenant": {"format": "opaque", "id": "T"}, "user": JANE})
    assert gone.emitted == [] and "removed" in gone.skipped[0]["reason"]
