"""The engine on its own thread, with its own asyncio loop.

Why a thread and not qasync on the GUI thread: DESIGN.md measured that ingest
inside qasync halves throughput and stalls the GUI (p99 ~36 ms with ES256 and
SQLite commits), while an engine thread keeps ~0.9x of plain asyncio and the
GUI stalls near 1 ms. So front ends with a UI of their own build an
`EngineThread`, call `start_engine(config, bus)`, and talk to the engine only
through `submit(coroutine)`, which returns a `concurrent.futures.Future`.
Bus events arrive on the engine thread; the front end must hand them over.

The engine module (and aiohttp with it) is imported on the engine thread, so a
window can paint before that import cost is paid.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import threading
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)


class EngineThread:
    def __init__(self, *, name: str = "signalscope-engine", on_error: Callable[[str], None] | None = None):
        """`on_error(text)` hears of exceptions nobody awaited on the engine's loop (called
        on the engine thread; a window hands it to its GUI thread)."""
        self.loop = asyncio.new_event_loop()
        self.engine = None  # app.core.engine.Engine once started
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(self._loop_exception)
        self.loop.run_forever()
        self.loop.close()

    def _loop_exception(self, loop, context) -> None:
        exc = context.get("exception")
        log.error("engine loop: %s", context.get("message"), exc_info=exc)
        if self._on_error is not None:
            try:
                self._on_error(f"{context.get('message') or 'engine error'}: {exc!r}" if exc else str(context.get("message")))
            except Exception:  # noqa: BLE001 - the reporter must not take the loop down
                log.exception("reporting an engine error failed")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def submit(self, coro: Awaitable[Any]) -> concurrent.futures.Future:
        """Run a coroutine on the engine's loop; the future resolves on the engine thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[..., Awaitable[Any]], *args, **kwargs) -> concurrent.futures.Future:
        """`fn(engine, ...)` on the engine's loop (fails if no engine is running)."""

        async def run():
            if self.engine is None:
                raise RuntimeError("the engine is not running")
            return await fn(self.engine, *args, **kwargs)

        return self.submit(run())

    def start_engine(self, config, bus) -> concurrent.futures.Future:
        """Start an Engine from an EngineConfig or its keyword arguments; the future's
        result is its `ready_info()`. A failed start leaves no engine behind."""

        async def start():
            from app.core.engine import Engine, EngineConfig  # here: the GUI thread never pays for aiohttp

            if self.engine is not None:
                await self._stop()
            nonlocal config
            if isinstance(config, dict):
                config = EngineConfig(**config)
            engine = Engine(config, bus)
            try:
                await engine.start()
            except BaseException:
                await engine.stop()
                raise
            self.engine = engine
            return engine.ready_info()

        return self.submit(start())

    def stop_engine(self) -> concurrent.futures.Future:
        return self.submit(self._stop())

    async def _stop(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.stop()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the engine cleanly, then the loop and the thread (safe to call twice)."""
        if not self._thread.is_alive():
            return
        try:
            self.stop_engine().result(timeout)
        except Exception:  # noqa: BLE001 - shutting down anyway; say what went wrong
            log.exception("engine did not stop cleanly")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


def describe_start_error(exc: BaseException, port: int) -> tuple[str, bool]:
    """A sentence for a failed start, and whether it is a port already in use."""
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        what = "already in use" if exc.errno == errno.EADDRINUSE else "not allowed"
        return f"Port {port} is {what}; pick another port for the receiver.", True
    return f"The engine could not start: {exc}", False
