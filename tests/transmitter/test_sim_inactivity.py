"""inactivity_timeout (SSF 8.1.1): a stream whose receiver goes silent is paused, and told so first."""

from app.core.transmitter.delivery import ManualClock
from conftest import settle
from ssf_client import SsfClient, payload_of
from test_sim_push import open_stream

STREAM_UPDATED = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"


async def test_a_silent_receivers_stream_is_paused_after_a_stream_updated_set(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock, inactivity_timeout=60)
    stream_id = await open_stream(engine, endpoint.url)
    assert engine.transmitter.streams[stream_id].config(engine.transmitter.supported)["inactivity_timeout"] == 60
    clock.advance(59)
    assert await engine.transmitter.pause_inactive() == []
    clock.advance(2)
    assert await engine.transmitter.pause_inactive() == [stream_id]
    await settle(engine)
    stream = engine.transmitter.streams[stream_id]
    assert stream.status == "paused" and "inactivity_timeout" in stream.reason
    [req] = endpoint.requests
    assert payload_of(req["body"].decode())["events"][STREAM_UPDATED]["status"] == "paused"


async def test_a_management_call_naming_the_stream_counts_as_activity(make_sim, endpoint):
    clock = ManualClock(1_000_000.0)
    engine = await make_sim(clock=clock, inactivity_timeout=60)
    stream_id = await open_stream(engine, endpoint.url)
    clock.advance(40)
    client = SsfClient(engine.transmitter.issuer, engine.transmitter.management_token)
    await client.discover()
    assert (await client.status(stream_id)).status_code == 200
    clock.advance(40)
    assert await engine.transmitter.pause_inactive() == []  # 40 s since the status read
    assert (await client.status("no-such-stream")).status_code == 404
    clock.advance(30)
    assert await engine.transmitter.pause_inactive() == [stream_id]
    await client.close()
