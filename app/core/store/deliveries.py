"""Deliveries and their attempts: what the simulator (and replay) sent, and how each try went.

A delivery is one SET (or replayed request) for one endpoint; each attempt is one
HTTP exchange (push) or one hand-out in a poll response. States: `pending` (an
attempt is due, or the stream is paused and holds it, or a poll receiver has not
acknowledged it), `delivered`, `failed` (refused, given up, or dropped) and
`retired` (the endpoint answered 410). `export_lines` is the `export --kind
deliveries` contract of DESIGN.md.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterator

from app.core.store.captures import rfc3339

PENDING, DELIVERED, FAILED, RETIRED = "pending", "delivered", "failed", "retired"
BODY_EXCERPT = 2048


@dataclass
class NewDelivery:
    stream_id: str | None
    jti: str
    event_type: str | None
    body: bytes
    mode: str  # push | poll
    endpoint: str | None
    created_at: float
    policy: str
    faults: list[str] = field(default_factory=list)
    held: bool = False
    source: str = "simulator"
    http_method: str = "POST"
    request_headers: list[tuple[str, str]] | None = None
    capture_id: int | None = None
    run_id: int | None = None


INSERT_COLUMNS = ("stream_id, jti, event_type, body, mode, http_method, request_headers, endpoint, state, held,"
                  " created_at, next_attempt_at, policy, faults, source, capture_id, run_id")
INSERT_ROWS = 50  # rows per INSERT statement: 50 x 17 parameters stays under SQLite's oldest limit (999)


def _insert_sql(rows: int) -> str:
    values = ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"] * rows)
    return f"INSERT INTO deliveries ({INSERT_COLUMNS}) VALUES {values} RETURNING id"


def insert_deliveries(items: list[NewDelivery]):
    """Operation: insert deliveries (due now unless held); returns their ids in order.

    One multi-row INSERT per INSERT_ROWS deliveries (a third less CPU per delivery than one
    statement each, benchmarks/deliver.py). RETURNING lists rows in no promised order, but the
    rowids of one statement's rows grow in VALUES order, so the sorted ids are the items' ids."""
    def op(conn: sqlite3.Connection) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(items), INSERT_ROWS):
            chunk = items[start:start + INSERT_ROWS]
            params = []
            for d in chunk:
                params += (d.stream_id, d.jti, d.event_type, d.body, d.mode, d.http_method,
                           json.dumps(d.request_headers) if d.request_headers is not None else None, d.endpoint,
                           PENDING, int(d.held), d.created_at,
                           None if d.held or d.mode == "poll" else d.created_at, d.policy,
                           json.dumps(d.faults) if d.faults else "[]", d.source, d.capture_id, d.run_id)
            ids += sorted(row[0] for row in conn.execute(_insert_sql(len(chunk)), params))
        return ids

    return op


@dataclass
class AttemptRecord:
    delivery_id: int
    n: int
    started_at: float
    ended_at: float | None
    status: int | None
    error: str | None
    latency_ms: float | None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    retry_after: float | None = None
    next_retry_at: float | None = None
    outcome: str = ""
    reason: str = ""


ATTEMPT_INSERT = ("INSERT OR REPLACE INTO attempts (delivery_id, n, started_at, ended_at, status, error, latency_ms,"
                  " response_headers, response_body, retry_after, next_retry_at, outcome, reason)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
DELIVERY_UPDATE = ("UPDATE deliveries SET state = ?, next_attempt_at = ?, err = coalesce(?, err),"
                   " reason = coalesce(?, reason) WHERE id = ?")


_HEADERS_JSON: dict[tuple, str] = {}


def _headers_json(headers) -> str:
    """The stored JSON of an answer's headers. An endpoint answers with the same headers again
    and again (its Date changes once a second), so recent encodings are kept: a lookup costs
    ~0.1 us where json.dumps costs ~5."""
    key = tuple(headers)
    try:
        text = _HEADERS_JSON.get(key)
    except TypeError:  # pairs given as lists: not a key
        return json.dumps(headers)
    if text is None:
        if len(_HEADERS_JSON) >= 256:
            _HEADERS_JSON.clear()
        text = _HEADERS_JSON[key] = json.dumps(key)
    return text


class AttemptBatch:
    """Attempts stored together: one INSERT and one UPDATE statement for the whole batch
    (`executemany`) instead of two statements per attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple] = []
        self.updates: list[tuple] = []

    def __len__(self) -> int:
        return len(self.attempts)

    def add(self, attempt: AttemptRecord, *, state: str, err: str | None = None, reason: str | None = None) -> None:
        """Store `attempt` and move its delivery to `state` (with the next due time)."""
        self.attempts.append((
            attempt.delivery_id, attempt.n, attempt.started_at, attempt.ended_at, attempt.status, attempt.error,
            attempt.latency_ms, _headers_json(attempt.response_headers), attempt.response_body, attempt.retry_after,
            attempt.next_retry_at, attempt.outcome, attempt.reason))
        self.updates.append((state, attempt.next_retry_at if state == PENDING else None, err, reason,
                             attempt.delivery_id))

    def write(self, conn: sqlite3.Connection) -> None:
        conn.executemany(ATTEMPT_INSERT, self.attempts)
        conn.executemany(DELIVERY_UPDATE, self.updates)


