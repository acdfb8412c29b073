"""The workspace's single writer: group commits on one thread.

Callers `await writer.run(op)` where `op(conn)` does its SQL; operations queue up
while a transaction is being committed and go into the next one together, so under
load hundreds of captures share one commit, while every caller still resumes only
after *its* operation is durable. One failing operation is rolled back to its own
savepoint and raises for its caller alone.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]


class StoreWriter:
    def __init__(self, conn: sqlite3.Connection, *, max_batch: int = 2000):
        self._conn = conn
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._pending: list[tuple[Operation, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._max_batch = max_batch
        self._closed = False
        self.commits = 0
        self.operations = 0

    async def run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("the workspace writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush(), name="store-writer-flush")
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                outcomes = await loop.run_in_executor(self._executor, self._commit, [op for op, _ in batch])
            except Exception as exc:  # the whole transaction failed (disk full, I/O error)
                log.error("workspace commit failed: %s", exc)
                outcomes = [(False, exc)] * len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _commit(self, ops: list[Operation]) -> list[tuple[bool, Any]]:
        conn = self._conn
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op in ops:
                conn.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, op(conn)))
                    conn.execute("RELEASE op")
                except Exception as exc:  # noqa: BLE001 - reported to that op's caller
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        self.operations += len(ops)
        return outcomes

    def run_sync(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run one operation from a thread without an event loop (CLI, tests)."""
        outcome = self._executor.submit(self._commit, [op]).result()[0]
        if not outcome[0]:
            raise outcome[1]
        return outcome[1]

    async def close(self) -> None:
        """Wait for queued operations, then close the connection."""
        if self._flusher is not None and not self._flusher.done():
            await self._flusher
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)
