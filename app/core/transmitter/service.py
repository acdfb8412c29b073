"""The simulator's state and operations: streams, subjects, status, verification, emitting.

`Transmitter` owns the streams (kept in memory, saved in the workspace), the
signing keys, and the two delivery paths (push with retries, poll queues). The
HTTP layer (`server.py`) only translates requests into these calls and their
`StreamError`s into status codes, so the window and the CLI can call the same
operations directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from app.core.bus import Bus, Changed
from app.core.catalogue import Catalogue, default_catalogue
from app.core.retry import get_policy
from app.core.store import deliveries as store
from app.core.store.writer import StoreWriter
from app.core.subjects import normalize_subject, subject_matches, validate_subject
from app.core.transmitter import sets as setlib
from app.core.transmitter.delivery import Clock, DeliveryConfig, PushDeliverer, PushDelivery, push_from_row
from app.core.transmitter.keys import DEFAULT_ALG, DEFAULT_GRACE, KeyRing
from app.core.transmitter.poll import PollQueues
from app.core.transmitter.streams import POLL, Stream, StreamError, create_stream, update_stream

log = logging.getLogger(__name__)

SSF_EVENT = "https://schemas.openid.net/secevent/ssf/event-type/"
VERIFICATION = SSF_EVENT + "verification"
STREAM_UPDATED = SSF_EVENT + "stream-updated"


@dataclass
class TransmitterSettings:
    host: str = "127.0.0.1"
    port: int = 0
    issuer_path: str = ""  # e.g. "/tenant1": metadata then lives at /.well-known/ssf-configuration/tenant1
    key_alg: str = DEFAULT_ALG
    default_subjects: str = "ALL"  # ALL | NONE
    default_aud: str | None = None  # aud of new streams; else the push endpoint URL
    long_poll_timeout: float = 30.0
    inactivity_timeout: int = 7 * 24 * 3600  # advertised on new streams, and enforced (SSF 8.1.1: pause)
    one_stream_per_receiver: bool = False  # a second create gets 409 (SSF 8.1.1.1), as some transmitters do
    jwks_fault: str | None = None  # one of JWKS_FAULTS: the JWKS endpoint misbehaves on purpose
    jwks_delay: float = 5.0  # seconds, for the "slow" JWKS fault
    defer_changes: float = 0.0  # > 0: stream updates and status changes get 202 and apply this many seconds later
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)


# JWKS endpoint faults: how real transmitters' key publication goes wrong, for testing a receiver's
# key fetching, caching and re-fetching (each one is what our receiver's "key" check then reports).
JWKS_FAULTS: dict[str, str] = {
    "unavailable": "the JWKS endpoint answers 503 with Retry-After (an outage)",
    "missing_active_key": "the JWKS lacks the key that signs (publication lags a rotation)",
    "slow": "the JWKS answers only after jwks_delay seconds (receiver fetch timeouts)",
    "malformed": "the JWKS endpoint answers 200 with an HTML error page instead of JSON",
}
ACTIVITY_SAVE_EVERY = 60.0  # seconds: receiver activity is written to the workspace at most this often per stream


@dataclass
class EmitResult:
    emitted: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"emitted": self.emitted, "skipped": self.skipped}


def new_management_token() -> str:
    """A random bearer token that never starts with '-': `signalscope emit --token -abc...`
    would read such a token as an option and refuse the command line."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def _log_failure(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("saving receiver activity failed: %s", future.exception())


