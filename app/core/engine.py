"""The engine: one object that owns the workspace, the servers and the clients.

It is the core's composition root. Front ends (the window, headless mode) build
an `Engine` from an `EngineConfig`, `await start()` it inside an asyncio loop
(the window runs that loop on a dedicated thread so ingest never waits for
painting), read `ready_info()`, subscribe to `bus`, and `await stop()` at the end.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.core.bus import Bus, Changed, EngineProblem, ServerListening
from app.core.faults import FaultRuleError, FaultRules
from app.core.receiver import Receiver, ReceiverConfig
from app.core.store.schema import open_workspace
from app.core.store.writer import StoreWriter
from app.core.transmitter import Transmitter, TransmitterSettings
from app.core.replay import Replayer
from app.core.transmitter.delivery import Clock, DeliveryConfig, PushDeliverer
from app.core.transmitter.server import TransmitterServer
from app.core.trust import TrustError, TrustStore

log = logging.getLogger(__name__)


@dataclass
class EngineConfig:
    workspace: Path
    host: str = "127.0.0.1"
    receiver_port: int = 0
    transmitter_port: int = 0
    transmitter_port_fallback: bool = False  # if transmitter_port is taken, take a free one (and say so)
    receiver_token: str | None = None
    audiences: tuple[str, ...] = ()
    trust_issuers: list[tuple[str, str | None]] = field(default_factory=list)
    body_limit: int = 1024 * 1024
    fault_rules: FaultRules | None = None  # None: use the rules saved in the workspace
    transmitter: bool = True  # run the transmitter simulator
    transmitter_settings: TransmitterSettings = field(default_factory=TransmitterSettings)
    clock: Clock | None = None  # the simulator's clock (tests: ManualClock; watching policies: ScaledClock)
    push_ca_file: str | None = None  # https push and replay endpoints: also trust these CA certificates
    push_verify_tls: bool = True  # False: accept any certificate from them


class Engine:
    def __init__(self, config: EngineConfig, bus: Bus | None = None):
        self.config = config
        self.bus = bus or Bus()
        self.writer: StoreWriter | None = None
        self.http: httpx.AsyncClient | None = None
        self.trust: TrustStore | None = None
        self.receiver: Receiver | None = None
        self.transmitter: Transmitter | None = None
        self.transmitter_server: TransmitterServer | None = None
        self.replayer: Replayer | None = None
        self._own_deliverer: PushDeliverer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        conn = open_workspace(self.config.workspace)
        self.writer = StoreWriter(conn)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False, trust_env=False
        )
        self.trust = TrustStore(self.http)
        for issuer, jwks_url, jwks in conn.execute("SELECT issuer, jwks_url, jwks FROM trusted_issuers"):
            try:
                self.trust.trust(issuer, jwks_url=jwks_url, jwks=json.loads(jwks) if jwks else None)
            except TrustError as exc:
                self.bus.publish(EngineProblem(f"stored issuer {issuer} is unusable", str(exc)))
        for issuer, jwks_url in self.config.trust_issuers:
            await self.trust_issuer(issuer, jwks_url=jwks_url)
        self.receiver = Receiver(
            ReceiverConfig(
                host=self.config.host,
                port=self.config.receiver_port,
                token=self.config.receiver_token,
                audiences=tuple(self.config.audiences),
                body_limit=self.config.body_limit,
            ),
            self.writer,
            self.trust,
            self.bus,
        )
        if self.config.fault_rules is not None:
            self.receiver.faults = self.config.fault_rules
        else:
            row = conn.execute("SELECT value FROM settings WHERE key = 'fault_rules'").fetchone()
            if row:
                try:
                    self.receiver.faults = FaultRules.from_json(json.loads(row[0]))
                except (FaultRuleError, ValueError) as exc:
                    self.bus.publish(EngineProblem("saved fault rules are unusable", str(exc)))
        url = await self.receiver.start()
        self.bus.publish(ServerListening("receiver", url))
        if self.config.transmitter:
            await self._start_transmitter(conn)
            deliverer = self.transmitter.push
        else:
            deliverer = self._own_deliverer = PushDeliverer(self.writer, self.bus, clock=self.config.clock,
                                                            config=self._push_tls(DeliveryConfig()))
            await deliverer.start(conn)
        self.replayer = Replayer(self.writer, deliverer, clock=deliverer.clock.now)
        for entry in self.trust.issuers:
            self.spawn(self._prefetch_keys(entry.issuer), name=f"prefetch-keys {entry.issuer}")

    def _push_tls(self, delivery: DeliveryConfig) -> DeliveryConfig:
        """The delivery settings with the configured TLS trust for https endpoints."""
        if self.config.push_ca_file:
            delivery.ca_file = self.config.push_ca_file
        if not self.config.push_verify_tls:
            delivery.verify_tls = False
        return delivery

    async def _start_transmitter(self, conn) -> None:
        settings = self.config.transmitter_settings
        settings.host = self.config.host
        settings.port = self.config.transmitter_port
        settings.delivery = self._push_tls(settings.delivery)
        if settings.default_aud is None and self.config.audiences:
            settings.default_aud = self.config.audiences[0]  # so our own receiver accepts the simulator's SETs
        self.transmitter = Transmitter(settings, self.writer, self.bus, clock=self.config.clock)
        self.transmitter_server = TransmitterServer(self.transmitter, self.bus, lambda: conn)
        try:
            base = await self.transmitter_server.start(settings.host, settings.port)
        except OSError as exc:
            if not (self.config.transmitter_port_fallback and settings.port and exc.errno == errno.EADDRINUSE):
                raise
            await self.transmitter_server.stop()
            base = await self.transmitter_server.start(settings.host, 0)
            self.bus.publish(EngineProblem(
                f"The simulator's port {settings.port} is in use; it listens on {base} instead, so its issuer "
                "URL changed for this run", "set the simulator port in Settings to choose another one"))
        await self.transmitter.start(conn, base)
        # Our receiver trusts the simulator (in memory only: its port, so its issuer, changes per run).
        self.trust.trust(self.transmitter.issuer, jwks_url=f"{base}/jwks.json")
        self.bus.publish(ServerListening("transmitter", base))

    async def stop(self) -> None:
        """Stop serving, finish queued writes, close everything (safe to call twice)."""
        if self.transmitter_server is not None:
            await self.transmitter_server.stop()
            self.transmitter_server = None
        if self.transmitter is not None:
            await self.transmitter.stop()
            self.transmitter = None
        if self._own_deliverer is not None:
            await self._own_deliverer.stop()
            self._own_deliverer = None
        if self.receiver is not None:
            await self.receiver.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()
            self.http = None
        if self.writer is not None:
            await self.writer.close()
            self.writer = None

    def spawn(self, coro, *, name: str) -> asyncio.Task:
        """Start a background task, keep a reference, and surface its failure."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("task %s failed: %s", name, t.exception())
                self.bus.publish(EngineProblem(f"{name} failed", repr(t.exception())))

        task.add_done_callback(done)
        return task

    async def _prefetch_keys(self, issuer: str) -> None:
        try:
            await self.trust.refresh(issuer)
        except TrustError as exc:
            log.warning("keys of %s not available yet: %s", issuer, exc)

    async def trust_issuer(self, issuer: str, *, jwks_url: str | None = None, jwks: dict | None = None) -> None:
        """Trust an issuer (persisted in the workspace)."""
        self.trust.trust(issuer, jwks_url=jwks_url, jwks=jwks)
        now = time.time()

        def op(conn):
            conn.execute(
                "INSERT INTO trusted_issuers (issuer, jwks_url, jwks, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(issuer) DO UPDATE SET jwks_url = excluded.jwks_url, jwks = excluded.jwks",
                (issuer, jwks_url, json.dumps(jwks) if jwks is not None else None, now),
            )

        await self.writer.run(op)
        self.bus.publish(Changed("issuers", (issuer,)))

    async def forget_issuer(self, issuer: str) -> None:
        self.trust.forget(issuer)
        await self.writer.run(lambda conn: conn.execute("DELETE FROM trusted_issuers WHERE issuer = ?", (issuer,)))
        self.bus.publish(Changed("issuers", (issuer,)))

    async def set_fault_rules(self, rules: FaultRules) -> None:
        """Replace the receiver's fault rules (applied to the next request) and save them."""
        self.receiver.faults = rules
        text = json.dumps(rules.to_json())
        await self.writer.run(lambda conn: conn.execute(
            "INSERT INTO settings (key, value) VALUES ('fault_rules', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (text,)))
        self.bus.publish(Changed("fault_rules"))

    def ready_info(self) -> dict:
        info = {"event": "ready", "receiver_url": self.receiver.url}
        if self.transmitter is not None:
            info["transmitter_url"] = self.transmitter.base_url
            info["transmitter_issuer"] = self.transmitter.issuer
            info["management_token"] = self.transmitter.management_token
        info["workspace"] = str(self.config.workspace)
        return info
