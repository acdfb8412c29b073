import asyncio

import pytest
from aiohttp import web

from app.core.engine import Engine, EngineConfig
from app.core.transmitter import TransmitterSettings
from app.core.transmitter.delivery import DeliveryConfig, ManualClock
from ssf_client import SsfClient

AUDIENCE = "https://receiver.example.com"


@pytest.fixture
async def make_sim(tmp_path):
    """An engine with receiver and simulator on loopback; `clock=ManualClock()` for retry tests."""
    engines = []

    async def make(*, clock=None, workspace=None, **settings) -> Engine:
        delivery = DeliveryConfig(attempt_timeout=settings.pop("attempt_timeout", None))
        engine = Engine(EngineConfig(workspace=workspace or tmp_path / "ws.signalscope", audiences=(AUDIENCE,),
                                     clock=clock,
                                     transmitter_settings=TransmitterSettings(delivery=delivery, **settings)))
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.stop()


@pytest.fixture
async def sim(make_sim):
    return await make_sim()


@pytest.fixture
async def client(sim):
    c = SsfClient(sim.transmitter.issuer, sim.transmitter.management_token)
    await c.discover()
    yield c
    await c.close()


async def settle(engine: Engine, *, rounds: int = 50) -> None:
    """Run what is due on the simulator's clock and wait until no attempt is in flight."""
    push = engine.transmitter.push
    for _ in range(rounds):
        await push.run_due()
        if not push.in_flight:
            break
        await asyncio.sleep(0.01)
    for _ in range(rounds):  # follow-ups such as an ordered resume or a retirement
        if not engine.transmitter._tasks and not push.in_flight:
            return
        await asyncio.sleep(0.02)


class ScriptedEndpoint:
    """A receiver under test: answers each request with the next scripted step."""

    def __init__(self):
        self.script: list[dict] = []
        self.requests: list[dict] = []
        self.url = ""
        self.runner = None

    async def start(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def handle(self, request: web.Request):
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": await request.read()})
        step = self.script.pop(0) if self.script else {"status": 202}
        if step.get("sleep"):
            await asyncio.sleep(step["sleep"])
        if step.get("close"):
            request.transport.close()
            return web.Response(status=204)
        return web.Response(status=step.get("status", 202), body=step.get("body"), headers=step.get("headers", {}))


@pytest.fixture
async def endpoint():
    e = await ScriptedEndpoint().start()
    yield e
    await e.runner.cleanup()
