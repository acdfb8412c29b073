"""Transmitter-wide knobs: one stream per receiver (409 on a second create), JWKS faults, and
receiver activity that survives a restart."""

import asyncio
import json
import time

import httpx
import pytest

from app.cli import build_parser
from app.core.transmitter.delivery import ManualClock
from app.core.transmitter.service import JWKS_FAULTS
from conftest import settle
from ssf_client import SsfClient, payload_of
from test_sim_poll_and_verify import emit, last_capture, push_to_own_receiver
from test_sim_push import open_stream

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
STREAM_UPDATED = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"


async def knobs(sim, body=None, *, token=None):
    headers = {"Authorization": f"Bearer {token or sim.transmitter.management_token}"}
    async with httpx.AsyncClient() as h:
        url = f"{sim.transmitter.base_url}/control/transmitter"
        return await (h.post(url, json=body, headers=headers) if body is not None else h.get(url, headers=headers))


async def test_one_stream_per_receiver_answers_409_to_a_second_create(make_sim, endpoint):
    sim = await make_sim(one_stream_per_receiver=True)
    first = await open_stream(sim, endpoint.url)
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    second = await c.create({"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": endpoint.url},
                             "events_requested": [SESSION_REVOKED]})
    assert second.status_code == 409
    assert first in second.json()["description"] and "PATCH" in second.json()["description"]
    assert len(sim.transmitter.streams) == 1
    assert (await c.delete(first)).status_code == 204
    assert (await c.create({"events_requested": [SESSION_REVOKED]})).status_code == 201
    await c.close()


async def test_the_knobs_change_at_run_time_and_are_validated(sim, endpoint):
    assert (await knobs(sim)).json()["one_stream_per_receiver"] is False
    await open_stream(sim, endpoint.url)
    changed = await knobs(sim, {"one_stream_per_receiver": True})
    assert changed.status_code == 200 and changed.json()["one_stream_per_receiver"] is True
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    assert (await c.create({"events_requested": [SESSION_REVOKED]})).status_code == 409
    await c.close()
    for bad, word in [({"jwks_fault": "flaky"}, "unknown jwks_fault"), ({"jwks_delay_seconds": -1}, "0 to 300"),
                      ({"one_stream_per_receiver": "yes"}, "true or false"), ({"colour": 1}, "unknown transmitter")]:
        answer = await knobs(sim, bad)
        assert answer.status_code == 400 and word in answer.json()["description"], bad
    assert (await knobs(sim, {}, token="wrong")).status_code == 401


async def jwks_answer(sim) -> httpx.Response:
    async with httpx.AsyncClient() as h:
        return await h.get(f"{sim.transmitter.base_url}/jwks.json")


async def test_jwks_unavailable_and_malformed(sim):
    await knobs(sim, {"jwks_fault": "unavailable"})
    down = await jwks_answer(sim)
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    await knobs(sim, {"jwks_fault": "malformed"})
    page = await jwks_answer(sim)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    await knobs(sim, {"jwks_fault": None})
    assert (await jwks_answer(sim)).json()["keys"][0]["kid"] == sim.transmitter.keys.active.kid


async def test_jwks_missing_active_key_still_publishes_keys_in_their_grace_period(sim):
    old = sim.transmitter.keys.active.kid
    new = await sim.transmitter.rotate_key()
    await knobs(sim, {"jwks_fault": "missing_active_key"})
    kids = [k["kid"] for k in (await jwks_answer(sim)).json()["keys"]]
    assert kids == [old] and new not in kids


async def test_jwks_slow_answers_after_the_delay(sim):
    await knobs(sim, {"jwks_fault": "slow", "jwks_delay_seconds": 0.3})
    start = time.monotonic()
    answer = await jwks_answer(sim)
    assert answer.status_code == 200 and time.monotonic() - start >= 0.3


