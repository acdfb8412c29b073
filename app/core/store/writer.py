"""The workspace's single writer: group commits on the engine's event loop.

Callers `await writer.run(op)` where `op(conn)` does its SQL. Operations that
arrive within one turn of the event loop go into one transaction, so under load
hundreds of captures share a commit, while every caller still resumes only after
*its* operation is committed.

Why on the loop's own thread and not a writer thread: measured with
benchmarks/ingest.py, a writer thread cost ~240 us of CPU per capture in GIL
hand-overs (sqlite3 releases the GIL on every step, and the busy event loop then
holds it), about a third of the whole per-request cost. Inline, a commit in WAL
mode with synchronous=NORMAL is a write() without fsync; the fsyncs happen in WAL
checkpoints, which run on a separate connection in a background thread so they
never stall the loop (automatic checkpoints are off on the writer's connection).
The engine has its own thread in the window, so the GUI never waits on this.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from typing import Any, Callable, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]

CHECKPOINT_EVERY = 200  # commits between background WAL checkpoints


class StoreWriter:
    def __init__(self, conn: sqlite3.Connection, *, max_batch: int = 2000, path: str | None = None):
        self._conn = conn
        self._path = path or conn.execute("PRAGMA database_list").fetchone()[2]
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._pending: list[tuple[Operation, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._max_batch = max_batch
        self._closed = False
        self._since_checkpoint = 0
        self._checkpointer: threading.Thread | None = None
        self.commits = 0
        self.operations = 0

    async def run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        return await self.submit(op)

    def submit(self, op: Callable[[sqlite3.Connection], T]) -> "asyncio.Future[T]":
        """Queue `op` for this turn's commit; the future resolves once it is committed. Several
        callers may await one future (an operation that gathers the work of many, such as a
        batch of delivery attempts)."""
        if self._closed:
            raise RuntimeError("the workspace writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush(), name="store-writer-flush")
        return future

    async def _flush(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let this turn's other requests queue up: one commit for all
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                outcomes = self._commit([op for op, _ in batch])
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
            self._maybe_checkpoint()

    def _maybe_checkpoint(self) -> None:
        self._since_checkpoint += 1
        if self._since_checkpoint < CHECKPOINT_EVERY or (self._checkpointer and self._checkpointer.is_alive()):
            return
        self._since_checkpoint = 0
        self._checkpointer = threading.Thread(target=self._checkpoint, name="wal-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None)
            try:
                conn.execute("PRAGMA busy_timeout = 1000")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed: %s", exc)

    def _commit(self, ops: list[Operation]) -> list[tuple[bool, Any]]:
        """One transaction for the whole batch. Fast path: no per-operation savepoints
        (each extra statement is another GIL hand-over between this thread and the
        event loop). If any operation fails, the batch is rolled back and replayed
        with a savepoint around each operation, so only the failing one is lost."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [(True, op(conn)) for op in ops]
            conn.execute("COMMIT")
        except Exception:  # noqa: BLE001 - replayed one by one below
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = self._commit_isolated(ops)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        self.operations += len(ops)
        return outcomes

    def _commit_isolated(self, ops: list[Operation]) -> list[tuple[bool, Any]]:
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
        return outcomes

    def run_sync(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run one operation outside any event loop (CLI tools, tests)."""
        ok, value = self._commit([op])[0]
        if not ok:
            raise value
        return value

    async def close(self) -> None:
        """Wait for queued operations, checkpoint, then close the connection."""
        if self._flusher is not None and not self._flusher.done():
            await self._flusher
        self._closed = True
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("final WAL checkpoint failed: %s", exc)
        self._conn.close()
