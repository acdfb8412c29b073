"""Replay targets (our receiver, a URL, a simulator stream), the remembered last target,
bulk runs over a selection, and the replay history the window lists."""

import asyncio
import json

import aiohttp
import pytest

from app.core.replay import ReplayEditError, exact_request
from app.core.replay_history import replay_entries, run_items
from app.core.replay_runs import Selection
from app.core.replay_targets import (RECEIVER, STREAM, URL, ReplayTarget, load_last_target, run_selection,
                                     save_last_target_op, send_to, stream_choices)
from app.core.store.captures import get_capture
from conftest import settle
from ssf_client import PUSH, SsfClient


async def webhook(sim, n=0):
    async with aiohttp.ClientSession() as s:
        await s.post(sim.receiver.base_url + "/hooks", data=json.dumps({"n": n}).encode(),
                     headers={"Content-Type": "application/json"})
    conn = sim.writer._conn
    return get_capture(conn, conn.execute("SELECT max(id) FROM captures").fetchone()[0])


def test_targets_check_and_round_trip_through_json():
    assert ReplayTarget.from_json(ReplayTarget(URL, "http://127.0.0.1:9/x").to_json()) == ReplayTarget(URL, "http://127.0.0.1:9/x")
    assert ReplayTarget.from_json({"kind": URL, "url": "ftp://x"}) is None
    assert ReplayTarget.from_json({"kind": "nowhere"}) is None
    assert ReplayTarget(RECEIVER).describe() == "this app's receiver"
    with pytest.raises(ReplayEditError, match="target: no stream"):
        ReplayTarget(STREAM).check()


async def test_the_last_target_is_kept_in_the_workspace(sim):
    assert load_last_target(sim.writer._conn) is None
    await sim.writer.run(save_last_target_op(ReplayTarget(URL, "http://127.0.0.1:1/hook")))
    assert load_last_target(sim.writer._conn) == ReplayTarget(URL, "http://127.0.0.1:1/hook")


async def test_a_replay_to_our_receiver_is_a_new_capture_and_listed_as_a_single_replay(sim):
    capture = await webhook(sim)
    outcome = await send_to(sim, exact_request(capture), ReplayTarget(RECEIVER))
    assert outcome.ok and outcome.status == 200
    newest = sim.writer._conn.execute("SELECT max(id) FROM captures").fetchone()[0]
    assert get_capture(sim.writer._conn, newest)["body"] == capture["body"]
    [entry] = replay_entries(sim.writer._conn)
    assert (entry["kind"], entry["id"], entry["state"], entry["result"]) == ("replay", outcome.delivery_id, "delivered", "HTTP 200")
    assert entry["what"] == f"capture #{capture['id']}"


async def test_a_replay_into_a_stream_is_queued_on_it(sim, endpoint):
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    stream_id = (await c.create({"delivery": {"method": PUSH, "endpoint_url": endpoint.url}})).json()["stream_id"]
    await c.close()
    assert [s for s, _ in stream_choices(sim)] == [stream_id]
    capture = await webhook(sim)
    with pytest.raises(ReplayEditError, match="stream carries SETs"):
        await send_to(sim, exact_request(capture), ReplayTarget(STREAM, stream_id=stream_id))
    req = exact_request(capture)
    req.body = b"a.b.c"
    outcome = await send_to(sim, req, ReplayTarget(STREAM, stream_id=stream_id))
    assert outcome.state == "pending" and "queued on stream" in outcome.notes[-1]
    await settle(sim)
    assert [r["body"] for r in endpoint.requests] == [b"a.b.c"]
    with pytest.raises(ReplayEditError, match="target: "):
        await send_to(sim, req, ReplayTarget(STREAM, stream_id="no-such-stream"))


async def test_run_selection_replays_the_filter_and_lists_its_items(sim, endpoint):
    captures = [await webhook(sim, n) for n in range(3)]
    summary = await run_selection(sim, Selection(ids=[c["id"] for c in captures[:2]]),
                                  target=ReplayTarget(URL, endpoint.url), rate=100)
    assert summary.state == "finished" and summary.succeeded == 2
    assert [json.loads(r["body"])["n"] for r in endpoint.requests] == [0, 1]
    [entry] = replay_entries(sim.writer._conn)
    assert (entry["kind"], entry["state"], entry["result"]) == ("run", "finished", "2 delivered, 0 failed")
    assert [d["capture_id"] for d in run_items(sim.writer._conn, summary.run_id)] == [c["id"] for c in captures[:2]]


async def test_run_selection_resigned_needs_no_edits_and_cancel_stops_it(sim, endpoint):
    for n in range(30):
        await webhook(sim, n)
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, cancel.set)
    summary = await run_selection(sim, Selection(), target=ReplayTarget(URL, endpoint.url), mode="resign", rate=30,
                                  cancel=cancel)
    assert summary.state == "cancelled" and 0 < summary.sent < 30


async def test_run_selection_into_a_stream_queues_each_set_with_the_run(sim, endpoint):
    from peers import PeerIssuer

    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    stream_id = (await c.create({"delivery": {"method": PUSH, "endpoint_url": endpoint.url}})).json()["stream_id"]
    await c.close()
    peer = PeerIssuer()
    async with aiohttp.ClientSession() as s:
        for _ in range(3):
            await s.post(sim.receiver.url, data=peer.set(), headers={"Content-Type": "application/secevent+jwt"})
    summary = await run_selection(sim, Selection(), target=ReplayTarget(STREAM, stream_id=stream_id))
    assert summary.state == "finished" and summary.succeeded == 3
    await settle(sim)
    assert len(endpoint.requests) == 3
    states = sim.writer._conn.execute("SELECT state FROM deliveries WHERE run_id = ?", (summary.run_id,)).fetchall()
    assert states == [("delivered",)] * 3
    missing = await run_selection(sim, Selection(), target=ReplayTarget(STREAM, stream_id="x"))
    assert missing.failed == 3 and all("no stream" in o.error for o in missing.outcomes)