async def key_check(sim) -> tuple[str, str]:
    _, report, _ = await last_capture(sim)
    from app.core.verify import expand_checks

    [check] = [c for c in expand_checks(json.loads(report)["checks"]) if c["name"] == "key"]
    return check["status"], check["detail"]


async def test_round_trip_jwks_outage_during_a_rotation_is_named_by_the_receivers_key_check(sim, client):
    stream_id = await push_to_own_receiver(sim, client)
    await emit(sim, stream_id)
    assert (await key_check(sim))[0] == "pass"  # cached keys: an outage alone changes nothing
    await knobs(sim, {"jwks_fault": "unavailable"})
    await emit(sim, stream_id)
    assert (await key_check(sim))[0] == "pass"
    await sim.transmitter.rotate_key()  # a new kid: our receiver must re-fetch, and cannot
    await emit(sim, stream_id)
    status, detail = await key_check(sim)
    assert status == "fail" and "not re-fetched" in detail  # the first fetch was moments ago
    sim.trust._last_fetch.clear()  # as if the re-fetch interval had passed
    await emit(sim, stream_id)
    status, detail = await key_check(sim)
    assert status == "fail" and "re-fetch failed" in detail and "503" in detail


async def test_round_trip_rotation_not_yet_published_fails_the_key_check(sim, client):
    stream_id = await push_to_own_receiver(sim, client)
    await emit(sim, stream_id)
    assert (await key_check(sim))[0] == "pass"  # our receiver now holds the first key
    await sim.transmitter.rotate_key()
    await knobs(sim, {"jwks_fault": "missing_active_key"})
    await emit(sim, stream_id)
    status, detail = await key_check(sim)
    assert status == "fail" and sim.transmitter.keys.active.kid in detail


async def test_receiver_activity_survives_a_restart(make_sim, endpoint, tmp_path):
    clock = ManualClock(1_000_000.0)
    ws = tmp_path / "activity.signalscope"
    engine = await make_sim(clock=clock, inactivity_timeout=600, workspace=ws)
    stream_id = await open_stream(engine, endpoint.url)  # activity at t0
    await engine.stop()
    clock.advance(500)
    again = await make_sim(clock=clock, inactivity_timeout=600, workspace=ws)
    clock.advance(200)  # 700 s since the receiver's last call, 200 s since the restart
    assert await again.transmitter.pause_inactive() == [stream_id]
    await settle(again)


def test_the_cli_offers_every_jwks_fault():
    action = next(a for a in build_parser()._subparsers._group_actions[0].choices["headless"]._actions
                  if a.dest == "jwks_fault")
    assert sorted(action.choices) == sorted(JWKS_FAULTS)


async def test_deferred_changes_answer_202_and_apply_later(sim, endpoint):
    stream_id = await open_stream(sim, endpoint.url)
    await knobs(sim, {"defer_changes_seconds": 0.2})
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    patched = await c.patch({"stream_id": stream_id, "description": "later"})
    paused = await c.set_status(stream_id, "paused", "maintenance")
    assert (patched.status_code, paused.status_code) == (202, 202)
    assert (await c.read(stream_id)).json().get("description") != "later"  # accepted, not yet processed
    assert (await c.status(stream_id)).json()["status"] == "enabled"
    bad = await c.patch({"stream_id": stream_id, "iss": "https://elsewhere.example"})
    assert bad.status_code == 400  # checked at once, even when deferred
    for _ in range(100):
        if (await c.status(stream_id)).json()["status"] == "paused":
            break
        await asyncio.sleep(0.02)
    assert (await c.read(stream_id)).json()["description"] == "later"
    assert (await c.status(stream_id)).json() == {"stream_id": stream_id, "status": "paused", "reason": "maintenance"}
    await settle(sim)
    events = [payload_of(r["body"].decode())["events"] for r in endpoint.requests]
    assert {"status": "paused", "reason": "maintenance"} in [e.get(STREAM_UPDATED) for e in events]
    await c.close()
