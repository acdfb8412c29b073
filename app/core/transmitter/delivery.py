"""Push delivery (RFC 8935) with retries: the scheduler, the attempts, their records.

Due attempts sit in a heap of (due time, sequence, delivery id); one scheduler task
sleeps until the earliest is due and starts it, at most `max_in_flight` at a time.
Every attempt is recorded in the workspace (`store.deliveries.record_attempt`) with
its outcome and the time of the next attempt, which the pure retry policy
(`core.retry`) decides. Pending deliveries are reloaded from the workspace on
start, so retries survive a restart.

The HTTP client is aiohttp's ClientSession, chosen by measurement
(benchmarks/deliver.py): on 2 cores an httpx.AsyncClient posting to a local 202
server collapsed under 64 concurrent requests (~100 req/s) where aiohttp kept
thousands. Redirects are never followed: a 3xx is a failed attempt.

Time comes from a `Clock`: the real one, a scaled one (hours of backoff in
seconds, for watching a policy play out) or, in tests, a manual one whose
`run_due()` is called by the test instead of the scheduler sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Callable

import aiohttp

from app.core.bus import Bus, DeliveryChanged
from app.core.retry import DELIVERED, GONE, REJECTED, RetryPolicy, classify_response, get_policy, plan_next
from app.core.store import deliveries as store
from app.core.store.writer import StoreWriter

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
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.config.max_in_flight)
        self._tasks: set[asyncio.Task] = set()
        self._scheduler: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self.attempts_made = 0

    # -- lifecycle -------------------------------------------------------------
    async def open(self) -> None:
        """Open the HTTP client (enough for attempts made directly, without the scheduler)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.config.max_in_flight, force_close=False),
                headers={"User-Agent": self.config.user_agent}, auto_decompress=False, trust_env=False)

    async def start(self, conn) -> int:
        """Open the client, reschedule every pending push delivery found in the workspace, start the scheduler."""
        await self.open()
        count = 0
        for row in store.pending_push(conn, held=False):
            self._add(push_from_row(row), row[6] if row[6] is not None else self.clock.now())
            count += 1
        self._scheduler = asyncio.get_running_loop().create_task(self._schedule(), name="push-scheduler")
        return count

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            await asyncio.gather(self._scheduler, return_exceptions=True)
            self._scheduler = None
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- scheduling --------------------------------------------------------------
    def schedule(self, delivery: PushDelivery, due: float | None = None) -> None:
        self._add(delivery, self.clock.now() if due is None else due)
        self._wake.set()

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

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2] not in self._pending:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    async def _schedule(self) -> None:
        while True:
            due = self.next_due()
            now = self.clock.now()
            if due is None or due > now:
                self._wake.clear()
                timeout = None if due is None else max(self.clock.real_delay(due - now), 0.001)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
                continue
            await self._slots.acquire()
            self._start_due_one()

    def _start_due_one(self) -> asyncio.Task | None:
        _, _, delivery_id = heapq.heappop(self._heap)
        delivery = self._pending.pop(delivery_id, None)
        if delivery is None:
            self._slots.release()
            return None
        task = asyncio.get_running_loop().create_task(self._attempt_then_release(delivery), name=f"push {delivery_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _attempt_then_release(self, delivery: PushDelivery) -> None:
        try:
            await self.attempt(delivery)
        except Exception:  # noqa: BLE001 - one broken attempt must not stop the scheduler
            log.exception("push attempt for delivery %s failed", delivery.id)
        finally:
            self._slots.release()

    async def run_due(self) -> int:
        """Start every attempt due by the clock now and wait for them (tests, manual clocks)."""
        tasks = []
        while (due := self.next_due()) is not None and due <= self.clock.now():
            await self._slots.acquire()
            task = self._start_due_one()
            if task is not None:
                tasks.append(task)
        await asyncio.gather(*tasks)
        return len(tasks)

    # -- one attempt ---------------------------------------------------------------
    async def attempt(self, d: PushDelivery) -> str:
        """POST once, record the attempt, plan the next one; returns the delivery's new state."""
        policy = self._policies(d.policy)
        timeout = self.config.attempt_timeout or policy.timeout
        headers = dict(d.headers if d.headers is not None else SET_HEADERS)
        if d.stream_id is not None and d.headers is None:
            auth = self._authorization(d.stream_id)
            if auth:
                headers["Authorization"] = auth
        n = d.attempts + 1
        started = self.clock.now()
        t0 = time.perf_counter()
        status, error, resp_headers, resp_body = None, None, [], b""
        try:
            async with self._session.request(
                d.http_method, d.endpoint, data=d.body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=self.config.connect_timeout),
            ) as resp:
                status = resp.status
                resp_headers = [(k, v) for k, v in resp.headers.items()]
                resp_body = await resp.content.read(store.BODY_EXCERPT)
        except asyncio.TimeoutError:
            error = f"timeout: no answer within {timeout:g} s"
        except aiohttp.ServerDisconnectedError:
            error = "connection closed without an answer"
        except aiohttp.ClientConnectorError as exc:
            error = f"connection failed: {exc.os_error.strerror if exc.os_error else exc}"
        except aiohttp.InvalidURL:
            error = f"invalid URL {d.endpoint!r}"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - t0) * 1000
        ended = self.clock.now()
        self.attempts_made += 1
        outcome = classify_response(status, dict(resp_headers), resp_body, error=error, now=ended)
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
        await self._writer.run(store.record_attempt(record, state=state, err=outcome.err, reason=plan.reason))
        if state == store.PENDING:
            self.schedule(d, plan.next_at)
        self._bus.publish(DeliveryChanged(d.id, d.stream_id, state, n, status, error))
        if state == store.RETIRED and d.stream_id is not None:
            self._on_gone(d.stream_id, f"the endpoint answered 410 Gone to delivery {d.id}")
        return state


def push_from_row(row: tuple) -> PushDelivery:
    """A PushDelivery from a `store.deliveries.pending_push` row."""
    (delivery_id, stream_id, jti, body, endpoint, created_at, _next_at, policy, http_method, request_headers,
     _held, attempts) = row
    headers = [tuple(h) for h in json.loads(request_headers)] if request_headers else None
    return PushDelivery(delivery_id, stream_id, jti, bytes(body), endpoint, created_at, policy, attempts,
                        http_method, headers)

