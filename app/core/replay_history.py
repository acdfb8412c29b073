"""What was replayed: bulk runs and single replays, newest first, with their deliveries.

The Replays view of the window reads this (through its read-only connection): one
list mixing runs (`replay_runs`) and single replays (deliveries with source
`replay` and no run), and, for a run, the deliveries of its items.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from app.core.replay_runs import list_runs
from app.core.store.deliveries import get_delivery


def single_replays(conn: sqlite3.Connection, limit: int = 200) -> list[dict[str, Any]]:
    ids = conn.execute("SELECT id FROM deliveries WHERE source = 'replay' AND run_id IS NULL ORDER BY id DESC LIMIT ?",
                       (limit,)).fetchall()
    return [get_delivery(conn, i) for (i,) in ids]


def run_items(conn: sqlite3.Connection, run_id: int) -> list[dict[str, Any]]:
    ids = conn.execute("SELECT id FROM deliveries WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
    return [get_delivery(conn, i) for (i,) in ids]


def last_attempt(delivery: dict[str, Any]) -> dict[str, Any] | None:
    return delivery["attempts"][-1] if delivery["attempts"] else None


def replay_entries(conn: sqlite3.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Runs and single replays, newest first: {kind: run|replay, id, started_at, target, what, state, result}."""
    entries = []
    for run in list_runs(conn, limit):
        entries.append({"kind": "run", "id": run["id"], "started_at": run["started_at"], "target": run["target"],
                        "what": f"run #{run['id']}: {run['total']} captures ({run['mode']})", "state": run["state"],
                        "result": f"{run['succeeded']} delivered, {run['failed']} failed"})
    for d in single_replays(conn, limit):
        last = last_attempt(d)
        if last is None:
            result = ""
        elif last["status"] is not None:
            result = f"HTTP {last['status']}"
        else:
            result = last["error"] or ""
        target = d["endpoint"] if d["stream_id"] is None else f"stream {d['stream_id']}"
        entries.append({"kind": "replay", "id": d["id"], "started_at": d["created_at"], "target": target or "",
                        "what": f"capture #{d['capture_id']}" if d["capture_id"] is not None else d["jti"],
                        "state": d["state"], "result": result})
    entries.sort(key=lambda e: (e["started_at"] or 0, e["kind"] == "run", e["id"]), reverse=True)
    return entries[:limit]
