"""HAR 1.2 (HTTP Archive) out and in, so browser devtools, HTTP Toolkit and
mitmproxy can open our captures and we can open theirs.

Each capture is one entry: the request as it arrived (ordered headers, query,
body; base64 with `encoding` when it is not UTF-8; the URL carries the request
target exactly as it arrived), our answer, and everything a
HAR has no field for (verdict, checks, decoded SET, exact path and query, peer,
time to the microsecond) under `_signalscope`, which HAR allows for custom
fields. Reading prefers `_signalscope` when present, so our own files come back
unchanged; foreign files are read from the standard fields only.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from http import HTTPStatus
from typing import IO, Any, Iterable
from urllib.parse import parse_qsl

from yarl import URL

from app import __version__
from app.core.import_types import ImportedRequest, ImportFailure, body_bytes, count, epoch, header_pairs
from app.core.request_target import request_target, target_query, target_url
from app.core.store.captures import rfc3339
_HOST = re.compile(r"[A-Za-z0-9._~-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def write_har(captures: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Stream a HAR document of `captures` (read_side dicts) to `out`; returns the entry count."""
    creator = {"name": "Signalscope", "version": __version__}
    out.write('{"log": {"version": "1.2", "creator": ' + json.dumps(creator) + ', "pages": [], "entries": [\n')
    count = 0
    for capture in captures:
        out.write((",\n" if count else "") + json.dumps(har_entry(capture)))
        count += 1
    out.write("\n]}}\n")
    return count


def har_entry(capture: dict[str, Any]) -> dict[str, Any]:
    headers = capture["headers"]
    host = next((v for k, v in headers if k.lower() == "host"), "localhost")
    query = capture["query"] or ""
    if not _HOST.fullmatch(host):
        host = "localhost"  # a Host header that is no host (it came from the network)
    target = request_target(capture)
    url = target_url(f"http://{host}", target)
    content_type = capture["content_type"] or ""
    response_headers = capture["response_headers"]
    response_type = next((v for k, v in response_headers if k.lower() == "content-type"), "")
    status = capture["response_status"]
    elapsed = capture["duration_ms"] or 0
    report = capture["report"]
    return {
        "startedDateTime": rfc3339(capture["received_at"]),
        "time": elapsed,
        "request": {
            "method": capture["method"],
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in headers],
            "queryString": [{"name": k, "value": v}
                            for k, v in parse_qsl(target_query(target), keep_blank_values=True)],
            "postData": {"mimeType": content_type, "params": [], **_content(capture["body"])},
            "headersSize": -1,
            "bodySize": capture["body_size"],
        },
        "response": {
            "status": status if status is not None else 0,  # 0: no answer (the connection was dropped)
            "statusText": _status_text(status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in response_headers],
            "content": {"size": len(capture["response_body"] or b""), "mimeType": response_type,
                        **_content(capture["response_body"] or b"")},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(capture["response_body"] or b""),
        },
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": elapsed, "receive": 0},
        "_signalscope": {
            "id": capture["id"],
            "origin": capture["origin"],
            "received_at": capture["received_at"],
            "path": capture["path"],
            "query": query,
            "target": capture.get("target"),
            "peer": capture["peer"],
            "body_size": capture["body_size"],
            "body_truncated": capture["body_truncated"],
            "response_status": status,
            "kind": capture["kind"],
            "verdict": capture["verdict"],
            "verification": report,
            "set": None if capture["set_header"] is None and capture["set_claims"] is None
            else {"header": capture["set_header"], "claims": capture["set_claims"]},
            "jti": capture["jti"],
            "issuer": capture["issuer"],
            "event_types": capture["event_types"],
            "subject": capture["subject"],
            "repeat_of": capture["repeat_of"],
            "rule": capture["rule"],
            "source": capture.get("source"),
            "source_entry": capture.get("source_entry"),
        },
    }


def _content(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _status_text(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status is not None else ""
    except ValueError:
        return ""


# -- reading ---------------------------------------------------------------------

def parse_har(document: Any) -> tuple[list[ImportedRequest], list[ImportFailure]]:
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        return [], [ImportFailure("log.entries", "missing: a HAR file has {\"log\": {\"entries\": [...]}}")]
    requests, failures = [], []
    for i, entry in enumerate(entries):
        where = f"entries[{i}]"
        try:
            requests.append(_entry(entry, where))
        except ValueError as exc:
            failures.append(ImportFailure(where, str(exc)))
    return requests, failures


def _entry(entry: Any, where: str) -> ImportedRequest:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    request = entry.get("request")
    if not isinstance(request, dict):
        raise ValueError("request is missing")
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not method:
        raise ValueError("request.method is missing")
    if not isinstance(url, str) or not url:
        raise ValueError("request.url is missing")
    ours = entry.get("_signalscope") if isinstance(entry.get("_signalscope"), dict) else {}
    try:
        parts = URL(url)  # decoded as the receiver stores a request (aiohttp's path and query_string)
        raw = URL(url, encoded=True).raw_path_qs  # the target as sent, still encoded
    except ValueError as exc:
        raise ValueError(f"request.url {url!r} is not a URL ({exc})") from None
    path = ours["path"] if isinstance(ours.get("path"), str) else parts.path or "/"
    query = ours["query"] if isinstance(ours.get("query"), str) else parts.query_string
    # The target as sent: ours when the file kept it (null: a capture stored before targets were),
    # else the URL's own path and query.
    if "target" in ours:
        target = ours["target"] if isinstance(ours["target"], str) else None
    else:
        target = raw
    # HTTP/2 and HTTP/3 captures list pseudo-headers (":authority", ...); they are not headers.
    headers = [(k, v) for k, v in header_pairs(request.get("headers") or [], "request.headers") if not k.startswith(":")]
    post = request.get("postData") if isinstance(request.get("postData"), dict) else {}
    body = body_bytes(post.get("text"), post.get("encoding"), "request.postData.text")
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    content = response.get("content") if isinstance(response.get("content"), dict) else {}
    status = count(ours["response_status"] if "response_status" in ours else response.get("status"))
    elapsed = entry.get("time")
    return ImportedRequest(
        entry=where,
        method=method.upper(),
        path=path,
        query=query,
        headers=headers,
        body=body,
        body_size=count(ours.get("body_size")) or len(body),
        body_truncated=bool(ours.get("body_truncated")),
        peer=ours.get("peer") if isinstance(ours.get("peer"), str) else None,
        received_at=_started(entry.get("startedDateTime"), ours.get("received_at")),
        response_status=status or None,  # 0: the request got no answer
        response_headers=header_pairs(response.get("headers") or [], "response.headers"),
        response_body=body_bytes(content.get("text"), content.get("encoding"), "response.content.text"),
        duration_ms=float(elapsed) if isinstance(elapsed, (int, float)) and 0 <= elapsed < 1e12 else None,
        rule=ours["rule"] if isinstance(ours.get("rule"), str) else None,
        target=target or None,
    )



def _started(text: Any, exact: Any) -> float | None:
    if epoch(exact) is not None:
        return epoch(exact)
    if not isinstance(text, str):
        return None
    try:
        seconds = epoch(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        seconds = None
    if seconds is None:
        raise ValueError(f"startedDateTime {text!r} is not an ISO 8601 time")
    return seconds
