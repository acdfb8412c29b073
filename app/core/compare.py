"""Comparing two captures: what changed between two deliveries.

`compare_captures(a, b)` returns plain data a window or the CLI can show:
request basics (method, path, query, body, verdict, answer), headers by name
(case-insensitive; repeated headers joined with ', ' as HTTP allows), and the
decoded SET header and claims member by member, recursively into nested
objects (`events`, `sub_id`, ...) and arrays. Each difference is
{"pointer", "path", "change", "a", "b"}: `change` is "added" (only in b),
"removed" (only in a) or "changed"; `path` lists the keys (URIs as event names
contain dots, so no dotted strings), `pointer` is the same as an RFC 6901 JSON
Pointer. For two webhooks whose bodies are JSON, `body_json` compares the
bodies the same way.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()
BASICS = ("method", "path", "query", "kind", "verdict", "response_status", "issuer", "jti")


def compare_captures(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Differences from capture `a` to capture `b` (read-side capture dicts)."""
    basics = [_difference([name], a.get(name), b.get(name)) for name in BASICS if a.get(name) != b.get(name)]
    if a.get("body") != b.get("body"):
        basics.append({"pointer": "/body", "path": ["body"], "change": "changed",
                       "a": f"{len(a.get('body') or b'')} bytes", "b": f"{len(b.get('body') or b'')} bytes"})
    result = {
        "a": a.get("id"),
        "b": b.get("id"),
        "request": basics,
        "headers": diff_headers(a.get("headers") or [], b.get("headers") or []),
        "set_header": diff_values(a.get("set_header"), b.get("set_header")),
        "claims": diff_values(a.get("set_claims"), b.get("set_claims")),
        "body_json": [],
    }
    body_a, body_b = _json_body(a), _json_body(b)
    if body_a is not _MISSING and body_b is not _MISSING:  # two JSON webhooks: member by member too
        result["body_json"] = diff_values(body_a, body_b)
    result["same"] = not any(result[k] for k in ("request", "headers", "set_header", "claims"))
    return result


def _json_body(capture: dict[str, Any]) -> Any:
    """The body as JSON for a webhook whose body is JSON (SETs are compared by their claims)."""
    body = capture.get("body")
    if capture.get("kind") == "set" or not body or len(body) > 1_048_576:
        return _MISSING
    try:
        return json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        return _MISSING


def diff_headers(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Header differences by lower-cased name, in the order the names first appear (a, then b)."""
    left, right = _by_name(a), _by_name(b)
    out = []
    for name in list(left) + [n for n in right if n not in left]:
        va, vb = left.get(name, _MISSING), right.get(name, _MISSING)
        if va != vb:
            out.append(_difference([name], va, vb))
    return out


def diff_values(a: Any, b: Any, path: list | None = None) -> list[dict[str, Any]]:
    """Differences between two JSON values, recursing into objects and arrays."""
    path = path or []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            out += diff_values(a.get(key, _MISSING), b.get(key, _MISSING), path + [key])
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            out += diff_values(a[i] if i < len(a) else _MISSING, b[i] if i < len(b) else _MISSING, path + [i])
        return out
    if a is _MISSING and b is _MISSING:
        return []
    if a is not _MISSING and b is not _MISSING and type(a) is type(b) and a == b:
        return []
    return [_difference(path, a, b)]


def _difference(path: list, a: Any, b: Any) -> dict[str, Any]:
    change = "added" if a is _MISSING else "removed" if b is _MISSING else "changed"
    entry: dict[str, Any] = {"pointer": pointer(path), "path": path, "change": change}
    if a is not _MISSING:
        entry["a"] = a
    if b is not _MISSING:
        entry["b"] = b
    return entry


def pointer(path: list) -> str:
    """RFC 6901: '/'-joined, '~' as '~0' and '/' as '~1'."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _by_name(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
