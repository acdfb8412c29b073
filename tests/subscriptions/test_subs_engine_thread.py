"""The window's way in: Subscriptions driven from another thread through EngineThread.submit."""

from app.core.bus import Bus, CaptureStored
from app.core.engine_thread import EngineThread
from app.core.subscriptions import ExchangeRecorded, Subscriptions
from subs_peers import AUDIENCE


def test_a_round_trip_submitted_from_another_thread_is_confirmed_and_announced(tmp_path):
    thread = EngineThread()
    try:
        bus = Bus()
        seen = []
        bus.subscribe(seen.append)
        thread.start_engine({"workspace": tmp_path / "ws.signalscope", "audiences": (AUDIENCE,)}, bus).result(30)
        engine = thread.engine
        subs = Subscriptions.for_engine(engine)

        async def flow():
            client = await subs.connect(engine.transmitter.issuer)
            config = (await client.create_stream({})).data
            return await subs.verify(client, config, timeout=5)

        outcome = thread.submit(flow()).result(30)
        assert outcome.result == "confirmed" and outcome.origin == "poll"
        operations = [e.operation for e in seen if isinstance(e, ExchangeRecorded)]
        assert operations[:4] == ["discover", "jwks", "create", "verify"] and "poll" in operations
        assert outcome.capture_id in [e.capture_id for e in seen if isinstance(e, CaptureStored)]
        subs.close()
    finally:
        thread.close()
