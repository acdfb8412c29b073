"""The verification round trip (SSF 8.1.4), tracked end to end by `state`.

`expect(stream_id, state)` registers the state in the receiver's `expected_states`
(so the receiver's `verification_state` check passes for it, and fails for any
other state on that stream) before the request is sent, and returns a future. The
tracker watches the bus: every stored capture carrying a verification event —
pushed to our receiver or polled — is read back and matched by stream and state:

  confirmed  the SET with our state arrived and verified
  invalid    it arrived but failed verification (the receiver's err says why)
  mismatch   a verification SET for the stream carried a state we never sent
  timeout    nothing arrived in time (`wait` decides that)

A verification without `state` is the transmitter's own initiative: noted, not a match.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from app.core.bus import CaptureStored

VERIFICATION_SUFFIX = "/verification"  # ssf/, sse/ and risc/ URIs alike (SSF-NOTES 10)


@dataclass
class VerificationOutcome:
    stream_id: str
    state: str
    result: str  # confirmed | invalid | mismatch | timeout | requested
    detail: str = ""
    capture_id: int | None = None
    origin: str | None = None  # push | poll
    elapsed_ms: float | None = None
    exchange_id: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Wait:
    stream_id: str
    state: str
    future: asyncio.Future
    started: float


class VerificationTracker:
    def __init__(self, bus, expected_states: dict[str, set[str]],
                 read_capture: Callable[[int], Awaitable[dict | None]]):
        self._expected = expected_states
        self._read = read_capture
        self._waits: list[_Wait] = []
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.unmatched: list[dict[str, Any]] = []  # verification SETs no wait claimed (transmitter-initiated...)
        self._unsubscribe = bus.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()

    def expect(self, stream_id: str, state: str) -> asyncio.Future:
        self._loop = asyncio.get_running_loop()
        future = self._loop.create_future()
        self._waits.append(_Wait(stream_id, state, future, time.perf_counter()))
        self._expected.setdefault(stream_id, set()).add(state)
        return future

    def forget(self, stream_id: str, state: str) -> None:
        """Stop waiting for `state` (after an outcome, or when the request failed)."""
        self._waits = [w for w in self._waits if not (w.stream_id == stream_id and w.state == state)]
        states = self._expected.get(stream_id)
        if states is not None:
            states.discard(state)
            if not states:
                del self._expected[stream_id]

    async def wait(self, stream_id: str, state: str, future: asyncio.Future, timeout: float) -> VerificationOutcome:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            return VerificationOutcome(stream_id, state, "timeout",
                                       f"no verification SET with this state arrived within {timeout:g} s")
        finally:
            self.forget(stream_id, state)

    # -- the bus side -----------------------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        if not isinstance(event, CaptureStored) or not self._waits or self._loop is None:
            return
        if not any(t.endswith(VERIFICATION_SUFFIX) for t in event.event_types):
            return
        self._loop.call_soon_threadsafe(self._start_check, event.capture_id)

    def _start_check(self, capture_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self.check_capture(capture_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def check_capture(self, capture_id: int) -> None:
        capture = await self._read(capture_id)
        if capture is None:
            return
        claims = capture.get("set_claims") or {}
        events = claims.get("events") if isinstance(claims.get("events"), dict) else {}
        payload = next((p for uri, p in events.items() if uri.endswith(VERIFICATION_SUFFIX)), None)
        sub = claims.get("sub_id") if isinstance(claims.get("sub_id"), dict) else {}
        stream_id = sub.get("id")
        state = payload.get("state") if isinstance(payload, dict) else None
        waits = [w for w in self._waits if w.stream_id == stream_id and not w.future.done()]
        if not waits:
            return
        if state is None:
            self.unmatched.append({"capture_id": capture_id, "stream_id": stream_id, "why": "no state"})
            return
        report = capture.get("report") or {}
        for w in waits:
            elapsed = (time.perf_counter() - w.started) * 1000
            if state == w.state:
                if capture.get("verdict") == "valid":
                    outcome = VerificationOutcome(stream_id, w.state, "confirmed",
                                                  "the verification SET carried our state and verified",
                                                  capture_id, capture.get("origin"), elapsed)
                else:
                    outcome = VerificationOutcome(stream_id, w.state, "invalid",
                                                  f"the verification SET carried our state but failed verification: "
                                                  f"{report.get('err')}: {report.get('description')}",
                                                  capture_id, capture.get("origin"), elapsed)
                w.future.set_result(outcome)
            elif state not in {o.state for o in waits}:
                w.future.set_result(VerificationOutcome(
                    stream_id, w.state, "mismatch", f"a verification SET for the stream carried state {state!r},"
                    " not the one we sent", capture_id, capture.get("origin"), elapsed))
