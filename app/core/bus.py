"""The one observer interface through which the core tells front ends what happened.

Publishers call `bus.publish(event)` from the engine's thread; subscribers are
plain callables, called synchronously in that thread, so they must be quick (the
Qt bridge only queues the event and wakes the GUI thread; headless mode logs).
A subscriber that raises is logged and does not disturb the others.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureStored:
    """A request reached the receiver (or was polled/imported) and is committed."""

    capture_id: int
    kind: str
    verdict: str
    response_status: int
    event_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerListening:
    name: str  # "receiver" | "transmitter"
    url: str


@dataclass(frozen=True)
class EngineProblem:
    """Something went wrong that a person should see (not a per-request verdict)."""

    message: str
    detail: str = ""


@dataclass(frozen=True)
class Changed:
    """A piece of workspace state changed (topic: 'issuers', 'settings', 'streams', 'deliveries', ...)."""

    topic: str
    ids: tuple[Any, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DeliveryChanged:
    """A delivery (simulator push/poll, replay) was attempted or changed state."""

    delivery_id: int
    stream_id: str | None
    state: str
    attempt: int = 0
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class TransmitterExchange:
    """The simulator answered a management, poll or control request."""

    method: str
    path: str
    status: int
    notes: tuple[str, ...] = ()


Subscriber = Callable[[object], None]


class Bus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens (a publisher on a hot path may skip building the event)."""
        return bool(self._subscribers)

    def publish(self, event: object) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # noqa: BLE001 - one bad subscriber must not break the engine
                log.exception("subscriber %r failed on %r", subscriber, event)