class Transmitter:
    def __init__(self, settings: TransmitterSettings, writer: StoreWriter, bus: Bus, *, clock: Clock | None = None,
                 rng: random.Random | None = None, catalogue: Catalogue | None = None):
        self.settings = settings
        self._writer = writer
        self._bus = bus
        self.clock = clock or Clock()
        self._rng = rng or random.Random()
        self.catalogue = catalogue or default_catalogue()
        self.supported = [e.uri for e in self.catalogue.events]
        self.issuer = ""
        self.base_url = ""
        self.rescheduled = 0
        self._tasks: set[asyncio.Task] = set()
        self._activity: dict[str, float] = {}
        self._activity_saved: dict[str, float] = {}
        self._started_at: float | None = None
        self._inactivity_watch: asyncio.Task | None = None
        self.management_token = ""
        self.keys: KeyRing | None = None
        self.streams: dict[str, Stream] = {}
        self.subjects: dict[str, list[dict[str, Any]]] = {}
        self._last_jti: dict[str, str] = {}
        self.push = PushDeliverer(writer, bus, clock=self.clock, rng=self._rng, config=settings.delivery,
                                  authorization=self._authorization, on_gone=self._retire)
        self.poll = PollQueues(writer, bus, clock=self.clock.now, long_poll_timeout=settings.long_poll_timeout)

    # -- lifecycle ---------------------------------------------------------------
    async def start(self, conn, base_url: str) -> None:
        """Load keys, token and streams from the workspace; reschedule pending pushes."""
        self.base_url = base_url
        self.issuer = base_url + self.settings.issuer_path.rstrip("/")
        self.keys = KeyRing.load(conn, alg=self.settings.key_alg, clock=self.clock.now)
        row = conn.execute("SELECT value FROM settings WHERE key = 'transmitter.management_token'").fetchone()
        if row:
            self.management_token = row[0]
        else:
            self.management_token = new_management_token()
            conn.execute("INSERT INTO settings (key, value) VALUES ('transmitter.management_token', ?)",
                         (self.management_token,))
        for stream_id, config, status, reason, policy, faults, created, updated, verified_at in conn.execute(
                "SELECT stream_id, config, status, reason, policy, faults, created_at, updated_at,"
                " last_verification_at FROM streams"):
            data = json.loads(config)
            stream = Stream(**{**data, "iss": self.issuer}, status=status, reason=reason, policy=policy,
                            faults=json.loads(faults), created_at=created, updated_at=updated,
                            last_verification_at=verified_at)
            if stream.method == POLL:
                stream.delivery["endpoint_url"] = self.poll_url(stream_id)
            self.streams[stream_id] = stream
        for stream_id, subject, verified, removed in conn.execute(
                "SELECT stream_id, subject, verified, removed FROM stream_subjects"):
            self.subjects.setdefault(stream_id, []).append(
                {"subject": json.loads(subject), "verified": bool(verified), "removed": bool(removed)})
        row = conn.execute("SELECT value FROM settings WHERE key = 'transmitter.activity'").fetchone()
        if row:
            saved = json.loads(row[0])
            self._activity = {k: float(v) for k, v in saved.items() if k in self.streams}
            self._activity_saved = dict(self._activity)
        self.rescheduled = await self.push.start(conn)
        self._started_at = self.clock.now()
        # Not among the follow-up tasks: those end, this one runs until stop().
        self._inactivity_watch = asyncio.get_running_loop().create_task(self._watch_inactivity(),
                                                                        name="inactivity-watch")

    async def stop(self) -> None:
        if self._inactivity_watch is not None:
            self._inactivity_watch.cancel()
            await asyncio.gather(self._inactivity_watch, return_exceptions=True)
            self._inactivity_watch = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.push.stop()
        if self._activity != self._activity_saved:
            await self._save_activity()

    def poll_url(self, stream_id: str) -> str:
        return f"{self.base_url}/ssf/poll/{stream_id}"

    def _spawn(self, coro) -> asyncio.Task:
        """Run follow-up work (a retirement, an ordered resume) with a reference kept and failures logged."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("transmitter task failed: %r", t.exception())

        task.add_done_callback(done)
        return task

    def _authorization(self, stream_id: str) -> str | None:
        stream = self.streams.get(stream_id)
        return stream.delivery.get("authorization_header") if stream else None

    # -- streams -------------------------------------------------------------------
    def get(self, stream_id: Any) -> Stream:
        stream = self.streams.get(stream_id) if isinstance(stream_id, str) else None
        if stream is None:
            raise StreamError(404, f"no stream with stream_id {stream_id!r}")
        return stream

    def config_of(self, stream: Stream) -> dict[str, Any]:
        return stream.config(self.supported)

    async def create(self, body: Any) -> tuple[Stream, list[str]]:
        if self.settings.one_stream_per_receiver and self.streams:
            existing = next(iter(self.streams))
            raise StreamError(409, f"this transmitter allows one stream per receiver and stream {existing} exists; "
                                   "read it (GET) and change it with PATCH or PUT, or delete it first (SSF 8.1.1.1)")
        stream_id = secrets.token_hex(16)
        stream, notes = create_stream(body, issuer=self.issuer, supported=self.supported,
                                      poll_url=self.poll_url(stream_id), now=self.clock.now(),
                                      default_aud=self.settings.default_aud, stream_id=stream_id)
        stream.inactivity_timeout = self.settings.inactivity_timeout
        self.streams[stream.stream_id] = stream
        self.touch(stream.stream_id)
        await self._save(stream)
        return stream, notes

    # -- receiver activity (SSF 8.1.1 inactivity_timeout) ----------------------------------
    def touch(self, stream_id: str) -> None:
        """The receiver did something eligible with this stream (a management call naming it, a poll)."""
        if stream_id in self.streams:
            now = self._activity[stream_id] = self.clock.now()
            if now - self._activity_saved.get(stream_id, -1e18) >= ACTIVITY_SAVE_EVERY:
                self._activity_saved = dict(self._activity)
                self._writer.submit(self._activity_op(dict(self._activity))).add_done_callback(_log_failure)

    async def _save_activity(self) -> None:
        self._activity_saved = dict(self._activity)
        await self._writer.run(self._activity_op(dict(self._activity)))

    @staticmethod
    def _activity_op(activity: dict[str, float]):
        """Operation: keep the receiver's last activity per stream, so a restart does not reset the
        inactivity_timeout count (written at most every ACTIVITY_SAVE_EVERY s per stream, and on stop)."""
        def op(conn) -> None:
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('transmitter.activity', ?)",
                         (json.dumps(activity),))
        return op

    # -- transmitter-wide knobs ------------------------------------------------------------
    def configure_transmitter(self, body: Any) -> dict[str, Any]:
        """Change the simulator's transmitter-wide knobs (JWKS faults, one stream per receiver, 202 answers);
        the knobs last until changed again or the engine stops. Returns them all."""
        if body is not None and not isinstance(body, dict):
            raise StreamError(400, "the body must be an object of transmitter settings")
        body = body or {}
        unknown = set(body) - {"jwks_fault", "jwks_delay_seconds", "one_stream_per_receiver", "defer_changes_seconds"}
        if unknown:
            raise StreamError(400, f"unknown transmitter setting(s) {', '.join(sorted(unknown))}; known: "
                                   "jwks_fault, jwks_delay_seconds, one_stream_per_receiver, defer_changes_seconds")
        fault = body.get("jwks_fault", self.settings.jwks_fault)
        if fault is not None and fault not in JWKS_FAULTS:
            raise StreamError(400, f"unknown jwks_fault {fault!r}; known: {', '.join(JWKS_FAULTS)} (or null for none)")
        delay = body.get("jwks_delay_seconds", self.settings.jwks_delay)
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 300:
            raise StreamError(400, "'jwks_delay_seconds' must be a number from 0 to 300")
        single = body.get("one_stream_per_receiver", self.settings.one_stream_per_receiver)
        if not isinstance(single, bool):
            raise StreamError(400, "'one_stream_per_receiver' must be true or false")
        defer = body.get("defer_changes_seconds", self.settings.defer_changes)
        if not isinstance(defer, (int, float)) or isinstance(defer, bool) or not 0 <= defer <= 3600:
            raise StreamError(400, "'defer_changes_seconds' must be a number from 0 (off) to 3600")
        self.settings.jwks_fault, self.settings.jwks_delay = fault, float(delay)
        self.settings.one_stream_per_receiver = single
        self.settings.defer_changes = float(defer)
        self._bus.publish(Changed("transmitter", ()))
        return self.transmitter_knobs()

    def transmitter_knobs(self) -> dict[str, Any]:
        return {"jwks_fault": self.settings.jwks_fault, "jwks_delay_seconds": self.settings.jwks_delay,
                "one_stream_per_receiver": self.settings.one_stream_per_receiver,
                "defer_changes_seconds": self.settings.defer_changes, "known_jwks_faults": JWKS_FAULTS}

    def published_jwks(self) -> dict[str, Any]:
        """The JWKS as published: all keys in their grace period, minus the active one under the
        missing_active_key fault."""
        jwks = self.keys.jwks()
        if self.settings.jwks_fault == "missing_active_key" and self.keys.active is not None:
            jwks["keys"] = [k for k in jwks["keys"] if k.get("kid") != self.keys.active.kid]
        return jwks

    async def pause_inactive(self) -> list[str]:
        """Pause the enabled streams whose receiver has been silent for longer than their
        inactivity_timeout, announcing it with a stream-updated SET first; returns their ids.
        Activity is counted from the engine's start for streams loaded from the workspace."""
        now = self.clock.now()
        paused = []
        for stream in list(self.streams.values()):
            last = self._activity.setdefault(stream.stream_id, self._started_at or now)
            if stream.status == "enabled" and now - last > stream.inactivity_timeout:
                await self.set_status(stream.stream_id, "paused", "inactivity_timeout: no receiver activity for "
                                      f"{stream.inactivity_timeout} s", by_transmitter=True)
                paused.append(stream.stream_id)
        return paused

    async def _watch_inactivity(self) -> None:
        while True:
            await asyncio.sleep(self.clock.real_delay(60.0))
            try:
                await self.pause_inactive()
            except Exception:  # noqa: BLE001 - the watch goes on; the failure is logged
                log.exception("inactivity check failed")

    async def update(self, body: Any, *, replace: bool) -> tuple[Stream, list[str]]:
        stream = self.get(body.get("stream_id") if isinstance(body, dict) else None)
        before = Stream(**{**stream.__dict__, "delivery": dict(stream.delivery)})
        try:
            notes = update_stream(stream, body, replace=replace, supported=self.supported,
                                  poll_url=self.poll_url(stream.stream_id), now=self.clock.now())
        except StreamError:
            self.streams[stream.stream_id] = before
            raise
        await self._save(stream)
        return stream, notes

    async def update_later(self, body: Any, *, replace: bool) -> None:
        """An update answered 202 (SSF 8.1.1: accepted, not yet processed): checked now, so a bad
        request still gets its 400, applied after `defer_changes` seconds."""
        stream = self.get(body.get("stream_id") if isinstance(body, dict) else None)
        trial = Stream(**{**stream.__dict__, "delivery": dict(stream.delivery)})
        update_stream(trial, body, replace=replace, supported=self.supported,
                      poll_url=self.poll_url(stream.stream_id), now=self.clock.now())
        self._spawn(self._later(lambda: self.update(body, replace=replace)))

    async def set_status_later(self, stream_id: Any, status: str, reason: str | None) -> None:
        """A status change answered 202 (SSF 8.1.2.2: the transmitter has not decided yet), applied
        after `defer_changes` seconds and announced then with a stream-updated SET."""
        self.get(stream_id)
        self._spawn(self._later(lambda: self.set_status(stream_id, status, reason, by_transmitter=True)))

    async def _later(self, change) -> None:
        await asyncio.sleep(self.clock.real_delay(self.settings.defer_changes))
        try:
            await change()
        except StreamError as exc:  # e.g. the stream was deleted meanwhile
            log.warning("a deferred stream change was not applied: %s", exc.message)

    async def delete(self, stream_id: Any) -> None:
        stream = self.get(stream_id)
        del self.streams[stream.stream_id]
        self.subjects.pop(stream.stream_id, None)
        await self._drop_pending(stream.stream_id, "stream deleted")
        await self._writer.run(lambda c: (c.execute("DELETE FROM streams WHERE stream_id = ?", (stream.stream_id,)),
                                          c.execute("DELETE FROM stream_subjects WHERE stream_id = ?",
                                                    (stream.stream_id,))))
        self._bus.publish(Changed("streams", (stream.stream_id,)))

    async def _save(self, stream: Stream) -> None:
        row = (stream.stream_id, json.dumps(stream.stored()), stream.status, stream.reason, stream.policy,
               json.dumps(stream.faults), stream.created_at, stream.updated_at, stream.last_verification_at)
        await self._writer.run(lambda c: c.execute(
            "INSERT OR REPLACE INTO streams (stream_id, config, status, reason, policy, faults, created_at,"
            " updated_at, last_verification_at) VALUES (?,?,?,?,?,?,?,?,?)", row))
        self._bus.publish(Changed("streams", (stream.stream_id,)))

    async def configure(self, stream_id: str, *, policy: str | None = None, faults: list[str] | None = None) -> Stream:
        """Simulator-only settings of a stream: its retry policy and standing fault knobs."""
        stream = self.get(stream_id)
        if policy is not None:
            try:
                get_policy(policy)
            except ValueError as exc:
                raise StreamError(400, str(exc)) from None
            stream.policy = policy
        if faults is not None:
            try:
                stream.faults = {"faults": setlib.check_faults(faults)}
            except setlib.FaultError as exc:
                raise StreamError(400, str(exc)) from None
        await self._save(stream)
        return stream

    # -- status --------------------------------------------------------------------
    async def set_status(self, stream_id: Any, status: str, reason: str | None, *,
                         by_transmitter: bool = False) -> Stream:
        """Change a stream's status. paused holds new SETs, disabled drops them and what was pending;
        re-enabling sends what was held, in order. A transmitter-initiated change is announced with a
        stream-updated SET (before stopping, and upon re-enabling)."""
        stream = self.get(stream_id)
        old = stream.status
        if by_transmitter and status != "enabled" and old == "enabled":
            await self._emit_ssf(stream, STREAM_UPDATED, {"status": status, **({"reason": reason} if reason else {})})
        stream.status, stream.reason, stream.updated_at = status, reason, self.clock.now()
        await self._save(stream)
        if status == "disabled":
            await self._drop_pending(stream.stream_id, "stream disabled" + (f": {reason}" if reason else ""))
        elif status == "enabled" and old == "paused":
            await self._release_held(stream)
        if by_transmitter and status == "enabled" and old != "enabled":
            await self._emit_ssf(stream, STREAM_UPDATED, {"status": "enabled"})
        return stream

    def _retire(self, stream_id: str, why: str) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.status == "disabled":
            return
        # The endpoint said it is gone: nobody is there to receive a stream-updated SET.
        self._spawn(self.set_status(stream_id, "disabled", why))

    async def _drop_pending(self, stream_id: str, reason: str) -> None:
        ids = await self._writer.run(lambda c: [r[0] for r in c.execute(
            "SELECT id FROM deliveries WHERE stream_id = ? AND state = 'pending'", (stream_id,))])
        if ids:
            self.push.drop(set(ids))
            await self._writer.run(store.set_state(ids, store.FAILED, f"dropped: {reason}"))

    async def _release_held(self, stream: Stream) -> None:
        if stream.is_push:
            rows = await self._writer.run(lambda c: store.pending_push(c, stream_id=stream.stream_id, held=True))
            now = self.clock.now()
            await self._writer.run(lambda c: c.execute(
                "UPDATE deliveries SET held = 0, next_attempt_at = ? WHERE stream_id = ? AND held = 1",
                (now, stream.stream_id)))
            # Held SETs go out one after the other, in the order they were emitted.
            self._spawn(self._send_in_order([push_from_row(r) for r in rows]))
        else:
            await self._writer.run(lambda c: c.execute(
                "UPDATE deliveries SET held = 0 WHERE stream_id = ? AND held = 1", (stream.stream_id,)))
            self.poll.notify(stream.stream_id)

    async def _send_in_order(self, held: list) -> None:
        for delivery in held:
            await self.push.attempt(delivery)

    # -- subjects -------------------------------------------------------------------
    async def add_subject(self, body: Any) -> None:
        stream, subject = self._subject_request(body)
        verified = body.get("verified", True)
        if not isinstance(verified, bool):
            raise StreamError(400, "'verified' must be a boolean")
        await self._set_subject(stream, subject, verified=verified, removed=False)

    async def remove_subject(self, body: Any) -> None:
        stream, subject = self._subject_request(body)
        if subject == {"format": "opaque", "id": stream.stream_id}:
            raise StreamError(400, "the stream's own subject cannot be removed (SSF 8.1.3)")
        await self._set_subject(stream, subject, verified=True, removed=True)

    def _subject_request(self, body: Any) -> tuple[Stream, dict[str, Any]]:
        if not isinstance(body, dict):
            raise StreamError(400, "the request body must be a JSON object")
        stream = self.get(body.get("stream_id"))
        subject = normalize_subject(body.get("subject"))
        problems = validate_subject(subject)
        if problems:
            raise StreamError(400, f"'subject' is not a valid subject identifier: {'; '.join(problems)}")
        return stream, subject

    async def _set_subject(self, stream: Stream, subject: dict, *, verified: bool, removed: bool) -> None:
        entries = [e for e in self.subjects.get(stream.stream_id, []) if e["subject"] != subject]
        entries.append({"subject": subject, "verified": verified, "removed": removed})
        self.subjects[stream.stream_id] = entries
        key = json.dumps(subject, sort_keys=True)
        now = self.clock.now()
        await self._writer.run(lambda c: c.execute(
            "INSERT OR REPLACE INTO stream_subjects (stream_id, subject, verified, removed, changed_at)"
            " VALUES (?,?,?,?,?)", (stream.stream_id, key, int(verified), int(removed), now)))
        self._bus.publish(Changed("subjects", (stream.stream_id,)))

    def wants_subject(self, stream: Stream, subject: dict[str, Any]) -> tuple[bool, str]:
        entries = self.subjects.get(stream.stream_id, [])
        if any(e["removed"] and subject_matches(e["subject"], subject) for e in entries):
            return False, "the subject was removed from the stream"
        if self.settings.default_subjects == "NONE" and not any(
                not e["removed"] and subject_matches(e["subject"], subject) for e in entries):
            return False, "default_subjects is NONE and no added subject matches"
        return True, ""

    # -- verification ----------------------------------------------------------------
    async def verify(self, body: Any) -> float | None:
        """Queue a verification SET echoing `state`; returns seconds to wait if asked too soon (429)."""
        if not isinstance(body, dict):
            raise StreamError(400, "the request body must be a JSON object")
        stream = self.get(body.get("stream_id"))
        state = body.get("state")
        if state is not None and not isinstance(state, str):
            raise StreamError(400, "'state' must be a string")
        now = self.clock.now()
        if stream.last_verification_at is not None:
            wait = stream.last_verification_at + stream.min_verification_interval - now
            if wait > 0:
                return wait
        stream.last_verification_at = now
        await self._save(stream)
        await self._emit_ssf(stream, VERIFICATION, {"state": state} if state is not None else {})
        return None

    # -- emitting ----------------------------------------------------------------------
    def resolve_event_type(self, name: str) -> str:
        if self.catalogue.lookup(name):
            return self.catalogue.lookup(name).uri
        matches = [e.uri for e in self.catalogue.events if e.name == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise StreamError(400, f"event type {name!r} is ambiguous: {', '.join(matches)}")
        if "://" in name or name.startswith("urn:"):
            return name  # an event type outside the catalogue: sent as given
        raise StreamError(400, f"unknown event type {name!r}; use a URI or a catalogue name such as session-revoked")

    async def emit(self, *, event_type: str, subject: Any, stream_id: str | None = None,
                   claims: dict[str, Any] | None = None, faults: list[str] | None = None, count: int = 1,
                   txn: str | None = None, force: bool = False) -> EmitResult:
        uri = self.resolve_event_type(event_type)
        subject = normalize_subject(subject)
        problems = validate_subject(subject)
        if problems and not force:
            raise StreamError(400, f"'subject' is not a valid subject identifier: {'; '.join(problems)}")
        if claims is not None and not isinstance(claims, dict):
            raise StreamError(400, "'claims' must be an object of event payload claims")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            raise StreamError(400, "'count' must be an integer from 1 to 1000")
        try:
            faults = setlib.check_faults(faults)
        except setlib.FaultError as exc:
            raise StreamError(400, str(exc)) from None
        targets = [self.get(stream_id)] if stream_id is not None else list(self.streams.values())
        result = EmitResult()
        for stream in targets:
            why = self._why_not(stream, uri, subject, force)
            if why:
                result.skipped.append({"stream_id": stream.stream_id, "reason": why})
                continue
            payload = {**self.catalogue.fill_template(uri, self.clock.now()), **(claims or {})}
            result.emitted += await self._send(stream, uri, payload, subject, faults, count, txn)
        return result

    def _why_not(self, stream: Stream, uri: str, subject: dict, force: bool) -> str:
        if stream.status == "disabled":
            return "the stream is disabled: the event is dropped"
        if force:
            return ""
        if uri not in stream.events_delivered:
            return "the event type is not in the stream's events_delivered"
        ok, why = self.wants_subject(stream, subject)
        return "" if ok else why

    async def _emit_ssf(self, stream: Stream, uri: str, payload: dict[str, Any]) -> None:
        if stream.status != "disabled":
            await self._send(stream, uri, payload, {"format": "opaque", "id": stream.stream_id}, [], 1, None)

    async def _send(self, stream: Stream, uri: str, payload: dict, subject: dict, emit_faults: list[str],
                    count: int, txn: str | None) -> list[dict[str, Any]]:
        faults = list(dict.fromkeys([*stream.faults.get("faults", []), *emit_faults]))
        now = self.clock.now()
        tokens = []
        for index in range(count):
            jti = self._last_jti.get(stream.stream_id) if "repeat_jti" in faults else None
            claims = setlib.build_claims(setlib.SetRequest(self.issuer, stream.aud, uri, payload, subject, now,
                                                           jti=jti, txn=txn), faults)
            self._last_jti[stream.stream_id] = claims["jti"]
            tokens.append((claims["jti"], setlib.sign(claims, self.keys.active, faults), index))
        if "shuffle" in faults:
            self._rng.shuffle(tokens)
        if "duplicate" in faults:
            tokens = [t for pair in zip(tokens, tokens) for t in pair]
        return await self._enqueue(stream, uri, tokens, faults)

    async def enqueue_token(self, stream_id: str, token: bytes, *, jti: str, event_type: str | None,
                            capture_id: int | None = None, run_id: int | None = None) -> dict[str, Any]:
        """Send a ready-made SET (a replay) through a stream's delivery: its endpoint or poll queue, its policy."""
        stream = self.get(stream_id)
        if stream.status == "disabled":
            raise StreamError(409, f"stream {stream_id} is disabled; it drops every SET")
        [entry] = await self._enqueue(stream, event_type, [(jti, token.decode("ascii"), 0)], [], source="replay",
                                      capture_id=capture_id, run_id=run_id)
        return entry

    async def _enqueue(self, stream: Stream, uri: str | None, tokens: list[tuple[str, str, int]], faults: list[str], *,
                       source: str = "simulator", capture_id: int | None = None,
                       run_id: int | None = None) -> list[dict[str, Any]]:
        now = self.clock.now()
        held = stream.status == "paused"
        mode = "push" if stream.is_push else "poll"
        items = [store.NewDelivery(stream.stream_id, jti, uri, token.encode(), mode, stream.delivery.get("endpoint_url"),
                                   now, stream.policy, faults, held=held, source=source, capture_id=capture_id,
                                   run_id=run_id) for jti, token, _ in tokens]
        ids = await self._writer.run(store.insert_deliveries(items))
        if mode == "push" and not held:
            for delivery_id, item in zip(ids, items):
                self.push.schedule(PushDelivery(delivery_id, item.stream_id, item.jti, item.body, item.endpoint, now,
                                                item.policy))
        if mode == "poll" and not held:
            self.poll.notify(stream.stream_id)
        self._bus.publish(Changed("deliveries", tuple(ids)))
        # batch_index: the SET's place in the batch as built (shuffle changes the delivery order only)
        return [{"stream_id": stream.stream_id, "delivery_id": i, "jti": jti, "batch_index": index, "held": held}
                for i, (jti, _, index) in zip(ids, tokens)]

    # -- keys -------------------------------------------------------------------------
    async def rotate_key(self, *, alg: str | None = None, grace: float = DEFAULT_GRACE) -> str:
        try:
            key, op = self.keys.rotate(alg=alg, grace=grace)
        except ValueError as exc:
            raise StreamError(400, str(exc)) from None
        await self._writer.run(op)
        self._bus.publish(Changed("keys", (key.kid,)))
        return key.kid

