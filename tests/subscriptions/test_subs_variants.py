"""Tolerance: a transmitter answering with the spec's known variants (SSF-NOTES 5.1, 6, 11)."""

import pytest

from app.core.subscriptions import AuthSpec
from app.core.transmitter.streams import PUSH

TOKEN = AuthSpec(kind="bearer", token="pasted-token")


@pytest.fixture
async def client(sim, variant):
    _, subs = sim
    return await subs.connect(variant.issuer, TOKEN)


async def create(client):
    return await client.create_stream({"delivery": {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/events"}})


async def test_legacy_delivery_fields_are_normalised_and_noted(client):
    answer = await create(client)
    assert answer.data["delivery"] == {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/events"}
    assert "spec variant: legacy field delivery.delivery_method read as delivery.method" in answer.notes
    assert "spec variant: legacy field delivery.url read as delivery.endpoint_url" in answer.notes
    assert any("legacy delivery method https://schemas.openid.net/secevent/risc/delivery-method/push" in n
               for n in answer.notes)


async def test_a_single_object_for_the_list_is_read_as_a_list(client):
    await create(client)
    answer = await client.list_streams()
    assert [s["stream_id"] for s in answer.data] == ["s1"]
    assert any("one stream object instead of an array" in n for n in answer.notes)


@pytest.mark.parametrize("operation, status, note", [
    ("add", 204, "204 for add-subject"),
    ("remove", 200, "200 for remove-subject"),
    ("verify", 202, "202 instead of 204 for verification"),
    ("patch", 202, "202 Accepted"),
    ("status", 202, "202 Accepted"),
    ("delete", 200, "200 instead of 204"),
])
async def test_each_variant_status_is_accepted_and_noted_in_the_exchange(sim, client, operation, status, note):
    _, subs = sim
    stream_id = (await create(client)).data["stream_id"]
    subject = {"format": "email", "email": "jane@example.com"}
    call = {"add": lambda: client.add_subject(stream_id, subject),
            "remove": lambda: client.remove_subject(stream_id, subject),
            "verify": lambda: client.request_verification(stream_id),
            "patch": lambda: client.update_stream({"stream_id": stream_id, "description": "x"}),
            "status": lambda: client.set_status(stream_id, "paused"),
            "delete": lambda: client.delete_stream(stream_id)}[operation]
    answer = await call()
    assert answer.status == status
    assert any(n.startswith("spec variant: " + note) for n in answer.notes), answer.notes
    [recorded] = [e for e in await subs.exchanges() if e.id == answer.exchange_id]
    assert any(n.startswith("spec variant: " + note) for n in recorded.notes)


async def test_a_status_answer_without_stream_id_is_noted(client):
    stream_id = (await create(client)).data["stream_id"]
    answer = await client.get_status(stream_id)
    assert answer.data == {"status": "enabled"}
    assert "no stream_id in the status answer (SSF ID3 added it)" in answer.notes


async def test_continuous_polling_does_not_spin_when_the_transmitter_never_holds_a_long_poll(sim, client, variant):
    _, subs = sim
    config = {"stream_id": "p1", "delivery": {"method": "urn:ietf:rfc:8936", "endpoint_url": variant.base + "/mgmt/poll"}}
    outcomes = await subs.poller(client, config).run(seconds=0.6, interval=0.25)
    assert 1 <= len(outcomes) <= 4
    assert all(o.sets == [] and "no 'sets'" not in " ".join(o.notes) for o in outcomes)


async def test_a_set_polled_from_another_transmitter_verifies_with_its_keys_and_a_wrong_key_is_flagged(sim, client,
                                                                                                     variant):
    engine, subs = sim
    config = {"stream_id": "p1", "delivery": {"method": "urn:ietf:rfc:8936",
                                              "endpoint_url": variant.base + "/mgmt/poll-misKeyed"}}
    [polled] = (await subs.poller(client, config).poll()).sets
    assert polled.verdict == "valid", polled.description  # trusted by connect(), keys from its jwks_uri
    report = engine.writer._conn.execute("SELECT report FROM captures WHERE id = ?", (polled.capture_id,)).fetchone()[0]
    assert "the poll response keyed this SET by 'not-its-jti'; its jti is 'its-jti'" in report


async def test_the_simulators_deferred_changes_are_202s_our_client_reads_and_notes(make_sim):
    engine, subs = await make_sim(defer_changes=0.2)
    client = await subs.connect(engine.transmitter.issuer)
    created = await client.create_stream({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url}})
    stream_id = created.data["stream_id"]
    updated = await client.update_stream({"stream_id": stream_id, "description": "later"})
    assert updated.status == 202 and any("not processed yet" in n for n in updated.notes), updated.notes
    status = await client.set_status(stream_id, "paused", "maintenance")
    assert status.status == 202 and any("has not decided yet" in n for n in status.notes), status.notes
