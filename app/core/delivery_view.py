"""Pages of delivery summaries for the window's deliveries list.

`store.deliveries.list_deliveries` loads every attempt of every delivery; a list
of thousands needs one row each: the delivery plus its attempt count and its
last attempt's status or error, one query per page. Filters (stream, event type,
state) run in SQLite; pages go by id, newest last, so a Qt model can page older
rows in on demand (`before_id`) and append new ones (`after_id`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryFilter:
    stream_id: str | None = None
    event_type: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class DeliverySummary:
    id: int
    created_at: float
    stream_id: str | None
    event_type: str | None
    mode: str
    source: str
    endpoint: str | None
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: float | None
    policy: str
    jti: str


_SELECT = (
    "SELECT d.id, d.created_at, d.stream_id, d.event_type, d.mode, d.source, d.endpoint, d.state,"
    " (SELECT count(*) FROM attempts a WHERE a.delivery_id = d.id),"
    " (SELECT a.status FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.n DESC LIMIT 1),"
    " (SELECT a.error FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.n DESC LIMIT 1),"
    " d.next_attempt_at, d.policy, d.jti FROM deliveries d"
)


def _where(flt: DeliveryFilter, extra: list[str], params: list) -> str:
    clauses = list(extra)
    for column, value in (("stream_id", flt.stream_id), ("event_type", flt.event_type), ("state", flt.state)):
        if value:
            clauses.append(f"d.{column} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def delivery_page(conn: sqlite3.Connection, flt: DeliveryFilter = DeliveryFilter(), *, before_id: int | None = None,
                  after_id: int | None = None, limit: int = 500) -> list[DeliverySummary]:
    """Up to `limit` summaries in id order: the newest ones (before `before_id` if given),
    or, with `after_id`, the oldest ones after it (what arrived since)."""
    params: list = []
    extra = []
    if before_id is not None:
        extra.append("d.id < ?")
        params.append(before_id)
    if after_id is not None:
        extra.append("d.id > ?")
        params.append(after_id)
    where = _where(flt, extra, params)
    order = "ASC" if after_id is not None else "DESC"
    rows = conn.execute(f"{_SELECT}{where} ORDER BY d.id {order} LIMIT ?", [*params, limit]).fetchall()
    summaries = [DeliverySummary(*row) for row in rows]
    return summaries if order == "ASC" else summaries[::-1]


def delivery_summaries(conn: sqlite3.Connection, ids: list[int]) -> dict[int, DeliverySummary]:
    """Fresh summaries of the given deliveries (to update rows that changed)."""
    out: dict[int, DeliverySummary] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = conn.execute(f"{_SELECT} WHERE d.id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        out.update((row[0], DeliverySummary(*row)) for row in rows)
    return out


def delivery_choices(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """The streams and event types that have deliveries (for the filter boxes)."""
    streams = [r[0] for r in conn.execute("SELECT DISTINCT stream_id FROM deliveries WHERE stream_id IS NOT NULL"
                                          " ORDER BY stream_id")]
    types = [r[0] for r in conn.execute("SELECT DISTINCT event_type FROM deliveries WHERE event_type IS NOT NULL"
                                        " ORDER BY event_type")]
    return streams, types
