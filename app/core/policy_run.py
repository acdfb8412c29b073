"""The policy lab's "actual" run: the real push deliverer against a scripted endpoint, at accelerated time.

`policy_lab.simulate` computes what a policy *plans* against an endpoint script, on a
virtual clock, instantly. `run_actual` checks that plan against what the engine really
does: it serves the script from an aiohttp endpoint on 127.0.0.1, makes one delivery
through `PushDeliverer` (the code that delivers the simulator's SETs) with a
`ScaledClock`, so hours of backoff pass in seconds, and returns the timeline of the
recorded attempts. Planned and actual drawn together show the engine follows the
policy (and where real latency and scheduling shift it).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from aiohttp import web

from app.core.bus import Bus
from app.core.policy_lab import EndpointScript, simulate
from app.core.retry import RetryPolicy
from app.core.store import deliveries as store
from app.core.store.schema import open_workspace
from app.core.store.writer import StoreWriter
from app.core.timeline import Timeline, build_timeline
from app.core.transmitter.delivery import DeliveryConfig, PushDeliverer, PushDelivery, ScaledClock

SLOW = 0.5  # real seconds a scripted "timeout" holds the answer back (the attempt deadline is shorter)


async def _serve(script: EndpointScript, clock: ScaledClock) -> tuple[web.AppRunner, str]:
    first: list[float] = []
    count = [0]

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        count[0] += 1
        now = clock.now()
        first[:1] = first[:1] or [now]
        step = script.respond(count[0], now - first[0])
        if step.error:
            if "timeout" in step.error:
                await asyncio.sleep(SLOW)
            request.transport.close()
            return web.Response(status=204)
        headers = {"Retry-After": f"{step.retry_after:.0f}"} if step.retry_after is not None else {}
        body = b'{"err": "invalid_request", "description": "scripted"}' if step.status == 400 else b""
        return web.Response(status=step.status, body=body, headers=headers,
                            content_type="application/json" if body else None)

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # noqa: SLF001


def speed_for(policy: RetryPolicy, script: EndpointScript, *, real_seconds: float = 8.0) -> float:
    """A speed-up that fits the planned schedule into about `real_seconds`."""
    planned = simulate(policy, script)
    span = planned.attempts[-1].at - planned.attempts[0].at if planned.attempts else 0.0
    return max(span / real_seconds, 1.0)


async def run_actual(policy: RetryPolicy, script: EndpointScript, *, speed: float | None = None, seed: int = 0,
                     max_real_seconds: float = 30.0) -> Timeline:
    """Deliver once through the real engine against `script`; the timeline of what happened."""
    speed = speed or speed_for(policy, script)
    clock = ScaledClock(speed)
    runner, url = await _serve(script, clock)
    with tempfile.TemporaryDirectory() as tmp:
        writer = StoreWriter(open_workspace(Path(tmp) / "lab.signalscope"))
        deliverer = PushDeliverer(writer, Bus(), clock=clock, rng=random.Random(seed),
                                  config=DeliveryConfig(max_in_flight=1, attempt_timeout=SLOW / 2),
                                  policies=lambda name: policy)
        try:
            await deliverer.start(writer._conn)  # noqa: SLF001 - a private workspace of this run
            now = clock.now()
            [delivery_id] = await writer.run(store.insert_deliveries([store.NewDelivery(
                None, "policy-lab", None, b"{}", "push", url, now, policy.name,
                request_headers=[("Content-Type", "application/json")])]))
            deliverer.schedule(PushDelivery(delivery_id, None, "policy-lab", b"{}", url, now, policy.name,
                                            headers=[("Content-Type", "application/json")]))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max_real_seconds
            while loop.time() < deadline:
                record = store.get_delivery(writer._conn, delivery_id)  # noqa: SLF001
                if record["state"] != store.PENDING:
                    break
                await asyncio.sleep(0.02)
            record = store.get_delivery(writer._conn, delivery_id)  # noqa: SLF001
        finally:
            await deliverer.stop()
            await writer.close()
            await runner.cleanup()
    start = record["attempts"][0]["started_at"] if record["attempts"] else clock.now()
    rows = [{**a, "started_at": a["started_at"] - start, "ended_at": (a["ended_at"] or a["started_at"]) - start,
             "next_retry_at": a["next_retry_at"] - start if a["next_retry_at"] else None}
            for a in record["attempts"]]
    return build_timeline(f"{policy.title} (actual, x{speed:.0f})", rows, record["state"], now=rows[-1]["ended_at"] if rows else 0)
