"""Captured requests: the record, its insert operation, and the read side.

A capture is everything about one request that reached the receiver (or was
polled or imported): the raw HTTP, our answer, the decoded SET if any and its
verification report. Reads page by id (keyset pagination) and filter through
indexes (verdict, issuer, kind, event type) and FTS5 (free text), so a workspace
with a million captures stays quick.
"""

from __future__ import annotations

import base64
import re
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from app.core.request_target import request_target
from app.core.verify import PASS, WARN, expand_checks


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
    delivery_key: str | None = None  # what a sender keeps across retries: jti, webhook-id, X-GitHub-Delivery...
    issuer: str | None = None
    event_types: list[str] = field(default_factory=list)
    subject: str | None = None
    set_header: dict | None = None
    set_claims: dict | None = None
    # The JSON texts exactly as the token carried them (saves re-serialising, keeps fidelity).
    set_header_text: str | None = None
    set_claims_text: str | None = None
    rule: str | None = None
    duration_ms: float | None = None
    # Imports (origin 'import'): the file it came from and where in it ("line 3", "entries[2]").
    source: str | None = None
    source_entry: str | None = None
    # The request target exactly as on the request line (aiohttp's raw_path: path and ?query,
    # still percent-encoded); path and query above are decoded. None: not known.
    target: str | None = None


@dataclass
class StoredCapture:
    """What the receiver needs back from the insert: the id and the final answer."""

    id: int
    response_status: int
    response_body: bytes
    repeat_of: int | None


_INSERT = (
    "INSERT INTO captures (received_at, origin, method, path, query, headers, body, body_size,"
    " body_truncated, peer, content_type, kind, response_status, response_headers, response_body,"
    " jti, issuer, event_types, subject, verdict, report, set_header, set_claims, rule, duration_ms,"
    " delivery_key, source, source_entry, target, repeat_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
    " (SELECT id FROM captures WHERE jti = ? AND kind = 'set' AND issuer IS ? ORDER BY id LIMIT 1))"
    " RETURNING id, repeat_of"
)


def insert_capture(record: CaptureRecord):
    """An operation for StoreWriter.run(): insert (indexes follow by trigger) and dedupe on jti.

    Everything Python-heavy (JSON encoding) happens here, in the caller's thread; the
    returned op only binds and steps, so the writer thread holds the GIL briefly."""
    params = (
        record.received_at, record.origin, record.method, record.path, record.query,
        _encode(record.headers), record.body, record.body_size, int(record.body_truncated),
        record.peer, record.content_type, record.kind, record.response_status,
        _encode(record.response_headers) if record.response_headers else "[]", record.response_body,
        record.jti, record.issuer,
        _encode(record.event_types), record.subject, record.verdict, report_json(record.report),
        record.set_header_text or _dump(record.set_header), record.set_claims_text or _dump(record.set_claims),
        record.rule, record.duration_ms, record.delivery_key or record.jti, record.source, record.source_entry,
        record.target, record.jti, record.issuer,
    )

    def op(conn: sqlite3.Connection) -> StoredCapture:
        capture_id, repeat_of = conn.execute(_INSERT, params).fetchone()
        status, body = record.response_status, record.response_body
        if repeat_of is not None:
            first_status, same = conn.execute(
                "SELECT response_status, body = ? FROM captures WHERE id = ?", (record.body, repeat_of)
            ).fetchone()
            report = _encode(_mark_repeat(record.report, repeat_of, bool(same)))
            if record.origin != "push":  # an import keeps the answer its file recorded
                conn.execute("UPDATE captures SET report = ? WHERE id = ?", (report, capture_id))
                return StoredCapture(capture_id, status, body, repeat_of)
            if same and first_status == 202 and record.rule is None:
                status, body = 202, b""  # RFC 8935: a repeat is answered as the first delivery was
            conn.execute(
                "UPDATE captures SET response_status = ?, response_body = ?, response_headers = ?, report = ? WHERE id = ?",
                (status, body, json.dumps([] if status == 202 else record.response_headers),
                 report, capture_id),
            )
        return StoredCapture(capture_id, status, body, repeat_of)

    return op


