"""Every SSF 8 management operation against the built-in simulator, and what the log keeps."""

import json

import pytest

from app.core.subscriptions import AuthSpec, ExchangeRecorded, TransmitterError
from app.core.transmitter.streams import POLL, PUSH
from subs_peers import AUDIENCE

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
CREDENTIAL_CHANGE = CAEP + "credential-change"
JANE = {"format": "email", "email": "jane@example.com"}


@pytest.fixture
async def client(sim):
    engine, subs = sim
    return await subs.connect(engine.transmitter.issuer)


async def test_the_simulator_is_preauthorised(sim, client):
    engine, _ = sim
    assert (await client.list_streams()).data == []
    assert client.auth.kind == "bearer"


async def test_create_push_and_poll_streams(sim, client):
    engine, _ = sim
    push = await client.create_stream({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url},
                                       "events_requested": [SESSION_REVOKED]})
    assert push.status == 201 and push.notes == []
    assert push.data["delivery"] == {"method": PUSH, "endpoint_url": engine.receiver.url}
    assert push.data["events_delivered"] == [SESSION_REVOKED] and push.data["aud"] == AUDIENCE
    poll = await client.create_stream({"events_requested": [SESSION_REVOKED]})
    assert poll.data["delivery"]["method"] == POLL
    assert poll.data["delivery"]["endpoint_url"].startswith(engine.transmitter.base_url + "/ssf/poll/")
    listed = (await client.list_streams()).data
    assert sorted(s["stream_id"] for s in listed) == sorted([push.data["stream_id"], poll.data["stream_id"]])


async def test_read_update_replace_delete(client):
    stream_id = (await client.create_stream({"events_requested": [SESSION_REVOKED]})).data["stream_id"]
    assert (await client.get_stream(stream_id)).data["stream_id"] == stream_id
    patched = await client.update_stream({"stream_id": stream_id, "description": "ci"})
    assert patched.status == 200 and patched.data["description"] == "ci"
    assert patched.data["events_requested"] == [SESSION_REVOKED]  # PATCH leaves the rest alone
    replaced = await client.replace_stream({"stream_id": stream_id, "delivery": {"method": POLL},
                                            "events_requested": [CREDENTIAL_CHANGE]})
    assert replaced.data["events_delivered"] == [CREDENTIAL_CHANGE] and "description" not in replaced.data
    assert (await client.delete_stream(stream_id)).status == 204
    with pytest.raises(TransmitterError, match=r"not found \(HTTP 404\)") as caught:
        await client.get_stream(stream_id)
    assert caught.value.status == 404


async def test_status_read_and_update(client):
    stream_id = (await client.create_stream({})).data["stream_id"]
    assert (await client.get_status(stream_id)).data == {"stream_id": stream_id, "status": "enabled"}
    paused = await client.set_status(stream_id, "paused", "maintenance")
    assert paused.data == {"stream_id": stream_id, "status": "paused", "reason": "maintenance"}
    assert (await client.get_status(stream_id)).data["status"] == "paused"


async def test_an_unknown_status_is_refused_before_any_request(client):
    with pytest.raises(TransmitterError, match="status must be one of enabled, paused, disabled"):
        await client.set_status("x", "asleep")


async def test_add_subject_with_verified_false_and_remove_it(sim, client):
    engine, _ = sim
    stream_id = (await client.create_stream({})).data["stream_id"]
    assert (await client.add_subject(stream_id, JANE, verified=False)).status == 200
    assert engine.transmitter.subjects[stream_id] == [{"subject": JANE, "verified": False, "removed": False}]
    assert (await client.remove_subject(stream_id, JANE)).status == 204
    assert engine.transmitter.subjects[stream_id][0]["removed"] is True


async def test_verification_request_carries_a_generated_state(client):
    stream_id = (await client.create_stream({})).data["stream_id"]
    a = await client.request_verification(stream_id)
    assert a.status == 204 and len(a.data["state"]) >= 16
    with pytest.raises(TransmitterError, match=r"HTTP 429.*retry after \d+ s") as caught:
        await client.request_verification(stream_id)  # min_verification_interval
    assert caught.value.retry_after >= 1


async def test_a_wrong_token_is_401_in_one_sentence(sim):
    engine, subs = sim
    client = await subs.connect(engine.transmitter.issuer, AuthSpec(kind="bearer", token="wrong"))
    with pytest.raises(TransmitterError, match=r"refused the credentials \(HTTP 401\): the management token is wrong"):
        await client.list_streams()


async def test_exchanges_are_recorded_redacted_and_announced(sim, client):
    engine, subs = sim
    seen = []
    engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, ExchangeRecorded) else None)
    await client.create_stream({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url,
                                             "authorization_header": "Bearer receiver-secret"}})
    [ex] = [e for e in await subs.exchanges() if e.operation == "create"]
    assert ex.method == "POST" and ex.status == 201 and ex.duration_ms > 0 and ex.started_at > 0
    assert ("authorization", "Bearer [redacted]") in ex.request_headers
    assert json.loads(ex.request_body)["delivery"]["authorization_header"] == "[redacted]"
    assert json.loads(ex.response_body)["delivery"]["authorization_header"] == "[redacted]"
    rows = engine.writer._conn.execute("SELECT * FROM transmitter_exchanges").fetchall()
    text = json.dumps(rows, default=str)
    assert engine.transmitter.management_token not in text and "receiver-secret" not in text
    assert [(e.operation, e.status) for e in seen] == [("create", 201)]
    assert seen[0].exchange_id == ex.id
