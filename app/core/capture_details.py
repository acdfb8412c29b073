"""What the detail panels show about one capture, computed without any toolkit.

The window's panels lay these out; they decide nothing themselves: which claims
are times (shown as ISO dates next to the number), what the catalogue says about
each event, how a subject identifier breaks down, how a body is best shown
(pretty JSON, a compact JWS in its three parts, text, or hex for binary), the
request and response as text, and the RFC 8935 answer due for a SET.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.core.catalogue import Catalogue, default_catalogue
from app.core.request_target import request_target

TIME_CLAIMS = {"iat", "exp", "nbf", "toe", "event_timestamp", "auth_time", "updated_at"}
_JWS = re.compile(rb"^\s*([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\s*$")


def time_note(name: str, value: Any) -> str:
    """ISO 8601 (UTC) for a claim that holds a NumericDate, else ''."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if name not in TIME_CLAIMS and not name.endswith(("_at", "_time", "timestamp")):
        return ""
    if not 0 <= value < 253402300800:  # year 10000
        return ""
    return datetime.fromtimestamp(value, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Node:
    """One line of a tree: a key, a one-line value (empty for containers), a note, children.
    `raw` is the JSON value itself, for copying."""

    key: str
    value: str
    note: str = ""
    children: list["Node"] = field(default_factory=list)
    raw: Any = None


def json_nodes(value: Any, key: str = "", notes=None) -> Node:
    """A JSON value as a tree; `notes(key, value)` adds a note (default: time_note)."""
    notes = notes or time_note
    if isinstance(value, dict):
        return Node(key, f"{{{len(value)}}}", "", [json_nodes(v, str(k), notes) for k, v in value.items()], value)
    if isinstance(value, list):
        return Node(key, f"[{len(value)}]", "", [json_nodes(v, f"[{i}]", notes) for i, v in enumerate(value)], value)
    return Node(key, json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value,
                notes(key, value), [], value)


def event_nodes(claims: dict | None, catalogue: Catalogue | None = None) -> list[Node]:
    """Each event with the catalogue's title and description and each claim's meaning."""
    catalogue = catalogue or default_catalogue()
    events = (claims or {}).get("events")
    if not isinstance(events, dict):
        return []
    out = []
    for uri, payload in events.items():
        known = catalogue.lookup(uri)
        specs = {c.name: c for c in known.claims} if known else {}

        def note(key, value, specs=specs):
            spec = specs.get(key)
            return " — ".join(x for x in (time_note(key, value), spec.description if spec else "") if x)

        node = json_nodes(payload, uri, note) if isinstance(payload, (dict, list)) else Node(uri, str(payload), raw=payload)
        node.value = known.title if known else "(not in the catalogue)"
        node.note = known.description if known else ""
        out.append(node)
    return out


def subject_node(subject: Any) -> Node | None:
    """A subject identifier by format: simple formats on one line, complex and aliases as a tree."""
    if not isinstance(subject, dict):
        return None
    fmt = subject.get("format") or subject.get("subject_type") or "complex"
    if fmt == "aliases":
        kids = [subject_node(i) or Node("?", str(i)) for i in subject.get("identifiers", [])]
        return Node("aliases", f"{len(kids)} identifiers", "", kids, subject)
    members = {k: v for k, v in subject.items() if k not in ("format", "subject_type")}
    if fmt == "complex" or any(isinstance(v, dict) for v in members.values()):
        kids = []
        for name, member in members.items():
            child = subject_node(member) if isinstance(member, dict) else Node(name, str(member), raw=member)
            if child is not None:
                child.key = f"{name} ({child.key})" if isinstance(member, dict) else name
                kids.append(child)
        return Node("complex", ", ".join(members), "", kids, subject)
    value = " | ".join(f"{v}" if len(members) == 1 else f"{k}={v}" for k, v in members.items())
    return Node(fmt, value, "", [], subject)


@dataclass
class BodyView:
    mode: str  # "empty" | "json" | "jws" | "text" | "hex"
    text: str
    parts: tuple[str, str, str] | None = None  # the compact JWS's header, payload, signature


def body_view(body: bytes, *, truncated: bool = False) -> BodyView:
    if not body:
        return BodyView("empty", "")
    match = _JWS.match(body)
    if match:
        parts = tuple(p.decode("ascii") for p in match.groups())
        return BodyView("jws", body.decode("ascii").strip(), parts)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return BodyView("hex", hexdump(body))
    if not truncated:
        try:
            return BodyView("json", json.dumps(json.loads(text), indent=2, ensure_ascii=False))
        except ValueError:
            pass
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return BodyView("hex", hexdump(body))
    return BodyView("text", text)


def hexdump(data: bytes, width: int = 16, limit: int = 64 * 1024) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), width):
        chunk = data[offset:offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<{width * 3}} {text}")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit} more bytes")
    return "\n".join(lines)


def request_head(capture: dict) -> str:
    lines = [f"{capture['method']} {request_target(capture)} HTTP/1.1"]  # as it arrived, not decoded
    lines += [f"{name}: {value}" for name, value in capture["headers"]]
    return "\n".join(lines)


def response_text(capture: dict) -> str:
    lines = [f"HTTP/1.1 {capture['response_status']}"]
    lines += [f"{name}: {value}" for name, value in capture.get("response_headers") or []]
    body = capture.get("response_body") or b""
    if body:
        lines += ["", body_view(body).text]
    return "\n".join(lines)


def rfc8935_answer(capture: dict) -> str:
    """The RFC 8935 answer given, and what was due when a fault rule answered instead."""
    report = capture["report"]
    given = f"{capture['response_status']}"
    body = (capture.get("response_body") or b"").decode("utf-8", "replace")
    given += f" {body}" if body else " (empty body)"
    if capture["kind"] != "set":
        return f"Answered {given}. Not a SET: RFC 8935 does not apply."
    err = report.get("err")
    due = "202 (empty body)" if not err else "400 " + json.dumps({"err": err, "description": report.get("description")})
    if capture.get("rule"):
        return f"Answered {given} by the fault rule “{capture['rule']}”; RFC 8935 asks for {due}."
    return f"Answered {given}." + ("" if capture["response_status"] in (202, 400) else f" RFC 8935 asks for {due}.")
