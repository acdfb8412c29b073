import pytest

from app.core.engine import Engine, EngineConfig
from app.core.subscriptions import Subscriptions
from app.core.transmitter import TransmitterSettings
from subs_peers import AUDIENCE, VariantTransmitter


@pytest.fixture
async def make_sim(tmp_path):
    """Engines (receiver + simulator on loopback) with a Subscriptions over each."""
    made = []

    async def make(**settings) -> tuple[Engine, Subscriptions]:
        engine = Engine(EngineConfig(workspace=tmp_path / f"ws{len(made)}.signalscope", audiences=(AUDIENCE,),
                                     transmitter_settings=TransmitterSettings(**settings)))
        await engine.start()
        subs = Subscriptions.for_engine(engine)
        made.append((engine, subs))
        return engine, subs

    yield make
    for engine, subs in made:
        subs.close()
        await engine.stop()


@pytest.fixture
async def sim(make_sim):
    return await make_sim()


@pytest.fixture
async def variant():
    v = await VariantTransmitter().start()
    yield v
    await v.stop()