# json.dumps without its per-call keyword handling; same text (the data is never cyclic).
_encode = json.JSONEncoder(check_circular=False).encode

_REPORT_KEYS = ("verdict", "checks", "err", "description")
_CHECK_TEXT: dict[tuple, str] = {}  # a check -> its JSON; most checks repeat word for word
_CHECK_TEXT_MAX = 4096


def report_json(report: dict[str, Any]) -> str:
    """`json.dumps(report)`, the same text, at a fraction of the cost per capture.

    Most checks of a busy receiver say the same thing request after request ("compact
    JWS ...", "ES256", "kid k1"), so each distinct check's JSON is kept in a small
    bounded table and a report is a join of those. Anything not in the storage shape
    (checks as triples, the four keys in order) goes through json.dumps."""
    checks = report.get("checks")
    if tuple(report) != _REPORT_KEYS or not isinstance(checks, list):
        return json.dumps(report)
    parts = []
    for check in checks:
        if not isinstance(check, tuple):  # {name, status, detail} objects (a repeat's report)
            parts.append(json.dumps(check))
            continue
        try:
            text = _CHECK_TEXT.get(check)
        except TypeError:  # not hashable: not a check verify.py made
            return json.dumps(report)
        if text is None:
            if len(check) == 3 and type(check[0]) is str and type(check[1]) is str and type(check[2]) is str:
                text = f"[{_string(check[0])}, {_string(check[1])}, {_string(check[2])}]"
            else:
                text = json.dumps(check)
            if len(_CHECK_TEXT) >= _CHECK_TEXT_MAX:
                _CHECK_TEXT.clear()
            _CHECK_TEXT[check] = text
        parts.append(text)
    verdict, err, description = report["verdict"], report["err"], report["description"]
    return (
        f'{{"verdict": {_json_value(verdict)}, "checks": [{", ".join(parts)}], '
        f'"err": {_json_value(err)}, "description": {_json_value(description)}}}'
    )


# json.dumps' own string encoder (C); json.dumps(s) == _string(s) for any str s.
_string = json.encoder.encode_basestring_ascii


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    return _string(value) if type(value) is str else json.dumps(value)


def _mark_repeat(report: dict[str, Any], repeat_of: int, same: bool) -> dict[str, Any]:
    report = dict(report)
    checks = []
    for check in expand_checks(report.get("checks", [])):
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
    " subject, verdict, report, set_header, set_claims, repeat_of, rule, duration_ms, delivery_key,"
    " source, source_entry, target"
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
    """Free text -> an FTS5 query: every word (as the unicode61 tokenizer cuts them) must
    appear, each as a prefix. Quoting each term keeps FTS syntax from leaking through;
    the index keeps no positions (detail=none, a smaller and faster index), so
    'jane.doe' means 'jane* AND doe*' rather than a phrase."""
    terms = re.findall(r"\w+", text)
    return " ".join(f'"{t}"*' for t in terms) or '""'



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
    d["report"]["checks"] = expand_checks(d["report"].get("checks", []))
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
    line = {
        "id": capture["id"],
        "received_at": rfc3339(capture["received_at"]),
        "origin": capture["origin"],
        "http": {
            "method": capture["method"],
            "path": capture["path"],
            "query": capture["query"],
            "target": request_target(capture),  # as it arrived (rebuilt for captures stored before targets)
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
            "header_list": [list(h) for h in capture["response_headers"]],
            "body": response_body,
            "body_encoding": response_encoding,
        },
        "kind": capture["kind"],
        "set": None if claims is None and capture["set_header"] is None
        else {"header": capture["set_header"], "claims": claims},
        "event_types": capture["event_types"],
        "jti": capture["jti"],
        "delivery_key": capture["delivery_key"],
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
    if capture.get("source") is not None:  # imports only: push captures keep the line as it always was
        line["source"] = {"file": capture["source"], "entry": capture.get("source_entry")}
    return line
