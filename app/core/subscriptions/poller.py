"""The RFC 8936 poll client: fetch SETs from a poll stream, verify and store them, acknowledge.

Each polled SET goes through the receiver's own decode-and-verify code
(`Receiver.verify_record`, the same checks a pushed SET gets) and is committed to the
captures table with `origin='poll'`, then announced with `CaptureStored` — so the
capture list, the verification round trip and exports treat it like a pushed one.
What verified is acknowledged (`ack`) and what failed is reported in `setErrs` with
the receiver's error code, on the next poll request (RFC 8936 2.4 combines them) or
in an acknowledge-only request (`flush`). With `acknowledge=False` nothing is
acknowledged: a peek, the transmitter will hand the same SETs out again.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from app.core.bus import CaptureStored
from app.core.store.captures import CaptureRecord, insert_capture
from app.core.subscriptions.client import Answer, TransmitterClient, TransmitterError
from app.core.verify import PASS, UNVERIFIED, WARN, Check

SET_TYPE = "application/secevent+jwt"


@dataclass
class PolledSet:
    jti: str
    capture_id: int
    verdict: str
    err: str | None = None
    description: str | None = None
    event_types: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PollOutcome:
    stream_id: str
    sets: list[PolledSet] = field(default_factory=list)
    more_available: bool = False
    acknowledged: list[str] = field(default_factory=list)  # sent in this request's `ack`
    reported: dict[str, dict[str, str]] = field(default_factory=dict)  # sent in this request's `setErrs`
    notes: list[str] = field(default_factory=list)
    exchange_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "sets": [s.to_json() for s in self.sets],
                "more_available": self.more_available, "acknowledged": self.acknowledged,
                "set_errs": self.reported, "notes": self.notes, "exchange_id": self.exchange_id}


class PollIngest:
    """Turns one polled SET into a verified, stored capture (what the receiver does for a push)."""

    def __init__(self, receiver, writer, bus, *, clock: Callable[[], float] = time.time):
        self._receiver = receiver
        self._writer = writer
        self._bus = bus
        self._clock = clock

    async def ingest(self, jti: str, token: Any, *, endpoint_url: str, headers: list[tuple[str, str]]) -> PolledSet:
        started = time.perf_counter()
        body = token.encode("utf-8") if isinstance(token, str) else json.dumps(token).encode()
        parts = urlsplit(endpoint_url)
        record = CaptureRecord(
            received_at=self._clock(), method="POST", path=parts.path or "/", query=parts.query, headers=headers,
            body=body, body_size=len(body), kind="set", verdict=UNVERIFIED,
            report={"verdict": UNVERIFIED, "checks": [], "err": None, "description": None},
            response_status=200, peer=parts.hostname, content_type=SET_TYPE, origin="poll",
            target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""))  # the poll request's
        if isinstance(token, str):
            status, answer = await self._receiver.verify_record(record, SET_TYPE)
        else:
            status, answer = 400, json.dumps({"err": "invalid_request",
                                              "description": "the poll response's value is not a compact SET string"}).encode()
            record.verdict = "invalid"
            record.report = {"verdict": "invalid", "checks": [], "err": "invalid_request",
                             "description": "the poll response's value is not a compact SET string"}
        checks = [Check("content_type", PASS, "polled: the SET came in an RFC 8936 poll response")
                  if c[0] == "content_type" else c for c in record.report.get("checks", [])]
        if record.jti is not None and record.jti != jti:  # RFC 8936 2.5: `sets` is keyed by jti
            checks.append(Check("poll_key", WARN, f"the poll response keyed this SET by {jti!r}; its jti is {record.jti!r}"))
        record.report = {**record.report, "checks": checks}
        record.response_status = status  # what a push of the same SET would have been answered
        record.response_body = answer
        if answer:
            record.response_headers = [("Content-Type", "application/json"), ("Content-Language", "en")]
        record.duration_ms = (time.perf_counter() - started) * 1000
        stored = await self._writer.run(insert_capture(record))
        self._bus.publish(CaptureStored(stored.id, record.kind, record.verdict, stored.response_status,
                                        tuple(record.event_types)))
        err = description = None
        if stored.response_status != 202:
            try:
                parsed = json.loads(stored.response_body or b"{}")
                err, description = parsed.get("err"), parsed.get("description")
            except ValueError:
                err, description = "invalid_request", "the SET could not be verified"
        return PolledSet(jti, stored.id, record.verdict, err, description, list(record.event_types))


class Poller:
    def __init__(self, client: TransmitterClient, stream_id: str, endpoint_url: str, ingest: PollIngest, *,
                 acknowledge: bool = True):
        self.client = client
        self.stream_id = stream_id
        self.endpoint_url = endpoint_url
        self._ingest = ingest
        self.acknowledge = acknowledge
        self.pending_ack: list[str] = []
        self.pending_errs: dict[str, dict[str, str]] = {}

    def _request(self, max_events: int | None, return_immediately: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"returnImmediately": return_immediately}
        if max_events is not None:
            body["maxEvents"] = max_events
        if self.pending_ack:
            body["ack"] = list(self.pending_ack)
        if self.pending_errs:
            body["setErrs"] = dict(self.pending_errs)
        return body

    async def poll(self, *, max_events: int | None = None, return_immediately: bool = True,
                   timeout: float | None = None) -> PollOutcome:
        """One poll request (carrying the acknowledgements owed so far)."""
        body = self._request(max_events, return_immediately)
        parsed: dict[str, Any] = {}

        def shape(a: Answer) -> None:
            data = a.data
            if not isinstance(data, dict):
                raise TransmitterError("the poll response is not a JSON object (RFC 8936 2.5)", status=a.status)
            sets = data.get("sets", {})
            if "sets" not in data:
                a.notes.append("no 'sets' in the poll response; read as none")
            if not isinstance(sets, dict):
                raise TransmitterError("'sets' in the poll response is not an object of jti -> SET", status=a.status)
            parsed["sets"], parsed["more"] = sets, bool(data.get("moreAvailable", False))

        http_timeout = timeout if timeout is not None else (None if return_immediately else 60.0)
        answer = await self.client.poll(self.endpoint_url, body, timeout=http_timeout, shape=shape)
        outcome = PollOutcome(self.stream_id, more_available=parsed["more"], acknowledged=body.get("ack", []),
                              reported=body.get("setErrs", {}), notes=answer.notes, exchange_id=answer.exchange_id)
        self.pending_ack, self.pending_errs = [], {}  # delivered with this request
        headers = [("X-Signalscope-Poll-Exchange", str(answer.exchange_id))] if answer.exchange_id else []
        for jti, token in parsed["sets"].items():
            polled = await self._ingest.ingest(jti, token, endpoint_url=self.endpoint_url, headers=headers)
            outcome.sets.append(polled)
            if self.acknowledge:
                if polled.err is None:
                    self.pending_ack.append(jti)
                else:
                    self.pending_errs[jti] = {"err": polled.err, "description": polled.description or polled.err}
        return outcome

    async def flush(self) -> PollOutcome | None:
        """An acknowledge-only request (maxEvents 0) for what is still owed; None when nothing is."""
        if not self.pending_ack and not self.pending_errs:
            return None
        return await self.poll(max_events=0, return_immediately=True)

    async def run(self, *, seconds: float, max_events: int | None = None, long_poll: bool = True,
                  interval: float = 0.5, stop: asyncio.Event | None = None,
                  on_outcome: Callable[[PollOutcome], None] | None = None) -> list[PollOutcome]:
        """Poll continuously for `seconds` (long polls, bounded by the deadline), then flush.
        To stop at once, cancel the task: acknowledgements still owed go with the next poll."""
        deadline = time.monotonic() + seconds
        outcomes: list[PollOutcome] = []
        while not (stop is not None and stop.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            started = time.monotonic()
            try:
                outcome = await self.poll(max_events=max_events, return_immediately=not long_poll,
                                          timeout=max(0.5, remaining) if long_poll else None)
            except TransmitterError as exc:
                if exc.status is None and time.monotonic() >= deadline - 0.1:
                    break  # the long poll was cut at our deadline: a normal end
                raise
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            quick = time.monotonic() - started < interval
            if not outcome.sets and not outcome.more_available and quick:
                # a short poll, or a transmitter that does not hold long polls: never spin
                await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        final = await self.flush()
        if final is not None:
            outcomes.append(final)
            if on_outcome is not None:
                on_outcome(final)
        return outcomes
