"""Every HTTP exchange with a transmitter: performed, redacted, recorded, announced.

`ExchangeLog.perform` sends one request through the shared httpx client (redirects
are never followed: a 3xx is reported as such; the answer is refused past
`MAX_RESPONSE` bytes, and the whole exchange is given up `deadline_slack` seconds after
its timeout) and returns an `Exchange` holding the
live response. The caller interprets the answer, adds notes ("spec variant: ..."),
then `record`s it: the redacted exchange goes into the workspace (when there is one),
into a small in-memory list (for the CLI and the window), and onto the bus as
`ExchangeRecorded`. Secrets never reach a record: the Authorization header keeps only
its scheme, and members such as `client_secret`, `access_token` and
`authorization_header` are replaced in JSON and form bodies alike.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from app.core.http_limits import send_limited
from app.core.redaction import REDACTED, redact_url

MAX_RESPONSE = 16 * 1024 * 1024  # a management answer, token answer or poll response larger than this is refused
DEADLINE_SLACK = 30.0  # seconds a whole exchange may last beyond its (per-read) timeout
BODY_EXCERPT = 64 * 1024
SECRET_MEMBERS = frozenset({"client_secret", "access_token", "refresh_token", "id_token", "password",
                            "authorization_header", "client_assertion"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# the password of a URL's userinfo (scheme://user:password@host): a push endpoint_url, a token endpoint


@dataclass(frozen=True)
class ExchangeRecorded:
    """Bus event: one exchange with a transmitter finished (its redacted record is stored)."""

    exchange_id: int | None
    issuer: str | None
    operation: str
    method: str
    url: str
    status: int | None
    duration_ms: float
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Exchange:
    issuer: str | None
    operation: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str | None
    started_at: float
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    id: int | None = None
    response: httpx.Response | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("response")
        out["request_headers"] = [list(h) for h in self.request_headers]
        out["response_headers"] = [list(h) for h in self.response_headers]
        return out


# -- redaction -------------------------------------------------------------------------------

def redact_headers(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, value in (headers.multi_items() if hasattr(headers, "multi_items") else headers):
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if name.lower().endswith("authorization") and " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        out.append((name, value))
    return out


def redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_MEMBERS and v is not None else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def redact_body(body: bytes | str | None, content_type: str = "") -> str | None:
    """A body as text for the record, secrets replaced, cut to BODY_EXCERPT characters."""
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        text = urlencode([(k, REDACTED if k in SECRET_MEMBERS else v) for k, v in pairs])
    else:
        try:
            text = json.dumps(redact_json(json.loads(text)))
        except ValueError:
            # not JSON: form-encoded under another media type (some token endpoints), or kept as it came
            pairs = parse_qsl(text.strip(), keep_blank_values=True)
            if any(k in SECRET_MEMBERS for k, _ in pairs):
                text = urlencode([(k, REDACTED if k in SECRET_MEMBERS else v) for k, v in pairs])
            text = redact_url(text)
    if len(text) > BODY_EXCERPT:
        text = text[:BODY_EXCERPT] + f"... [{len(text) - BODY_EXCERPT} more characters]"
    return text


# -- the log ---------------------------------------------------------------------------------

class ExchangeLog:
    """Performs and records exchanges. `writer` (a StoreWriter) is optional: without a
    workspace the exchanges are only kept in memory (`recent`) and published."""

    def __init__(self, http: httpx.AsyncClient, *, writer=None, bus=None, keep: int = 500, clock=time.time,
                 max_response: int = MAX_RESPONSE, deadline_slack: float = DEADLINE_SLACK):
        self.http = http
        self.max_response = max_response
        self.deadline_slack = deadline_slack
        self._writer = writer
        self._bus = bus
        self._keep = keep
        self._clock = clock
        self.recent: list[Exchange] = []

    async def perform(self, method: str, url: str, *, operation: str, issuer: str | None,
                      headers: dict[str, str] | None = None, json_body: Any = None, form: dict[str, str] | None = None,
                      params: dict[str, str] | None = None, timeout: float | None = None) -> Exchange:
        request = self.http.build_request(method, url, headers=headers, json=json_body, data=form, params=params,
                                          timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        exchange = Exchange(issuer=issuer, operation=operation, method=method, url=redact_url(str(request.url)),
                            request_headers=redact_headers(request.headers),
                            request_body=redact_body(request.content, request.headers.get("content-type", "")),
                            started_at=self._clock())
        started = time.perf_counter()
        try:
            per_read = timeout if timeout is not None else (self.http.timeout.read or 0.0)
            response = await send_limited(self.http, request, max_bytes=self.max_response,
                                          deadline=per_read + self.deadline_slack)
        except httpx.HTTPError as exc:
            exchange.error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
            exchange.duration_ms = (time.perf_counter() - started) * 1000
            return exchange
        exchange.duration_ms = (time.perf_counter() - started) * 1000
        exchange.response = response
        exchange.status = response.status_code
        exchange.response_headers = redact_headers(response.headers)
        exchange.response_body = redact_body(response.content, response.headers.get("content-type", ""))
        if response.is_redirect:
            exchange.error = f"redirect to {response.headers.get('location')!r} not followed"
        return exchange

    async def record(self, exchange: Exchange) -> Exchange:
        if self._writer is not None:
            exchange.id = await self._writer.run(insert_exchange(exchange))
        self.recent.append(exchange)
        del self.recent[:-self._keep]
        if self._bus is not None:
            self._bus.publish(ExchangeRecorded(exchange.id, exchange.issuer, exchange.operation, exchange.method,
                                               exchange.url, exchange.status, exchange.duration_ms,
                                               tuple(exchange.notes), exchange.error))
        return exchange


# -- storage -----------------------------------------------------------------------------------

_COLUMNS = ("id, issuer, operation, method, url, request_headers, request_body, status, response_headers,"
            " response_body, error, notes, started_at, duration_ms")


def insert_exchange(ex: Exchange):
    params = (ex.issuer, ex.operation, ex.method, ex.url, json.dumps(ex.request_headers), ex.request_body,
              ex.status, json.dumps(ex.response_headers), ex.response_body, ex.error, json.dumps(ex.notes),
              ex.started_at, ex.duration_ms)

    def op(conn: sqlite3.Connection) -> int:
        return conn.execute(
            "INSERT INTO transmitter_exchanges (issuer, operation, method, url, request_headers, request_body,"
            " status, response_headers, response_body, error, notes, started_at, duration_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id", params).fetchone()[0]

    return op


def list_exchanges(conn: sqlite3.Connection, *, issuer: str | None = None, after_id: int | None = None,
                   limit: int = 500) -> list[Exchange]:
    """Recorded exchanges in id order (keyset paging with `after_id`)."""
    clauses, params = [], []
    if issuer is not None:
        clauses.append("issuer = ?")
        params.append(issuer)
    if after_id is not None:
        clauses.append("id > ?")
        params.append(after_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM transmitter_exchanges{where} ORDER BY id LIMIT ?",
                        [*params, limit]).fetchall()
    out = []
    for (id_, issuer_, operation, method, url, req_h, req_b, status, resp_h, resp_b, error, notes,
         started, duration) in rows:
        out.append(Exchange(issuer=issuer_, operation=operation, method=method, url=url,
                            request_headers=[tuple(h) for h in json.loads(req_h)], request_body=req_b,
                            started_at=started, status=status,
                            response_headers=[tuple(h) for h in json.loads(resp_h or "[]")], response_body=resp_b,
                            error=error, notes=json.loads(notes), duration_ms=duration or 0.0, id=id_))
    return out


def exchange_id_before_last(conn: sqlite3.Connection, count: int) -> int | None:
    """The `after_id` that pages in only the last `count` exchanges (None: there are no more than that),
    so a front end opening a long record reads its tail, not all of it."""
    row = conn.execute("SELECT id FROM transmitter_exchanges ORDER BY id DESC LIMIT 1 OFFSET ?", (count,)).fetchone()
    return row[0] if row else None
