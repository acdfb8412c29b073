"""Captured requests: the record, its insert operation, and the read side.

A capture is everything about one request that reached the receiver (or was
polled or imported): the raw HTTP, our answer, the decoded SET if any and its
verification report. Reads page by id (keyset pagination) and filter through
indexes (verdict, issuer, kind, event type) and FTS5 (free text), so a workspace
with a million captures stays quick.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from app.core.verify import PASS, WARN


@dataclass
class CaptureRecord:
    received_at: float
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    body_size: int
    kind: str  # "set" | "webhook"
    verdict: str
    report: dict[str, Any]
    response_status: int
    response_body: bytes = b""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    query: str = ""
    body_truncated: bool = False
    peer: str | None = None
    content_type: str | None = None
    origin: str = "push"
    jti: str | None = None
    issuer: str | None = None
    event_types: list[str] = field(default_factory=list)
    subject: str | None = None
    set_header: dict | None = None
    set_claims: dict | None = None
    rule: str | None = None
    duration_ms: float | None = None


@dataclass
class StoredCapture:
    """What the receiver needs back from the insert: the id and the final answer."""

    id: int
    response_status: int
    response_body: bytes
    repeat_of: int | None


def _search_text(record: CaptureRecord) -> str:
    parts = [record.method, record.path, record.query]
    parts += [f"{k}: {v}" for k, v in record.headers]
    if record.set_claims is not None:
        parts.append(json.dumps(record.set_header, ensure_ascii=False))
        parts.append(json.dumps(record.set_claims, ensure_ascii=False))
    else:
        parts.append(record.body[:65536].decode("utf-8", "replace"))
    return "\n".join(parts)


def insert_capture(record: CaptureRecord):
    """An operation for StoreWriter.run(): dedupe on jti, insert, index."""

    def op(conn: sqlite3.Connection) -> StoredCapture:
        repeat_of = None
        status, body = record.response_status, record.response_body
        report = record.report
        if record.jti:
            row = conn.execute(
                "SELECT id, response_status, response_body, body = ? FROM captures"
                " WHERE jti = ? AND kind = 'set' AND issuer IS ? ORDER BY id LIMIT 1",
                (record.body, record.jti, record.issuer),
            ).fetchone()
            if row is not None:
                repeat_of = row[0]
                same = bool(row[3])
                if same and row[1] == 202:
                    status, body = 202, b""
                report = _mark_repeat(report, repeat_of, same)
        cur = conn.execute(
            "INSERT INTO captures (received_at, origin, method, path, query, headers, body, body_size,"
            " body_truncated, peer, content_type, kind, response_status, response_headers, response_body,"
            " jti, issuer, event_types, subject, verdict, report, set_header, set_claims, repeat_of, rule,"
            " duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.received_at, record.origin, record.method, record.path, record.query,
                json.dumps(record.headers), record.body, record.body_size, int(record.body_truncated),
                record.peer, record.content_type, record.kind, status,
                json.dumps(record.response_headers), body, record.jti, record.issuer,
                json.dumps(record.event_types), record.subject, record.verdict,
                json.dumps(report), _dump(record.set_header), _dump(record.set_claims),
                repeat_of, record.rule, record.duration_ms,
            ),
        )
        capture_id = cur.lastrowid
        if record.event_types:
            conn.executemany(
                "INSERT OR IGNORE INTO capture_event_types (event_type, capture_id) VALUES (?, ?)",
                [(t, capture_id) for t in record.event_types],
            )
        conn.execute("INSERT INTO captures_fts (rowid, text) VALUES (?, ?)", (capture_id, _search_text(record)))
        return StoredCapture(capture_id, status, body, repeat_of)

    return op


def _mark_repeat(report: dict[str, Any], repeat_of: int, same: bool) -> dict[str, Any]:
    report = dict(report)
    checks = []
    for check in report.get("checks", []):
        if check["name"] == "jti" and check["status"] == PASS:
            detail = (
                f"repeat of capture #{repeat_of} (same jti); answered as the first delivery was"
                if same else f"jti {check['detail']} was already used by capture #{repeat_of} with a different token"
            )
            check = {"name": "jti", "status": WARN, "detail": detail}
        checks.append(check)
    report["checks"] = checks
    return report


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


# -- read side -------------------------------------------------------------

COLUMNS = (
    "id, received_at, origin, method, path, query, headers, body, body_size, body_truncated, peer,"
    " content_type, kind, response_status, response_headers, response_body, jti, issuer, event_types,"
    " subject, verdict, report, set_header, set_claims, repeat_of, rule, duration_ms"
)


@dataclass
class CaptureFilter:
    text: str = ""
    verdict: str | None = None
    kind: str | None = None
    issuer: str | None = None
    event_type: str | None = None
    after_id: int | None = None  # keyset pagination: ids > after_id
    before_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.verdict:
            clauses.append("c.verdict = ?")
            params.append(self.verdict)
        if self.kind:
            clauses.append("c.kind = ?")
            params.append(self.kind)
        if self.issuer:
            clauses.append("c.issuer = ?")
            params.append(self.issuer)
        if self.event_type:
            clauses.append("c.id IN (SELECT capture_id FROM capture_event_types WHERE event_type = ?)")
            params.append(self.event_type)
        if self.text.strip():
            clauses.append("c.id IN (SELECT rowid FROM captures_fts WHERE captures_fts MATCH ?)")
            params.append(fts_query(self.text))
        if self.after_id is not None:
            clauses.append("c.id > ?")
            params.append(self.after_id)
        if self.before_id is not None:
            clauses.append("c.id < ?")
            params.append(self.before_id)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def fts_query(text: str) -> str:
    """Turn free text into an FTS5 query of quoted prefix terms (no FTS syntax leaks through)."""
    terms = [t for t in text.replace('"', " ").split() if t]
    return " ".join(f'"{t}"*' for t in terms)


def iter_captures(conn: sqlite3.Connection, flt: CaptureFilter | None = None, *, batch: int = 500) -> Iterator[dict]:
    """All matching captures in id order, paged so memory stays flat."""
    flt = flt or CaptureFilter()
    last = flt.after_id
    while True:
        page = CaptureFilter(**{**flt.__dict__, "after_id": last})
        where, params = page.where()
        rows = conn.execute(f"SELECT {COLUMNS} FROM captures c{where} ORDER BY c.id LIMIT ?", [*params, batch]).fetchall()
        for row in rows:
            yield row_to_dict(row)
        if len(rows) < batch:
            return
        last = rows[-1][0]


def count_captures(conn: sqlite3.Connection, flt: CaptureFilter | None = None) -> int:
    where, params = (flt or CaptureFilter()).where()
    return conn.execute(f"SELECT count(*) FROM captures c{where}", params).fetchone()[0]


def get_capture(conn: sqlite3.Connection, capture_id: int) -> dict | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM captures c WHERE id = ?", (capture_id,)).fetchone()
    return row_to_dict(row) if row else None


def row_to_dict(row: tuple) -> dict[str, Any]:
    names = [c.strip() for c in COLUMNS.split(",")]
    d = dict(zip(names, row))
    d["headers"] = [tuple(h) for h in json.loads(d["headers"])]
    d["response_headers"] = [tuple(h) for h in json.loads(d["response_headers"] or "[]")]
    d["event_types"] = json.loads(d["event_types"])
    d["report"] = json.loads(d["report"])
    d["set_header"] = json.loads(d["set_header"]) if d["set_header"] else None
    d["set_claims"] = json.loads(d["set_claims"]) if d["set_claims"] else None
    d["body_truncated"] = bool(d["body_truncated"])
    return d


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text_or_base64(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def headers_object(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one object (repeated names joined with ', ', as HTTP allows)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def export_event(capture: dict[str, Any]) -> dict[str, Any]:
    """The `export --kind events` line (DESIGN.md contract)."""
    body, body_encoding = _text_or_base64(capture["body"])
    response_body, response_encoding = _text_or_base64(capture["response_body"] or b"")
    claims = capture["set_claims"]
    report = capture["report"]
    return {
        "id": capture["id"],
        "received_at": rfc3339(capture["received_at"]),
        "origin": capture["origin"],
        "http": {
            "method": capture["method"],
            "path": capture["path"],
            "query": capture["query"],
            "headers": headers_object(capture["headers"]),
            "header_list": [list(h) for h in capture["headers"]],
            "body": body,
            "body_encoding": body_encoding,
            "body_size": capture["body_size"],
            "body_truncated": capture["body_truncated"],
            "peer": capture["peer"],
        },
        "response": {
            "status": capture["response_status"],
            "headers": headers_object(capture["response_headers"]),
            "body": response_body,
            "body_encoding": response_encoding,
        },
        "kind": capture["kind"],
        "set": None if claims is None and capture["set_header"] is None
        else {"header": capture["set_header"], "claims": claims},
        "event_types": capture["event_types"],
        "jti": capture["jti"],
        "issuer": capture["issuer"],
        "subject": capture["subject"],
        "repeat_of": capture["repeat_of"],
        "rule": capture["rule"],
        "verification": {
            "verdict": report.get("verdict", capture["verdict"]),
            "checks": report.get("checks", []),
            "err": report.get("err"),
            "description": report.get("description"),
        },
    }
