"""Bulk replay: a selection of captures sent again at a chosen rate, cancellable, recorded as a run.

The selection is a capture filter (the list's), explicit ids, or "everything that
failed since T" (answered >= 400, or a SET we judged invalid). Items start at
`rate` per second (a few in flight at once), in capture order or by receive time;
cancelling stops new starts, lets those in flight finish, and leaves the run marked
`cancelled` with the counts of what was actually sent. Each item's outcome is a
recorded delivery of the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from app.core.replay import ReplayEditError, ReplayOutcome, ReplayRequest, Replayer
from app.core.store.captures import CaptureFilter, get_capture, iter_captures
from app.core.store.writer import StoreWriter

IN_FLIGHT = 8


@dataclass
class Selection:
    filter: CaptureFilter = field(default_factory=CaptureFilter)
    ids: list[int] | None = None
    failed_only: bool = False
    since: float | None = None
    order: str = "original"  # original (capture id) | time (received_at)

    def describe(self) -> dict[str, Any]:
        flt = {k: v for k, v in self.filter.__dict__.items() if v not in (None, "")}
        return {"filter": flt, "ids": self.ids, "failed_only": self.failed_only, "since": self.since, "order": self.order}


def failed(capture: dict[str, Any]) -> bool:
    status = capture["response_status"]
    return status is None or status >= 400 or capture["verdict"] == "invalid"


def select(conn, selection: Selection) -> list[int]:
    if selection.ids is not None:
        rows = [get_capture(conn, i) for i in selection.ids]
        missing = [i for i, r in zip(selection.ids, rows) if r is None]
        if missing:
            raise ReplayEditError(f"no capture with id {', '.join(map(str, missing))}")
    else:
        rows = list(iter_captures(conn, selection.filter))
    if selection.since is not None:
        rows = [r for r in rows if r["received_at"] >= selection.since]
    if selection.failed_only:
        rows = [r for r in rows if failed(r)]
    if selection.order == "time":
        rows.sort(key=lambda r: (r["received_at"], r["id"]))
    return [r["id"] for r in rows]


@dataclass
class RunSummary:
    run_id: int
    total: int
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    state: str = "running"
    outcomes: list[ReplayOutcome] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "total": self.total, "sent": self.sent, "succeeded": self.succeeded,
                "failed": self.failed, "state": self.state}


async def run_bulk(writer: StoreWriter, replayer: Replayer, conn, ids: list[int], *, target: str,
                   build: Callable[[dict[str, Any]], ReplayRequest], mode: str, selection: Selection,
                   rate: float | None = None, policy: str = "github", cancel: asyncio.Event | None = None,
                   progress: Callable[[RunSummary, ReplayOutcome], None] | None = None,
                   send: Callable[[ReplayRequest, int], Awaitable[ReplayOutcome]] | None = None) -> RunSummary:
    """Send `ids` one by one at `rate`; `send(req, run_id)` replaces the plain push to `target`
    (a simulator stream's queue, for instance)."""
    now = time.time()
    run_id = await writer.run(lambda c: c.execute(
        "INSERT INTO replay_runs (started_at, target, mode, selection, total) VALUES (?,?,?,?,?) RETURNING id",
        (now, target, mode, json.dumps(selection.describe()), len(ids))).fetchone()[0])
    summary = RunSummary(run_id, len(ids))
    cancel = cancel or asyncio.Event()
    slots = asyncio.Semaphore(IN_FLIGHT)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = []

    async def one(capture_id: int) -> None:
        try:
            capture = get_capture(conn, capture_id)
            try:
                req = build(capture)
                if send is not None:
                    outcome = await send(req, run_id)
                else:
                    outcome = await replayer.send(req, target, policy=policy, run_id=run_id)
            except ReplayEditError as exc:  # this capture cannot go there: its outcome says why
                outcome = ReplayOutcome(capture_id, None, target, "failed", error=str(exc))
            summary.outcomes.append(outcome)
            summary.succeeded += outcome.ok
            summary.failed += not outcome.ok
            if progress:
                progress(summary, outcome)
        finally:
            slots.release()

    for index, capture_id in enumerate(ids):
        if rate:
            delay = started + index / rate - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(cancel.wait(), delay)
                except asyncio.TimeoutError:
                    pass
        if cancel.is_set():
            break
        await slots.acquire()
        summary.sent += 1
        tasks.append(loop.create_task(one(capture_id)))
    await asyncio.gather(*tasks)
    summary.state = "cancelled" if cancel.is_set() and summary.sent < summary.total else "finished"
    await writer.run(lambda c: c.execute(
        "UPDATE replay_runs SET finished_at = ?, succeeded = ?, failed = ?, state = ? WHERE id = ?",
        (time.time(), summary.succeeded, summary.failed, summary.state, run_id)))
    return summary


def list_runs(conn, limit: int = 100) -> list[dict[str, Any]]:
    names = ("id", "started_at", "finished_at", "target", "mode", "selection", "total", "succeeded", "failed", "state")
    rows = conn.execute(f"SELECT {', '.join(names)} FROM replay_runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(zip(names, r)), "selection": json.loads(r[5])} for r in rows]
