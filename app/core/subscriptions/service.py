"""`Subscriptions`: the one object front ends use to subscribe to SSF transmitters.

It composes the pieces over the engine's parts (or over a bare writer/trust/receiver,
as the CLI does without a running engine): `connect` discovers a transmitter, checks
its JWKS, trusts its issuer at our receiver and returns a `TransmitterClient`;
`poller` gives an RFC 8936 poll client feeding our captures; `verify` runs a full
verification round trip. The built-in simulator is always known and pre-authorised
(its management token). Credentials entered for other transmitters are saved with
them in the workspace (`transmitters` table) and only ever described, never shown.
Every method is a plain coroutine returning dataclasses; exchanges are announced on
the bus (`ExchangeRecorded`), captures as `CaptureStored`. Its coroutines run on the
engine's loop: the window submits them through `EngineThread.submit(...)` and gets
the `ExchangeRecorded`/`CaptureStored` events through its bus bridge. Build one per
started engine (`for_engine`) and `close()` it when that engine stops.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx

from app.core.store.captures import get_capture
from app.core.subscriptions.auth import AuthError, AuthSpec, token_source
from app.core.subscriptions.client import TransmitterClient, TransmitterError, delivery_mode
from app.core.subscriptions.discovery import Discovery, DiscoveryError, check_url, discover
from app.core.subscriptions.exchanges import Exchange, ExchangeLog, list_exchanges
from app.core.subscriptions.poller import PollIngest, Poller
from app.core.subscriptions.verification import VerificationOutcome, VerificationTracker
from app.core.trust import TrustError, parse_jwks


@dataclass
class KnownTransmitter:
    issuer: str
    location: str
    metadata_url: str
    auth: dict[str, Any]  # AuthSpec.describe(): no secrets
    builtin: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Subscriptions:
    def __init__(self, *, http: httpx.AsyncClient, bus, receiver, writer=None, trust=None,
                 trust_issuer: Callable[..., Awaitable[None]] | None = None,
                 builtin: tuple[str, str] | None = None, clock: Callable[[], float] = time.time):
        self.bus = bus
        self.receiver = receiver
        self._writer = writer
        self._trust = trust
        self._trust_issuer = trust_issuer
        self.builtin = builtin  # (issuer, management token) of the simulator
        self._clock = clock
        self.log = ExchangeLog(http, writer=writer, bus=bus, clock=clock)
        self.ingest = PollIngest(receiver, writer, bus, clock=clock)
        self.tracker = VerificationTracker(bus, receiver.expected_states, self._read_capture)
        self.clients: dict[str, TransmitterClient] = {}

    @classmethod
    def for_engine(cls, engine) -> "Subscriptions":
        """Over a started Engine: its HTTP client, workspace writer, trust store and receiver."""
        builtin = None
        if engine.transmitter is not None:
            builtin = (engine.transmitter.issuer, engine.transmitter.management_token)
        return cls(http=engine.http, bus=engine.bus, receiver=engine.receiver, writer=engine.writer,
                   trust=engine.trust, trust_issuer=engine.trust_issuer, builtin=builtin)

    def close(self) -> None:
        self.tracker.close()

    # -- transmitters ----------------------------------------------------------------------------
    async def connect(self, issuer: str, auth: AuthSpec | None = None, *, save: bool = True) -> TransmitterClient:
        """Discover, validate, fetch the JWKS, trust the issuer; raises DiscoveryError/AuthError."""
        is_builtin = self.builtin is not None and issuer == self.builtin[0]
        if auth is None:
            if is_builtin:
                auth = AuthSpec(kind="bearer", token=self.builtin[1])
            else:
                auth = await self._stored_auth(issuer) or AuthSpec()
        source = token_source(auth, log=self.log, issuer=issuer, clock=self._clock)
        found = await discover(self.log, issuer)
        await self._check_jwks(found)
        if not is_builtin:  # the simulator is trusted by the engine already (its port, so its issuer, changes)
            jwks_url = found.metadata["jwks_uri"]
            if self._trust_issuer is not None:
                await self._trust_issuer(issuer, jwks_url=jwks_url)
            elif self._trust is not None:
                self._trust.trust(issuer, jwks_url=jwks_url)
            if save and self._writer is not None:
                await self._writer.run(_save_transmitter(found, auth, self._clock()))
        client = TransmitterClient(found, source, self.log)
        self.clients[issuer] = client
        return client

    async def _check_jwks(self, found: Discovery) -> None:
        url = found.metadata["jwks_uri"]
        ex = await self.log.perform("GET", url, operation="jwks", issuer=found.issuer,
                                    headers={"Accept": "application/json"})
        try:
            if ex.response is None or ex.error:
                raise DiscoveryError(f"cannot fetch the JWKS at {url}: {ex.error}")
            if ex.status != 200:
                raise DiscoveryError(f"the JWKS at {url} answered HTTP {ex.status}")
            try:
                keys = parse_jwks(ex.response.content, where=url, fetched=True)
            except TrustError as exc:
                raise DiscoveryError(str(exc)) from None
            if not keys:
                raise DiscoveryError(f"the JWKS at {url} has no keys")
            ex.notes.append(f"{len(keys)} key(s): " + ", ".join(str(k.get("kid")) for k in keys))
        except DiscoveryError as exc:
            ex.notes.append(str(exc))
            raise
        finally:
            await self.log.record(ex)

    async def _stored_auth(self, issuer: str) -> AuthSpec | None:
        if self._writer is None:
            return None
        row = await self._writer.run(lambda c: c.execute(
            "SELECT auth_kind, auth FROM transmitters WHERE issuer = ?", (issuer,)).fetchone())
        return AuthSpec.from_storage(row[0], json.loads(row[1])) if row else None

    async def known_transmitters(self) -> list[KnownTransmitter]:
        out = []
        if self.builtin is not None:
            out.append(KnownTransmitter(self.builtin[0], "built-in simulator", "", {"kind": "bearer"}, True))
        if self._writer is not None:
            rows = await self._writer.run(lambda c: c.execute(
                "SELECT issuer, location, metadata_url, auth_kind, auth FROM transmitters ORDER BY issuer").fetchall())
            for issuer, location, url, kind, auth in rows:
                spec = AuthSpec.from_storage(kind, json.loads(auth))
                out.append(KnownTransmitter(issuer, location, url, spec.describe()))
        return out

    async def forget_transmitter(self, issuer: str) -> None:
        self.clients.pop(issuer, None)
        if self._writer is not None:
            await self._writer.run(lambda c: c.execute("DELETE FROM transmitters WHERE issuer = ?", (issuer,)))

    async def exchanges(self, *, issuer: str | None = None, after_id: int | None = None,
                        limit: int = 500) -> list[Exchange]:
        """Recorded exchanges (from the workspace; without one, the in-memory list)."""
        if self._writer is None:
            items = [e for e in self.log.recent if issuer is None or e.issuer == issuer]
            return items[-limit:]
        return await self._writer.run(lambda c: list_exchanges(c, issuer=issuer, after_id=after_id, limit=limit))

    # -- poll and verification ----------------------------------------------------------------------
    def poller(self, client: TransmitterClient, config: dict[str, Any], *, acknowledge: bool = True) -> Poller:
        if delivery_mode(config) != "poll":
            raise TransmitterError(f"stream {config.get('stream_id')} does not deliver by poll")
        url = (config.get("delivery") or {}).get("endpoint_url")
        try:
            check_url(url, "the poll endpoint_url")
        except DiscoveryError as exc:
            raise TransmitterError(str(exc)) from None
        return Poller(client, config["stream_id"], url, self.ingest, acknowledge=acknowledge)

    async def verify(self, client: TransmitterClient, config: dict[str, Any], *, timeout: float = 10.0,
                     poll_interval: float = 0.2, watch_workspace: bool = False) -> VerificationOutcome:
        """Request verification with a fresh state and wait for its SET: pushed to our receiver,
        or, for a poll stream, fetched by polling (and acknowledged) until it arrives.
        `watch_workspace`: for a push stream, also watch the workspace's captures, for a
        receiver in another process (a `headless` run) storing into the same workspace."""
        stream_id = config.get("stream_id") if isinstance(config, dict) else None
        if not isinstance(stream_id, str) or not stream_id:
            raise TransmitterError("the stream configuration has no stream_id to verify")
        state = secrets.token_urlsafe(18)
        watch_from = None
        if watch_workspace and self._writer is not None and delivery_mode(config) != "poll":
            watch_from = await self._writer.run(
                lambda c: c.execute("SELECT coalesce(max(id), 0) FROM captures").fetchone()[0])
        future = self.tracker.expect(stream_id, state)
        try:
            answer = await client.request_verification(stream_id, state)
        except BaseException:
            self.tracker.forget(stream_id, state)
            raise
        if delivery_mode(config) == "poll":
            outcome = await self._poll_for(client, config, state, future, timeout, poll_interval)
        else:
            if watch_from is not None:
                await self._watch_captures(future, watch_from, timeout, poll_interval)
            outcome = await self.tracker.wait(stream_id, state, future, timeout if watch_from is None else 0.01)
        if outcome.result == "timeout":
            outcome.detail = f"no verification SET with this state arrived within {timeout:g} s"
            endpoint = (config.get("delivery") or {}).get("endpoint_url")
            if delivery_mode(config) != "poll" and self.receiver.port is not None and endpoint and \
                    not endpoint.startswith(self.receiver.base_url):
                outcome.detail += f"; the stream pushes to {endpoint}, not to this receiver ({self.receiver.url})"
        outcome.exchange_id = answer.exchange_id
        outcome.notes = list(answer.notes)
        return outcome

    async def _poll_for(self, client, config, state, future, timeout, interval) -> VerificationOutcome:
        stream_id = config["stream_id"]
        poller = self.poller(client, config)
        deadline = time.monotonic() + timeout
        try:
            while not future.done() and time.monotonic() < deadline:
                outcome = await poller.poll(return_immediately=True)
                if outcome.sets:
                    await asyncio.sleep(0)  # let the tracker read what was just stored
                    for _ in range(50):
                        if future.done() or not self.tracker._tasks:
                            break
                        await asyncio.sleep(0.01)
                elif not future.done():
                    await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            await poller.flush()
        except BaseException:
            self.tracker.forget(stream_id, state)
            raise
        return await self.tracker.wait(stream_id, state, future, max(0.0, deadline - time.monotonic()) or 0.01)

    async def _watch_captures(self, future, after_id: int, timeout: float, interval: float) -> None:
        """Feed the tracker the verification captures another process commits to the workspace."""
        deadline = time.monotonic() + timeout
        query = ("SELECT DISTINCT capture_id FROM capture_event_types WHERE capture_id > ?"
                 " AND event_type LIKE '%/verification' ORDER BY capture_id")
        while not future.done() and time.monotonic() < deadline:
            ids = await self._writer.run(lambda c: [r[0] for r in c.execute(query, (after_id,))])
            for capture_id in ids:
                await self.tracker.check_capture(capture_id)
                after_id = capture_id
            if not future.done():
                await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    async def _read_capture(self, capture_id: int) -> dict | None:
        if self._writer is None:
            return None
        return await self._writer.run(lambda c: get_capture(c, capture_id))


def persist_trust(writer, trust) -> Callable[..., Awaitable[None]]:
    """A `trust_issuer` for use without an Engine (the CLI): trusted in memory and saved in the
    workspace as Engine.trust_issuer does, so a receiver later run on it trusts the transmitter."""

    async def trust_issuer(issuer: str, *, jwks_url: str | None = None) -> None:
        trust.trust(issuer, jwks_url=jwks_url)
        now = time.time()
        await writer.run(lambda conn: conn.execute(
            "INSERT INTO trusted_issuers (issuer, jwks_url, jwks, added_at) VALUES (?, ?, NULL, ?)"
            " ON CONFLICT(issuer) DO UPDATE SET jwks_url = excluded.jwks_url, jwks = NULL", (issuer, jwks_url, now)))

    return trust_issuer


def _save_transmitter(found: Discovery, auth: AuthSpec, now: float):
    row = (found.issuer, json.dumps(found.metadata), found.url, found.location, json.dumps(found.notes),
           auth.kind, json.dumps(auth.to_storage()), now, now)

    def op(conn):
        conn.execute(
            "INSERT INTO transmitters (issuer, metadata, metadata_url, location, notes, auth_kind, auth, added_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(issuer) DO UPDATE SET metadata = excluded.metadata,"
            " metadata_url = excluded.metadata_url, location = excluded.location, notes = excluded.notes,"
            " auth_kind = excluded.auth_kind, auth = excluded.auth, updated_at = excluded.updated_at", row)

    return op


__all__ = ["Subscriptions", "KnownTransmitter", "AuthError", "DiscoveryError", "TransmitterError"]
