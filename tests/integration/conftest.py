import pytest

from app.core.engine import Engine, EngineConfig
from peers import PeerIssuer, serve_issuer

AUDIENCE = "https://receiver.example.com"


@pytest.fixture
async def peer():
    peer = PeerIssuer()
    server, _ = await serve_issuer(peer)
    peer.server = server
    yield peer
    await server.cleanup()


@pytest.fixture
async def make_engine(tmp_path):
    engines = []

    async def make(**kw) -> Engine:
        kw.setdefault("workspace", tmp_path / "ws.signalscope")
        engine = Engine(EngineConfig(**kw))
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.stop()


@pytest.fixture
async def engine(make_engine, peer):
    engine = await make_engine(audiences=(AUDIENCE,), trust_issuers=[(peer.issuer, None)])
    yield engine
    await engine.stop()
