"""ManagementChannel: the window's handle on the engine's `Subscriptions`.

The core's `Subscriptions` object lives on the engine thread and is only ever
touched inside coroutines submitted there (`run`); results come back to the GUI
thread through the bridge's queued callbacks, so no management call (discovery,
OAuth token, stream operations, verification round trips, polls) ever blocks the
window. A new one is made each time the engine (re)starts, and the old one closed.

Auto-poll runs as an engine task (`Engine.spawn`), so stopping the engine cancels it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QObject, Signal

AUTO_POLL_INTERVAL = 1.0


class ManagementChannel(QObject):
    ready = Signal(dict)  # the engine's ready_info, once a Subscriptions exists for it
    polled = Signal(str, int)  # stream_id, SETs fetched by one auto-poll request (from the engine thread: queued)
    auto_poll_stopped = Signal(str, str)  # stream_id, why (empty: stopped by the user)
    _auto_poll_ended = Signal(str, object, str)  # from the engine thread: stream_id, its stop event, why

    def __init__(self, bridge, parent: QObject | None = None):
        super().__init__(parent)
        self._bridge = bridge
        self._thread = None
        self.subs = None  # app.core.subscriptions.Subscriptions (engine thread only)
        self.info: dict = {}
        self._auto: dict[str, asyncio.Event] = {}
        self._engine = None  # the Engine `subs` was made over
        self._generation = 0  # answers to calls made over an older engine are dropped
        self._auto_poll_ended.connect(self._forget_auto_poll)  # queued: emitted on the engine thread
        self._in_flight: set = set()  # concurrent futures of the calls not answered yet

    @property
    def connected(self) -> bool:
        """A Subscriptions exists over the engine that runs now (not one being replaced)."""
        return self.subs is not None and self._thread is not None and self._thread.engine is self._engine

    def attach(self, engine_thread, info: dict) -> None:
        """After the engine (re)started: a fresh Subscriptions over it."""
        self._thread = engine_thread
        old, self.subs = self.subs, None
        self._auto.clear()  # the old engine's tasks were cancelled with it
        self._generation += 1
        generation = self._generation

        async def make(engine):
            from app.core.subscriptions import Subscriptions

            if old is not None:
                old.close()
            return Subscriptions.for_engine(engine), engine

        def made(result) -> None:
            if generation != self._generation:  # made over an engine replaced meanwhile: a newer attach follows
                stale = result[0]
                if self._thread is not None and self._thread.running:
                    async def close_stale():
                        stale.close()

                    self._thread.submit(close_stale())
                return
            self.subs, self._engine = result
            self.info = info
            self.ready.emit(info)

        self._bridge.run(engine_thread.call(make), "opening the subscriptions", made)

    def detach(self) -> None:
        """The engine is about to stop (for good, or to restart): calls in flight over it are
        cancelled and their answers dropped, so one the stop overtakes does not report "the
        engine is not running"; its Subscriptions is closed. The next attach makes a fresh one."""
        self.close()
        self._auto.clear()

    def run(self, what: str, fn: Callable[[Any, Any], Awaitable[Any]], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> bool:
        """`await fn(subs, engine)` on the engine thread. When no engine runs (or it is restarting)
        nothing is sent, `on_error` (else the bridge's `failed`) hears why, and False is returned."""
        if not self.connected:
            error = RuntimeError("the engine is not running (it may be restarting); try again in a moment")
            if on_error is not None:
                on_error(error)
            else:
                self._bridge.failed.emit(what, str(error))
            return False
        subs, generation = self.subs, self._generation

        async def call(engine):
            return await fn(subs, engine)

        def done(result) -> None:
            if generation == self._generation and on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return  # the engine restarted meanwhile: nobody waits for this answer
            if on_error is not None:
                on_error(exc)
            else:
                self._bridge.failed.emit(what, str(exc) or type(exc).__name__)

        future = self._thread.call(call)
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)
        self._bridge.run(future, what, done, failed)
        return True

    def close(self) -> None:
        """The window is closing: cancel the calls still in flight (a verification may wait for
        seconds) and let the Subscriptions go, before the engine stops, so nothing is left pending."""
        self._generation += 1
        for future in list(self._in_flight):
            future.cancel()
        subs, self.subs = self.subs, None
        if subs is not None and self._thread is not None and self._thread.running:
            async def close_subs():
                subs.close()

            self._thread.submit(close_subs())

    # -- auto-poll ------------------------------------------------------------------------
    def auto_polling(self, stream_id: str) -> bool:
        return stream_id in self._auto

    def start_auto_poll(self, issuer: str, config: dict) -> None:
        stream_id = config["stream_id"]
        if stream_id in self._auto or not self.connected:
            return
        stop = asyncio.Event()
        self._auto[stream_id] = stop

        async def start(subs, engine):
            client = await client_for(subs, issuer)
            poller = subs.poller(client, config)

            async def loop_until_stopped():
                from app.core.subscriptions import TransmitterError

                why = ""
                try:
                    await poller.run(seconds=10**9, long_poll=False, interval=AUTO_POLL_INTERVAL, stop=stop,
                                     on_outcome=lambda o: self.polled.emit(stream_id, len(o.sets)))
                except TransmitterError as exc:
                    why = str(exc)
                self._auto_poll_ended.emit(stream_id, stop, why)

            engine.spawn(loop_until_stopped(), name=f"auto-poll {stream_id}")

        def failed(exc: BaseException) -> None:
            self._auto.pop(stream_id, None)
            self.auto_poll_stopped.emit(stream_id, str(exc))

        self.run(f"auto-polling stream {stream_id}", start, on_error=failed)

    def _forget_auto_poll(self, stream_id: str, stop: object, why: str) -> None:
        if self._auto.get(stream_id) is stop:  # not a newer auto-poll of the same stream
            del self._auto[stream_id]
        self.auto_poll_stopped.emit(stream_id, why)

    def stop_auto_poll(self, stream_id: str) -> None:
        stop = self._auto.pop(stream_id, None)
        if stop is not None and self._thread is not None:
            self._thread.loop.call_soon_threadsafe(stop.set)


