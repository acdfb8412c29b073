"""Push delivery (RFC 8935) with retries: the scheduler, the attempts, their records.

Scheduled deliveries sit in a heap of (due time, sequence, delivery id). A fixed pool of
`max_in_flight` worker tasks makes the attempts: a delivery that is due goes straight to an
idle worker (its parked future is resolved with it), and a worker that finishes an attempt
takes the next due delivery itself before parking again. One timer (`loop.call_later`, no
task) wakes the pool when the earliest future delivery falls due. A pool costs less than a
task per attempt (benchmarks/deliver.py) and bounds concurrency without a semaphore.

Every attempt is recorded in the workspace with its outcome and the time of the next
attempt, which the pure retry policy (`core.retry`) decides; the next attempt is planned
only once the record is committed. The attempts that end within one turn of the event loop
share one `store.deliveries.AttemptBatch` (two `executemany` statements) in that turn's
commit. Pending deliveries are reloaded from the workspace on start, so retries survive a
restart.

The HTTP client is `push_client.PushClient`, chosen by measurement (benchmarks/deliver.py):
on 2 cores an httpx.AsyncClient posting to a local 202 server collapsed under 64
concurrent requests (~100 req/s) where aiohttp's ClientSession kept thousands, and the
push client's single-purpose HTTP/1.1 exchange costs about a third of aiohttp's CPU.
Redirects are never followed: a 3xx is a failed attempt.

Time comes from a `Clock`: the real one, a scaled one (hours of backoff in
seconds, for watching a policy play out) or, in tests, a manual one whose
`run_due()` is called by the test instead of the timer firing.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import random
import ssl
import time
from dataclasses import dataclass
from typing import Callable

from app.core.bus import Bus, DeliveryChanged
from app.core.retry import DELIVERED, GONE, REJECTED, RetryPolicy, classify_response, get_policy, plan_next
from app.core.store import deliveries as store
from app.core.store.writer import StoreWriter
from app.core.transmitter.push_client import PushClient, PushError

log = logging.getLogger(__name__)

SET_HEADERS = (("Content-Type", "application/secevent+jwt"), ("Accept", "application/json"))


class Clock:
    """Real time. `real_delay` converts a wait on this clock into seconds of real sleep."""

    def now(self) -> float:
        return time.time()

    def real_delay(self, seconds: float) -> float:
        return seconds


class ScaledClock(Clock):
    """Virtual time running `speed` times faster than real time (from the moment it is made)."""

    def __init__(self, speed: float):
        self.speed = speed
        self._origin = time.time()
        self._mono = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._mono) * self.speed

    def real_delay(self, seconds: float) -> float:
        return seconds / self.speed


class ManualClock(Clock):
    """Time that moves only when told (tests): the scheduler never wakes by itself."""

    def __init__(self, start: float | None = None):
        self.t = start if start is not None else time.time()

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def real_delay(self, seconds: float) -> float:
        return 3600.0


@dataclass
class PushDelivery:
    id: int
    stream_id: str | None
    jti: str
    body: bytes
    endpoint: str
    created_at: float
    policy: str
    attempts: int = 0
    http_method: str = "POST"
    headers: list[tuple[str, str]] | None = None  # None: the RFC 8935 SET headers


@dataclass
class DeliveryConfig:
    max_in_flight: int = 64
    attempt_timeout: float | None = None  # overrides the policy's response deadline
    connect_timeout: float = 3.0
    user_agent: str = "Signalscope-transmitter-simulator"
    ca_file: str | None = None  # PEM certificates trusted for https endpoints, besides the system's
    verify_tls: bool = True  # False: accept any certificate (a local endpoint with a self-signed one)


class PushDeliverer:
    def __init__(self, writer: StoreWriter, bus: Bus, *, clock: Clock | None = None, rng: random.Random | None = None,
                 config: DeliveryConfig | None = None, authorization: Callable[[str], str | None] = lambda s: None,
                 on_gone: Callable[[str, str], None] = lambda stream_id, why: None,
                 policies: Callable[[str], RetryPolicy] = get_policy):
        self._writer = writer
        self._bus = bus
        self.clock = clock or Clock()
        self._rng = rng or random.Random()
        self.config = config or DeliveryConfig()
        self._authorization = authorization
        self._on_gone = on_gone
        self._policies = policies
        self._heap: list[tuple[float, int, int]] = []
        self._seq = itertools.count()
        self._pending: dict[int, PushDelivery] = {}
        self._workers: list[asyncio.Task] = []
        self._idle: list[asyncio.Future] = []  # parked workers, each waiting to be handed a delivery
        self._in_flight = 0  # deliveries handed to workers and not yet finished
        self._quiet = asyncio.Event()  # set while nothing is in flight (run_due waits on it)
        self._quiet.set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._stopping = False
        self._batch: store.AttemptBatch | None = None  # attempts waiting for this turn's commit
        self._batch_committed: asyncio.Future | None = None
        self._client: PushClient | None = None
        self.attempts_made = 0

    # -- lifecycle -------------------------------------------------------------
    async def open(self) -> None:
        """Open the HTTP client (enough for attempts made directly, without the scheduler)."""
        if self._client is None:
            self._client = PushClient(user_agent=self.config.user_agent, connect_timeout=self.config.connect_timeout,
                                      excerpt=store.BODY_EXCERPT, max_idle=self.config.max_in_flight,
                                      ssl_context=tls_context(self.config))

    async def start(self, conn) -> int:
        """Open the client, reschedule every pending push delivery found in the workspace, start the workers."""
        await self.open()
        count = 0
        for row in store.pending_push(conn, held=False):
            self._add(push_from_row(row), row[6] if row[6] is not None else self.clock.now())
            count += 1
        loop = asyncio.get_running_loop()
        self._stopping = False
        # Each worker takes what is due before it first parks.
        self._workers = [loop.create_task(self._work(), name=f"push-worker {i}")
                         for i in range(self.config.max_in_flight)]
        self._arm_timer()
        return count

    async def stop(self) -> None:
        """Stop the timer and the workers; attempts in flight finish (and are recorded) first."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_due = None
        for parked in self._idle:
            parked.cancel()
        self._idle.clear()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
            self._workers = []
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- scheduling --------------------------------------------------------------
    def schedule(self, delivery: PushDelivery, due: float | None = None) -> None:
        self._add(delivery, self.clock.now() if due is None else due)
        self._dispatch()
        self._arm_timer()

    def _add(self, delivery: PushDelivery, due: float) -> None:
        self._pending[delivery.id] = delivery
        heapq.heappush(self._heap, (due, next(self._seq), delivery.id))

    def drop(self, ids: set[int]) -> None:
        """Forget scheduled deliveries (their stream was disabled or deleted)."""
        for i in ids:
            self._pending.pop(i, None)

    @property
    def scheduled(self) -> int:
        return len(self._pending)

    @property
    def in_flight(self) -> int:
        """Scheduled attempts handed to a worker and not finished (recorded) yet."""
        return self._in_flight

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2] not in self._pending:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def _take_due(self, now: float) -> PushDelivery | None:
        """Pop the earliest delivery if it is due by `now` (skipping dropped ones)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            delivery = self._pending.pop(heapq.heappop(heap)[2], None)
            if delivery is not None:
                return delivery
        return None

    def _dispatch(self) -> None:
        """Hand due deliveries to idle workers, while both last."""
        if not self._idle or self._stopping:
            return
        now = self.clock.now()
        while self._idle and (delivery := self._take_due(now)) is not None:
            self._begin()
            self._idle.pop().set_result(delivery)

    def _begin(self) -> None:
        self._in_flight += 1
        self._quiet.clear()

    def _arm_timer(self) -> None:
        """Make the timer fire when the earliest delivery that is not yet due falls due."""
        due = self.next_due()
        if due is None or self._stopping or not self._workers:
            return
        now = self.clock.now()
        if due <= now:
            return  # due already: the workers take it as they come free
        if self._timer is not None:
            if self._timer_due is not None and self._timer_due <= due:
                return  # it fires early enough
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_due = due
        self._timer = loop.call_later(max(self.clock.real_delay(due - now), 0.001), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_due = None
        self._dispatch()
        self._arm_timer()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            delivery = self._take_due(self.clock.now())
            if delivery is not None:
                self._begin()
            else:
                parked = loop.create_future()
                self._idle.append(parked)
                try:
                    delivery = await parked  # _dispatch counted it in flight
                except asyncio.CancelledError:
                    return  # stop() while idle
            while delivery is not None:
                try:
                    await self.attempt(delivery)
                except Exception:  # noqa: BLE001 - one broken attempt must not stop the worker
                    log.exception("push attempt for delivery %s failed", delivery.id)
                # Straight on to the next due delivery, if any: it stays counted in flight.
                delivery = None if self._stopping else self._take_due(self.clock.now())
            self._in_flight -= 1
            if not self._in_flight:
                self._quiet.set()
            self._arm_timer()  # the earliest delivery may be due later than the timer is set for, or unset

    async def run_due(self) -> int:
        """Start every attempt due by the clock now and wait until nothing is in flight (tests, manual clocks);
        returns the number of attempts made meanwhile."""
        before = self.attempts_made
        while True:
            self._dispatch()
            if self._in_flight:
                await self._quiet.wait()
            elif self._workers and not self._idle and self._due_now():
                await asyncio.sleep(0)  # the workers were just started and have not parked yet
            else:
                return self.attempts_made - before

    def _due_now(self) -> bool:
        due = self.next_due()
        return due is not None and due <= self.clock.now()

    # -- one attempt ---------------------------------------------------------------
    def _record(self, record: store.AttemptRecord, *, state: str, err: str | None, reason: str) -> asyncio.Future:
        """Add the attempt to this turn's batch; the future resolves once the batch is committed."""
        if self._batch is None:
            batch = self._batch = store.AttemptBatch()

            def write(conn) -> None:
                if self._batch is batch:  # attempts ending after this point go into the next batch
                    self._batch = self._batch_committed = None
                batch.write(conn)

            self._batch_committed = self._writer.submit(write)
        self._batch.add(record, state=state, err=err, reason=reason)
        return self._batch_committed

    async def attempt(self, d: PushDelivery) -> str:
        """POST once, record the attempt, plan the next one; returns the delivery's new state."""
        policy = self._policies(d.policy)
        timeout = self.config.attempt_timeout or policy.timeout
        if d.headers is not None:
            headers = tuple(dict(d.headers).items())  # a replay's recorded headers: the last of a repeated name wins
        else:
            auth = self._authorization(d.stream_id) if d.stream_id is not None else None
            headers = SET_HEADERS if not auth else (*SET_HEADERS, ("Authorization", auth))
        n = d.attempts + 1
        started = self.clock.now()
        t0 = time.perf_counter()
        status, error, resp_headers, resp_body = None, None, [], b""
        try:
            resp = await self._client.send(d.http_method, d.endpoint, d.body, headers, timeout)
            status, resp_headers, resp_body = resp.status, resp.headers, resp.body
        except PushError as exc:
            error = str(exc)
        latency_ms = (time.perf_counter() - t0) * 1000
        ended = self.clock.now()
        self.attempts_made += 1
        outcome = classify_response(status, dict(resp_headers) if status is not None and not 200 <= status < 300
                                    else None, resp_body, error=error, now=ended)
        d.attempts = n
        plan = plan_next(policy, n, outcome, now=ended, created_at=d.created_at, rng=self._rng)
        if outcome.kind == DELIVERED:
            state = store.DELIVERED
        elif outcome.kind == GONE:
            state = store.RETIRED
        elif outcome.kind == REJECTED or plan.next_at is None:
            state = store.FAILED
        else:
            state = store.PENDING
        record = store.AttemptRecord(
            delivery_id=d.id, n=n, started_at=started, ended_at=ended, status=status, error=error,
            latency_ms=latency_ms, response_headers=resp_headers,
            response_body=resp_body.decode("utf-8", "replace"), retry_after=outcome.retry_after,
            next_retry_at=plan.next_at if state == store.PENDING else None, outcome=outcome.kind,
            reason=f"{outcome.reason}; {plan.reason}",
        )
        await self._record(record, state=state, err=outcome.err, reason=plan.reason)
        if state == store.PENDING:
            self.schedule(d, plan.next_at)
        if self._bus.has_subscribers:  # nobody listening (headless, benchmarks): no event object per attempt
            self._bus.publish(DeliveryChanged(d.id, d.stream_id, state, n, status, error))
        if state == store.RETIRED and d.stream_id is not None:
            self._on_gone(d.stream_id, f"the endpoint answered 410 Gone to delivery {d.id}")
        return state


def tls_context(config: DeliveryConfig) -> ssl.SSLContext | None:
    """The TLS settings for https endpoints; None: the system's trust store, verified."""
    if config.verify_tls and not config.ca_file:
        return None
    context = ssl.create_default_context()
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot read the CA file {config.ca_file}: {exc}") from None
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def push_from_row(row: tuple) -> PushDelivery:
    """A PushDelivery from a `store.deliveries.pending_push` row."""
    (delivery_id, stream_id, jti, body, endpoint, created_at, _next_at, policy, http_method, request_headers,
     _held, attempts) = row
    headers = [tuple(h) for h in json.loads(request_headers)] if request_headers else None
    return PushDelivery(delivery_id, stream_id, jti, bytes(body), endpoint, created_at, policy, attempts,
                        http_method, headers)