def record_attempt(attempt: AttemptRecord, *, state: str, err: str | None = None, reason: str | None = None):
    """Operation: store one attempt and move its delivery to `state` (with the next due time)."""
    batch = AttemptBatch()
    batch.add(attempt, state=state, err=err, reason=reason)
    return batch.write


def set_state(ids: list[int], state: str, reason: str, *, err: str | None = None):
    def op(conn: sqlite3.Connection) -> None:
        conn.executemany("UPDATE deliveries SET state = ?, next_attempt_at = NULL, held = 0, reason = ?,"
                         " err = coalesce(?, err) WHERE id = ?", [(state, reason, err, i) for i in ids])
    return op


PENDING_PUSH_COLUMNS = ("d.id, d.stream_id, d.jti, d.body, d.endpoint, d.created_at, d.next_attempt_at, d.policy,"
                        " d.http_method, d.request_headers, d.held,"
                        " (SELECT coalesce(max(n), 0) FROM attempts a WHERE a.delivery_id = d.id)")


def pending_push(conn: sqlite3.Connection, *, stream_id: str | None = None, held: bool | None = None) -> list[tuple]:
    """Pending push deliveries (oldest first), for rescheduling after a restart or on resume."""
    sql = f"SELECT {PENDING_PUSH_COLUMNS} FROM deliveries d WHERE d.state = 'pending' AND d.mode = 'push'"
    params: list[Any] = []
    if stream_id is not None:
        sql += " AND d.stream_id = ?"
        params.append(stream_id)
    if held is not None:
        sql += " AND d.held = ?"
        params.append(int(held))
    return conn.execute(sql + " ORDER BY d.id", params).fetchall()


def attempts_of(conn: sqlite3.Connection, delivery_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT n, started_at, ended_at, status, error, latency_ms, response_headers, response_body, retry_after,"
        " next_retry_at, outcome, reason FROM attempts WHERE delivery_id = ? ORDER BY n", (delivery_id,)).fetchall()
    names = ("n", "started_at", "ended_at", "status", "error", "latency_ms", "response_headers", "response_body",
             "retry_after", "next_retry_at", "outcome", "reason")
    out = []
    for row in rows:
        a = dict(zip(names, row))
        a["response_headers"] = [tuple(h) for h in json.loads(a["response_headers"] or "[]")]
        out.append(a)
    return out


DELIVERY_COLUMNS = ("id, stream_id, jti, event_type, mode, endpoint, state, held, created_at, next_attempt_at,"
                    " policy, faults, err, reason, source, capture_id, run_id")


def get_delivery(conn: sqlite3.Connection, delivery_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return _delivery_dict(conn, row) if row else None


def _delivery_dict(conn: sqlite3.Connection, row: tuple) -> dict[str, Any]:
    d = dict(zip([c.strip() for c in DELIVERY_COLUMNS.split(",")], row))
    d["faults"] = json.loads(d["faults"])
    d["held"] = bool(d["held"])
    d["attempts"] = attempts_of(conn, d["id"])
    return d


def list_deliveries(conn: sqlite3.Connection, *, stream_id: str | None = None, after_id: int | None = None,
                    limit: int = 500) -> list[dict[str, Any]]:
    clauses, params = [], []
    if stream_id is not None:
        clauses.append("stream_id = ?")
        params.append(stream_id)
    if after_id is not None:
        clauses.append("id > ?")
        params.append(after_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries{where} ORDER BY id LIMIT ?", [*params, limit])
    return [_delivery_dict(conn, row) for row in rows.fetchall()]


def export_line(d: dict[str, Any]) -> dict[str, Any]:
    """One `export --kind deliveries` line."""
    def when(ts):
        return rfc3339(ts) if ts is not None else None

    return {
        "id": d["id"], "stream_id": d["stream_id"], "jti": d["jti"], "event_type": d["event_type"],
        "mode": d["mode"], "endpoint": d["endpoint"], "state": d["state"], "held": d["held"],
        "created_at": when(d["created_at"]), "next_attempt_at": when(d["next_attempt_at"]),
        "policy": d["policy"], "faults": d["faults"], "err": d["err"], "reason": d["reason"], "source": d["source"],
        "capture_id": d["capture_id"], "run_id": d["run_id"],
        "attempts": [
            {"n": a["n"], "started_at": when(a["started_at"]), "ended_at": when(a["ended_at"]), "status": a["status"],
             "error": a["error"], "latency_ms": a["latency_ms"], "next_retry_at": when(a["next_retry_at"]),
             "retry_after": a["retry_after"], "outcome": a["outcome"], "reason": a["reason"],
             "response_body": a["response_body"]}
            for a in d["attempts"]
        ],
    }


def export_lines(conn: sqlite3.Connection, *, stream_id: str | None = None) -> Iterator[dict[str, Any]]:
    last = None
    while True:
        page = list_deliveries(conn, stream_id=stream_id, after_id=last)
        for d in page:
            yield export_line(d)
        if len(page) < 500:
            return
        last = page[-1]["id"]