async def client_for(subs, issuer: str):
    """The connected client of a known transmitter (connecting with its stored credentials)."""
    client = subs.clients.get(issuer)
    if client is None:
        client = await subs.connect(issuer)
    return client


async def list_transmitters(subs, engine) -> list:
    """Every known transmitter, connected, with its streams (read-all), all at once so that an
    unreachable one does not hold up the others; failures become the listing's `problem`."""
    from app.core.catalogue import default_catalogue
    from app.core.subscriptions import AuthError, DiscoveryError, TransmitterError
    from app.ui.subscriptions.transmitter_tree import TransmitterListing

    async def one(known) -> TransmitterListing:
        listing = TransmitterListing(known.issuer, known.builtin, known.auth, known.location, known.metadata_url)
        try:
            client = await client_for(subs, known.issuer)
            found = client.discovery
            listing.location, listing.metadata_url, listing.notes = found.location, found.url, list(found.notes)
            answer = await client.list_streams()
            listing.streams = [c for c in answer.data if isinstance(c, dict)]
            listing.notes += answer.notes
        except (AuthError, DiscoveryError, TransmitterError) as exc:
            listing.problem = str(exc)
        supported = [e for c in listing.streams for e in c.get("events_supported") or [] if isinstance(e, str)]
        if known.builtin and engine.transmitter is not None:
            supported = list(engine.transmitter.supported)
        listing.events_supported = list(dict.fromkeys(supported)) or [e.uri for e in default_catalogue().events]
        return listing

    listings = await asyncio.gather(*(one(k) for k in await subs.known_transmitters()), return_exceptions=True)
    failure = next((x for x in listings if isinstance(x, BaseException)), None)
    if failure is not None:  # every child is done and retrieved; the first unexpected failure is the call's
        raise failure
    return list(listings)
