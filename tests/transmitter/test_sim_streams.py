"""The stream management API as an SSF receiver sees it (SSF 1.0 section 8), over loopback."""

import httpx

from ssf_client import CAEP, POLL, PUSH, SsfClient, well_known

SESSION_REVOKED = CAEP + "session-revoked"


def push_body(url="http://127.0.0.1:9/events", **extra):
    return {"delivery": {"method": PUSH, "endpoint_url": url}, "events_requested": [SESSION_REVOKED], **extra}


async def test_metadata_advertises_every_endpoint_it_serves(sim, client):
    meta = client.meta
    assert meta["spec_version"] == "1_0"
    assert meta["delivery_methods_supported"] == [PUSH, POLL]
    for name in ("configuration_endpoint", "status_endpoint", "add_subject_endpoint", "remove_subject_endpoint",
                 "verification_endpoint", "jwks_uri"):
        r = await client.http.request("OPTIONS", meta[name])
        assert r.status_code != 404, name
    assert meta["default_subjects"] == "ALL"
    assert meta["authorization_schemes"]


async def test_metadata_is_inserted_before_the_issuer_path(make_sim):
    engine = await make_sim(issuer_path="/tenant1")
    issuer = engine.transmitter.issuer
    assert issuer.endswith("/tenant1")
    async with httpx.AsyncClient() as http:
        assert (await http.get(well_known(issuer))).json()["issuer"] == issuer
        assert (await http.get(issuer + "/.well-known/ssf-configuration")).status_code == 404


async def test_jwks_has_public_keys_only(client):
    jwks = await client.jwks()
    assert jwks["keys"]
    for key in jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
        assert key["use"] == "sig" and key["kid"] and key["alg"] == "ES256"


async def test_management_calls_need_the_bearer_token(sim, client):
    async with httpx.AsyncClient() as anonymous:
        r = await anonymous.get(client.meta["configuration_endpoint"])
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        r = await anonymous.get(client.meta["configuration_endpoint"], headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


async def test_create_push_stream_returns_201_with_transmitter_supplied_fields(client):
    r = await client.create(push_body(description="mine"))
    assert r.status_code == 201
    config = r.json()
    assert config["iss"] == client.issuer and config["stream_id"] and config["aud"]
    assert config["events_delivered"] == [SESSION_REVOKED]
    assert SESSION_REVOKED in config["events_supported"]
    assert config["delivery"] == {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/events"}
    assert config["description"] == "mine"
    assert config["min_verification_interval"] > 0 and config["inactivity_timeout"] > 0


async def test_create_without_delivery_assumes_poll_with_a_transmitter_url(client):
    config = (await client.create({"events_requested": [SESSION_REVOKED]})).json()
    assert config["delivery"]["method"] == POLL
    assert config["delivery"]["endpoint_url"].endswith("/ssf/poll/" + config["stream_id"])


async def test_unsupported_delivery_method_is_400(client):
    r = await client.create({"delivery": {"method": "urn:example:carrier-pigeon"}})
    assert r.status_code == 400
    assert "carrier-pigeon" in r.json()["description"]


async def test_legacy_delivery_shape_is_normalised_to_the_final_one(client):
    r = await client.create({"delivery": {"delivery_method": "https://schemas.openid.net/secevent/risc/delivery-method/push",
                                          "url": "http://127.0.0.1:9/risc"}})
    assert r.status_code == 201
    assert r.json()["delivery"] == {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/risc"}


async def test_read_one_and_read_all(client):
    a = (await client.create(push_body())).json()
    b = (await client.create({})).json()
    everything = (await client.read()).json()
    assert {s["stream_id"] for s in everything} == {a["stream_id"], b["stream_id"]}
    assert (await client.read(a["stream_id"])).json() == a
    assert (await client.read("no-such-stream")).status_code == 404


async def test_patch_changes_only_what_it_names(client):
    config = (await client.create(push_body(description="before"))).json()
    r = await client.patch({"stream_id": config["stream_id"], "description": "after"})
    assert r.status_code == 200
    assert r.json()["description"] == "after"
    assert r.json()["events_requested"] == [SESSION_REVOKED]


async def test_put_replaces_and_missing_receiver_fields_are_removed(client):
    config = (await client.create(push_body(description="before"))).json()
    r = await client.put({"stream_id": config["stream_id"], "delivery": config["delivery"]})
    assert r.status_code == 200
    assert "description" not in r.json() and r.json()["events_requested"] == []
    assert r.json()["events_delivered"] == []


async def test_changing_a_transmitter_supplied_field_is_400(client):
    config = (await client.create(push_body())).json()
    r = await client.patch({"stream_id": config["stream_id"], "aud": "https://someone-else.example"})
    assert r.status_code == 400 and "aud" in r.json()["description"]
    same = await client.patch({"stream_id": config["stream_id"], "aud": config["aud"], "description": "ok"})
    assert same.status_code == 200


async def test_delete_is_204_then_404(client):
    config = (await client.create(push_body())).json()
    assert (await client.delete(config["stream_id"])).status_code == 204
    assert (await client.read(config["stream_id"])).status_code == 404
    assert (await client.delete(config["stream_id"])).status_code == 404


async def test_status_read_and_update_with_reason(client):
    stream_id = (await client.create(push_body())).json()["stream_id"]
    assert (await client.status(stream_id)).json() == {"stream_id": stream_id, "status": "enabled"}
    r = await client.set_status(stream_id, "paused", "maintenance")
    assert r.status_code == 200 and r.json() == {"stream_id": stream_id, "status": "paused", "reason": "maintenance"}
    assert (await client.set_status(stream_id, "sleeping")).status_code == 400
    assert (await client.status("nope")).status_code == 404


async def test_add_subject_200_remove_subject_204_and_invalid_subject_400(client):
    stream_id = (await client.create(push_body())).json()["stream_id"]
    subject = {"format": "email", "email": "jane@example.com"}
    r = await client.add_subject(stream_id, subject)
    assert r.status_code == 200 and r.content == b""
    assert (await client.remove_subject(stream_id, subject)).status_code == 204
    bad = await client.add_subject(stream_id, {"format": "email"})
    assert bad.status_code == 400 and "email" in bad.json()["description"]


async def test_streams_survive_a_restart_of_the_engine(make_sim, tmp_path):
    ws = tmp_path / "persist.signalscope"
    first = await make_sim(workspace=ws)
    c = SsfClient(first.transmitter.issuer, first.transmitter.management_token)
    await c.discover()
    stream_id = (await c.create(push_body())).json()["stream_id"]
    token = first.transmitter.management_token
    kids = [k["kid"] for k in (await c.jwks())["keys"]]
    await c.close()
    await first.stop()
    second = await make_sim(workspace=ws)
    assert second.transmitter.management_token == token
    assert stream_id in second.transmitter.streams
    assert [k.kid for k in second.transmitter.keys.published()] == kids
