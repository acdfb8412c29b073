"""Reading captures from files: our JSON lines, HAR 1.2, raw `.jwt` files, a pasted SET.

`parse_import` detects the format by content (never by file name) and returns
every request it could read as an `ImportedRequest`, plus one `ImportFailure`
per line or entry it could not read, naming where ("line 3", "entries[2]") and
what is wrong. A bad entry never stops the others. Only a file that cannot be
read at all (empty, not text, a HAR that is not JSON) raises `ImportFormatError`.
Nothing here verifies or stores: `importing.py` does that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from app.core.har import parse_har
from app.core.import_types import (ImportedRequest, ImportFailure, ImportFormatError, body_bytes, count, epoch,
                                   header_pairs)
from app.core.jose import decode_compact

__all__ = ["ParsedImport", "parse_import", "ImportedRequest", "ImportFailure", "ImportFormatError"]


@dataclass
class ParsedImport:
    format: str  # "jsonl" | "har" | "jwt"
    requests: list[ImportedRequest] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)


def parse_import(data: bytes | str) -> ParsedImport:
    """Detect the format and read every entry (see the module docstring)."""
    text = data if isinstance(data, str) else _text(data)
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise ImportFormatError("it is empty")
    fmt = detect_format(stripped)
    if fmt == "har":
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"it looks like a HAR file but is not valid JSON ({exc})") from None
        requests, failures = parse_har(document)
        return ParsedImport("har", requests, failures)
    parse_line = _jsonl_line if fmt == "jsonl" else _token_line
    parsed = ParsedImport(fmt)
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lstrip("\ufeff")
        if not line or (fmt == "jwt" and line.startswith("#")):
            continue
        where = f"line {number}"
        try:
            parsed.requests.append(parse_line(line, where))
        except ValueError as exc:
            parsed.failures.append(ImportFailure(where, str(exc)))
    return parsed


def detect_format(text: str) -> str:
    """'jsonl' when the first line is a JSON object of its own, 'har' for any other
    JSON document, 'jwt' for text that is not JSON (tokens, one per line)."""
    if text[0] not in "{[":
        return "jwt"
    first = text.split("\n", 1)[0].strip()
    try:
        value = json.loads(first)
    except json.JSONDecodeError:
        return "har"  # a pretty-printed document (or a broken one: parse_import says so)
    return "jsonl" if isinstance(value, dict) and "log" not in value else "har"


def _text(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ImportFormatError("it is binary, not text (expected JSON lines, HAR or compact JWTs)")
    return data.decode("utf-8", errors="replace")  # a bad byte spoils only its own line


# -- our JSON lines (`signalscope export --kind events`) ---------------------------

def _jsonl_line(line: str, where: str) -> ImportedRequest:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(event, dict):
        raise ValueError("not a JSON object (expected one exported event per line)")
    http = event.get("http")
    if not isinstance(http, dict):
        raise ValueError("'http' is missing (expected a line of `signalscope export --kind events`)")
    method, path = http.get("method"), http.get("path")
    if not isinstance(method, str) or not method:
        raise ValueError("http.method is missing")
    if not isinstance(path, str):
        raise ValueError("http.path is missing")
    if isinstance(http.get("header_list"), list):
        headers = header_pairs(http["header_list"], "http.header_list")
    else:
        headers = header_pairs(http.get("headers") or {}, "http.headers")
    body = body_bytes(http.get("body"), http.get("body_encoding"), "http.body")
    response = event.get("response") if isinstance(event.get("response"), dict) else {}
    status = count(response.get("status"))
    if isinstance(response.get("header_list"), list):  # repeated names kept apart, as sent
        response_headers = header_pairs(response["header_list"], "response.header_list")
    else:
        response_headers = header_pairs(response.get("headers") or {}, "response.headers")
    return ImportedRequest(
        entry=where,
        method=method,
        path=path,
        query=http.get("query") if isinstance(http.get("query"), str) else "",
        headers=headers,
        body=body,
        body_size=count(http.get("body_size")) or len(body),
        body_truncated=bool(http.get("body_truncated")),
        peer=http.get("peer") if isinstance(http.get("peer"), str) else None,
        received_at=_timestamp(event.get("received_at"), "received_at"),
        response_status=status or None,
        response_headers=response_headers,
        response_body=body_bytes(response.get("body"), response.get("body_encoding"), "response.body"),
        rule=event["rule"] if isinstance(event.get("rule"), str) else None,
        target=http["target"] if isinstance(http.get("target"), str) and http["target"] else None,
    )



def _timestamp(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    seconds = epoch(value)
    if seconds is None:
        raise ValueError(f"{what} {value!r} is not an RFC 3339 time")
    return seconds


# -- compact tokens, one per line (.jwt files, a pasted SET) ------------------------

def _token_line(line: str, where: str) -> ImportedRequest:
    token = decode_compact(line)
    if token.kind not in ("jws", "jwe") or token.header is None:
        raise ValueError(f"not a compact JWT: {token.error}")
    body = line.encode("ascii", errors="replace")
    return ImportedRequest(entry=where, method="POST", path="", body=body, body_size=len(body), bare_token=True)
