"""Poll delivery (RFC 8936): the per-stream queue a receiver drains by POSTing to its poll URL.

A poll stream's SETs are deliveries in mode `poll`, pending until acknowledged. Each
poll first applies `ack` and `setErrs`, then hands out up to `maxEvents` pending SETs
(oldest first; unacknowledged ones again, which is the RFC's redelivery), recording
each hand-out as an attempt. Without `returnImmediately` an empty queue is held open
(long poll) until a SET arrives or `long_poll_timeout` passes. Field-name drift seen
in the wild (`acks`, `max_events`, `return_immediately`, `setErrs` as a list) is
accepted and noted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from app.core.bus import Bus, DeliveryChanged
from app.core.store.writer import StoreWriter


class PollRequestError(ValueError):
    pass


@dataclass
class PollRequest:
    max_events: int | None = None
    return_immediately: bool = False
    ack: list[str] = field(default_factory=list)
    set_errs: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_poll_request(body: Any) -> PollRequest:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise PollRequestError("the poll request must be a JSON object")
    req = PollRequest()
    for legacy, final in (("acks", "ack"), ("max_events", "maxEvents"), ("return_immediately", "returnImmediately")):
        if legacy in body and final not in body:
            body = {**body, final: body[legacy]}
            req.notes.append(f"'{legacy}' read as '{final}' (RFC 8936 spelling)")
    max_events = body.get("maxEvents")
    if max_events is not None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
            raise PollRequestError("'maxEvents' must be a non-negative integer")
        req.max_events = max_events
    immediately = body.get("returnImmediately", False)
    if not isinstance(immediately, bool):
        raise PollRequestError("'returnImmediately' must be a boolean")
    req.return_immediately = immediately
    ack = body.get("ack", [])
    if not isinstance(ack, list) or not all(isinstance(j, str) for j in ack):
        raise PollRequestError("'ack' must be an array of jti strings")
    req.ack = ack
    errs = body.get("setErrs", {})
    if isinstance(errs, list):  # an early Keycloak shape: [{"jti":..., "err":..., "description":...}]
        req.notes.append("'setErrs' sent as an array; RFC 8936 defines an object keyed by jti")
        errs = {e.get("jti"): e for e in errs if isinstance(e, dict)}
    if not isinstance(errs, dict):
        raise PollRequestError("'setErrs' must be an object of jti -> {err, description}")
    for jti, value in errs.items():
        if not isinstance(jti, str) or not isinstance(value, dict) or not isinstance(value.get("err"), str):
            raise PollRequestError(f"setErrs[{jti!r}] must be an object with an 'err' string")
        req.set_errs[jti] = {"err": value["err"], "description": str(value.get("description") or "")}
    return req


class PollQueues:
    def __init__(self, writer: StoreWriter, bus: Bus, *, clock=time.time, long_poll_timeout: float = 30.0):
        self._writer = writer
        self._bus = bus
        self._clock = clock
        self.long_poll_timeout = long_poll_timeout
        self._arrivals: dict[str, asyncio.Event] = {}

    def notify(self, stream_id: str) -> None:
        """New SETs are available on `stream_id` (wakes a waiting long poll)."""
        event = self._arrivals.get(stream_id)
        if event is not None:
            event.set()

    async def poll(self, stream_id: str, req: PollRequest) -> dict[str, Any]:
        now = self._clock()
        if req.ack or req.set_errs:
            changed = await self._writer.run(_acknowledge(stream_id, req.ack, req.set_errs, now))
            for delivery_id, state in changed:
                self._bus.publish(DeliveryChanged(delivery_id, stream_id, state))
        if req.max_events == 0:
            return {"sets": {}, "moreAvailable": False}
        limit = req.max_events if req.max_events is not None else 1000
        handed = await self._writer.run(_hand_out(stream_id, limit, now))
        if not handed[0] and not req.return_immediately:
            event = self._arrivals.setdefault(stream_id, asyncio.Event())
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), self.long_poll_timeout)
            except asyncio.TimeoutError:
                pass
            handed = await self._writer.run(_hand_out(stream_id, limit, self._clock()))
        sets, more = handed
        for delivery_id, _, _ in sets:
            self._bus.publish(DeliveryChanged(delivery_id, stream_id, "pending"))
        return {"sets": {jti: token for _, jti, token in sets}, "moreAvailable": more}


def _acknowledge(stream_id: str, ack: list[str], set_errs: dict[str, dict[str, str]], now: float):
    def op(conn) -> list[tuple[int, str]]:
        changed = []
        outcomes = [(jti, "delivered", None, "acknowledged") for jti in ack]
        outcomes += [(jti, "failed", e["err"], f"setErrs {e['err']}: {e['description']}".rstrip(": "))
                     for jti, e in set_errs.items()]
        for jti, state, err, reason in outcomes:
            rows = conn.execute(
                "UPDATE deliveries SET state = ?, err = ?, reason = ? WHERE stream_id = ? AND jti = ?"
                " AND mode = 'poll' AND state = 'pending' RETURNING id", (state, err, reason, stream_id, jti)).fetchall()
            for (delivery_id,) in rows:
                conn.execute(
                    "UPDATE attempts SET ended_at = ?, outcome = ?, reason = ? WHERE delivery_id = ?"
                    " AND n = (SELECT max(n) FROM attempts WHERE delivery_id = ?)",
                    (now, "delivered" if state == "delivered" else "rejected", reason, delivery_id, delivery_id))
                changed.append((delivery_id, state))
        return changed
    return op


def _hand_out(stream_id: str, limit: int, now: float):
    def op(conn) -> tuple[list[tuple[int, str, str]], bool]:
        rows = conn.execute(
            "SELECT d.id, d.jti, d.body, (SELECT coalesce(max(n), 0) FROM attempts a WHERE a.delivery_id = d.id)"
            " FROM deliveries d WHERE d.stream_id = ? AND d.mode = 'poll' AND d.state = 'pending' AND d.held = 0"
            " ORDER BY d.id LIMIT ?", (stream_id, limit + 1)).fetchall()
        more = len(rows) > limit
        out = []
        for delivery_id, jti, body, n in rows[:limit]:
            conn.execute(
                "INSERT INTO attempts (delivery_id, n, started_at, status, outcome, reason) VALUES (?,?,?,?,?,?)",
                (delivery_id, n + 1, now, 200, "handed_out",
                 "handed out in a poll response" + (" again (not acknowledged)" if n else "")))
            out.append((delivery_id, jti, bytes(body).decode("ascii")))
        return out, more
    return op
