"""The queued, batched bridge from the engine thread to the GUI thread.

Bus subscribers run on the engine thread and must be quick: `EngineBridge`
only appends the event to a list under a lock and, for the first event of a
batch, emits a queued signal that arms a 50 ms single-shot timer on the GUI
thread. When it fires, the whole batch is handed out at once, so however fast
the receiver ingests, the window repaints at most ~20 times a second; while
batches are big (the receiver at full rate), the next one waits 250 ms, as no
one reads rows arriving at a thousand a second and each repaint then competes
with the engine thread for the GIL and the CPU.

Calls into the engine (`run`) go through `asyncio.run_coroutine_threadsafe`
(EngineThread.submit); their outcome comes back to the GUI thread by a queued
signal and is delivered to the callback given, or to `failed` when it raised.

No qasync: the window does no asyncio work of its own, so the GUI thread runs a
plain Qt event loop and the engine thread a plain asyncio loop.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.core.bus import CaptureStored, Changed, DeliveryChanged, EngineProblem, ServerListening

BATCH_MS = 50
BUSY_BATCH_MS = 250
BUSY_BATCH = 100  # captures in one batch that mean "full rate"


class EngineBridge(QObject):
    captures_stored = Signal(list)  # [CaptureStored, ...] of one batch
    listening = Signal(str, str)  # server name, url
    problem = Signal(str, str)  # message, detail
    changed = Signal(str)  # topic
    failed = Signal(str, str)  # what, error text (an engine call raised)
    deliveries_changed = Signal(list)  # delivery ids of one batch (DeliveryChanged, Changed('deliveries'))
    events = Signal(list)  # every event of a batch, for panels that pick their own kinds (e.g. ExchangeRecorded)

    _wake = Signal()
    _call_done = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list[object] = []
        self._armed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(BATCH_MS)
        self._timer.timeout.connect(self.drain)
        self._wake.connect(self._timer.start)  # queued: emitted on the engine thread
        self._callbacks: dict[int, tuple] = {}
        self._ids = itertools.count(1)
        self._call_done.connect(self._deliver)
        self.batches = 0

    # -- engine thread side -----------------------------------------------------
    def publish(self, event: object) -> None:
        """The bus subscriber (engine thread): queue, and wake the GUI once per batch."""
        with self._lock:
            self._pending.append(event)
            if self._armed:
                return
            self._armed = True
        self._wake.emit()

    # -- GUI thread side ----------------------------------------------------------
    @Slot()
    def drain(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
            self._armed = False
        if not events:
            return
        self.batches += 1
        stored = [e for e in events if isinstance(e, CaptureStored)]
        self._timer.setInterval(BUSY_BATCH_MS if len(stored) >= BUSY_BATCH else BATCH_MS)
        if stored:
            self.captures_stored.emit(stored)
        deliveries = [e.delivery_id for e in events if isinstance(e, DeliveryChanged)]
        deliveries += [i for e in events if isinstance(e, Changed) and e.topic == "deliveries" for i in e.ids]
        if deliveries:
            self.deliveries_changed.emit(list(dict.fromkeys(deliveries)))
        for event in events:
            if isinstance(event, ServerListening):
                self.listening.emit(event.name, event.url)
            elif isinstance(event, EngineProblem):
                self.problem.emit(event.message, event.detail)
            elif isinstance(event, Changed):
                self.changed.emit(event.topic)
        self.events.emit(events)

    def run(self, future, what: str, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
        """Deliver a concurrent future's result to `on_done` on the GUI thread, its
        exception to `on_error` (default: the `failed` signal)."""
        token = next(self._ids)
        self._callbacks[token] = (what, on_done, on_error)

        def done(f) -> None:  # engine thread
            error = f.exception() if not f.cancelled() else RuntimeError("cancelled")
            self._call_done.emit(token, None if error else f.result(), error)

        future.add_done_callback(done)

    @Slot(int, object, object)
    def _deliver(self, token: int, result: object, error: object) -> None:
        what, on_done, on_error = self._callbacks.pop(token, ("", None, None))
        if error is not None and on_error is not None:
            on_error(error)
        elif error is not None:
            self.failed.emit(what, _describe(error))
        elif on_done is not None:
            on_done(result)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text
