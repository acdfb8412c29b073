"""The push scheduler itself: its worker pool, its timer, run_due and stop, and how attempts are stored."""

import asyncio

import pytest
from aiohttp import web

from app.core.bus import Bus
from app.core.store import deliveries as store
from app.core.store.schema import open_workspace
from app.core.store.writer import StoreWriter
from app.core.transmitter.delivery import DeliveryConfig, ManualClock, PushDeliverer, PushDelivery, ScaledClock


class CountingEndpoint:
    """Answers with the scripted statuses (then 202), after `delay` seconds; counts concurrent requests."""

    def __init__(self, statuses=(), delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.active = self.peak = self.requests = 0

    async def handle(self, request):
        await request.read()
        self.requests += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        return web.Response(status=self.statuses.pop(0) if self.statuses else 202)


@pytest.fixture
async def serve():
    runners = []

    async def start(endpoint: CountingEndpoint) -> str:
        app = web.Application()
        app.router.add_post("/events", endpoint.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/events"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def writer(tmp_path):
    w = StoreWriter(open_workspace(tmp_path / "ws.signalscope"))
    yield w
    await w.close()


async def add_deliveries(writer, url, n, now):
    ids = await writer.run(store.insert_deliveries(
        [store.NewDelivery(None, f"jti-{i}", None, b"{}", "push", url, now, "simulator") for i in range(n)]))
    return [PushDelivery(i, None, f"jti-{k}", b"{}", url, now, "simulator") for k, i in enumerate(ids)]


def states(writer, ids):
    return [store.get_delivery(writer._conn, i)["state"] for i in ids]


async def test_no_more_than_max_in_flight_attempts_run_at_once(writer, serve):
    endpoint = CountingEndpoint(delay=0.05)
    url = await serve(endpoint)
    clock = ManualClock()
    push = PushDeliverer(writer, Bus(), clock=clock, config=DeliveryConfig(max_in_flight=3))
    await push.start(writer._conn)
    try:
        items = await add_deliveries(writer, url, 10, clock.now())
        for d in items:
            push.schedule(d)
        assert await push.run_due() == 10
        assert endpoint.peak == 3 and endpoint.requests == 10
        assert push.in_flight == 0 and push.scheduled == 0
        assert states(writer, [d.id for d in items]) == ["delivered"] * 10
    finally:
        await push.stop()


async def test_a_retry_due_later_is_started_by_the_timer_without_run_due(writer, serve):
    url = await serve(CountingEndpoint(statuses=[503]))
    clock = ScaledClock(100.0)  # the simulator policy's 1 s wait takes ~10 ms
    push = PushDeliverer(writer, Bus(), clock=clock)
    await push.start(writer._conn)
    try:
        [d] = await add_deliveries(writer, url, 1, clock.now())
        push.schedule(d)
        for _ in range(200):  # bounded: ~2 s at most
            if states(writer, [d.id]) == ["delivered"]:
                break
            await asyncio.sleep(0.01)
        assert [a["status"] for a in store.attempts_of(writer._conn, d.id)] == [503, 202]
    finally:
        await push.stop()


async def test_a_delivery_not_yet_due_waits_for_its_time(writer, serve):
    endpoint = CountingEndpoint()
    url = await serve(endpoint)
    clock = ManualClock(1_000_000.0)
    push = PushDeliverer(writer, Bus(), clock=clock)
    await push.start(writer._conn)
    try:
        [d] = await add_deliveries(writer, url, 1, clock.now())
        push.schedule(d, clock.now() + 10)
        assert await push.run_due() == 0 and endpoint.requests == 0
        clock.advance(10)
        assert await push.run_due() == 1 and endpoint.requests == 1
    finally:
        await push.stop()


async def test_a_dropped_delivery_is_never_attempted(writer, serve):
    endpoint = CountingEndpoint()
    url = await serve(endpoint)
    clock = ManualClock(1_000_000.0)
    push = PushDeliverer(writer, Bus(), clock=clock)
    await push.start(writer._conn)
    try:
        a, b = await add_deliveries(writer, url, 2, clock.now())
        push.schedule(a, clock.now() + 5)
        push.schedule(b, clock.now() + 5)
        push.drop({a.id})
        clock.advance(5)
        assert await push.run_due() == 1
        assert states(writer, [a.id, b.id]) == ["pending", "delivered"]
    finally:
        await push.stop()


async def test_stop_lets_attempts_in_flight_finish_and_be_recorded(writer, serve):
    url = await serve(CountingEndpoint(delay=0.1))
    clock = ManualClock()
    push = PushDeliverer(writer, Bus(), clock=clock)
    await push.start(writer._conn)
    items = await add_deliveries(writer, url, 3, clock.now())
    for d in items:
        push.schedule(d)
    await asyncio.sleep(0.02)
    assert push.in_flight == 3
    await push.stop()
    assert states(writer, [d.id for d in items]) == ["delivered"] * 3


async def test_attempts_ending_in_one_turn_share_one_commit(writer, serve):
    url = await serve(CountingEndpoint())
    clock = ManualClock()
    push = PushDeliverer(writer, Bus(), clock=clock)
    await push.open()
    try:
        items = await add_deliveries(writer, url, 5, clock.now())
        await push.attempt(items[0])  # connection made
        before = writer.commits
        # attempt() records, then awaits the commit: finishing together, they are stored together.
        assert await asyncio.gather(*(push.attempt(d) for d in items[1:])) == ["delivered"] * 4
        assert writer.commits - before <= 2
        assert states(writer, [d.id for d in items]) == ["delivered"] * 5
        assert [len(store.attempts_of(writer._conn, d.id)) for d in items] == [1] * 5
    finally:
        await push.stop()


async def test_inserted_deliveries_get_their_ids_in_order_across_statements(writer):
    n = store.INSERT_ROWS * 2 + 7
    items = [store.NewDelivery("s", f"jti-{i % 3}", None, f"body {i}".encode(), "push", "http://127.0.0.1:9/", 1.0,
                               "simulator") for i in range(n)]
    ids = await writer.run(store.insert_deliveries(items))
    assert len(ids) == n and ids == sorted(ids) and len(set(ids)) == n
    bodies = dict(writer._conn.execute("SELECT id, body FROM deliveries"))
    assert [bytes(bodies[i]) for i in ids] == [f"body {i}".encode() for i in range(n)]


async def test_each_attempt_records_its_own_answer_headers_also_when_they_repeat(writer, serve):
    endpoint = CountingEndpoint()
    url = await serve(endpoint)
    push = PushDeliverer(writer, Bus(), clock=ManualClock())
    await push.open()
    try:
        items = await add_deliveries(writer, url, 3, 1.0)
        for d in items:
            await push.attempt(d)
        recorded = [dict(store.attempts_of(writer._conn, d.id)[0]["response_headers"]) for d in items]
        assert all(h["Content-Length"] == "0" and "Date" in h for h in recorded)
        batch = store.AttemptBatch()
        batch.add(store.AttemptRecord(items[0].id, 2, 2.0, 2.0, 202, None, 1.0, [("X-Other", "1")]), state="delivered")
        batch.add(store.AttemptRecord(items[1].id, 2, 2.0, 2.0, 202, None, 1.0, [["X-Listed", "2"]]), state="delivered")
        await writer.run(batch.write)
        assert store.attempts_of(writer._conn, items[0].id)[1]["response_headers"] == [("X-Other", "1")]
        assert store.attempts_of(writer._conn, items[1].id)[1]["response_headers"] == [("X-Listed", "2")]
    finally:
        await push.stop()
