"""Deliveries made by the real simulator against our own receiver's fault rules, on a
manual clock, left in a workspace for the window's views to read (no real waiting)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.engine import Engine, EngineConfig
from app.core.faults import FaultRules
from app.core.transmitter import TransmitterSettings
from app.core.transmitter.delivery import DeliveryConfig, ManualClock

PUSH = "urn:ietf:rfc:8935"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
JANE = {"format": "email", "email": "jane@example.com"}
START = 1_000_000.0
DOWN_TWICE = [{"name": "down twice", "status": 503, "times": 2}]


async def _settle(engine: Engine) -> None:
    push = engine.transmitter.push
    for _ in range(50):
        await push.run_due()
        if not push.in_flight and not engine.transmitter._tasks:  # noqa: SLF001 - the tests' own settle
            return
        await asyncio.sleep(0.01)


async def _run(workspace: Path, rules: list[dict], count: int, seconds: float) -> tuple[str, list[int], float]:
    clock = ManualClock(START)
    engine = Engine(EngineConfig(workspace=workspace, audiences=("https://receiver.example.com",), clock=clock,
                                 transmitter_settings=TransmitterSettings(delivery=DeliveryConfig())))
    await engine.start()
    try:
        await engine.set_fault_rules(FaultRules.from_json(rules))
        stream, _ = await engine.transmitter.create({"delivery": {"method": PUSH, "endpoint_url": engine.receiver.url},
                                                     "events_requested": [SESSION_REVOKED]})
        ids = []
        for _ in range(count):
            result = await engine.transmitter.emit(event_type="session-revoked", subject=JANE, stream_id=stream.stream_id)
            ids += [e["delivery_id"] for e in result.emitted]
            await _settle(engine)
        for _ in range(int(seconds)):
            clock.advance(1.0)
            await _settle(engine)
        return stream.stream_id, ids, clock.now()
    finally:
        await engine.stop()


def simulate_deliveries(workspace: Path, rules=DOWN_TWICE, *, count: int = 1, seconds: float = 8):
    """(stream_id, delivery ids, the manual clock's final reading)."""
    return asyncio.run(_run(workspace, rules, count, seconds))
