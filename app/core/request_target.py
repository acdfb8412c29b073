"""The request target (path and ?query as on the request line) of a capture, and a URL for it.

The receiver keeps the target exactly as it arrived (`captures.target`, aiohttp's
`raw_path`); path and query are also stored decoded, for filters, search and fault
rules. The Raw HTTP panel, HAR export, curl and the events export use the raw
target, so a signature over the full URL (Twilio's, for one) still matches and
`%2F` stays `%2F`. Captures stored before the column existed have no target: theirs
is rebuilt from the decoded path and query (yarl encodes them back), which cannot
restore what decoding lost.
"""

from __future__ import annotations

from typing import Any

from yarl import URL


def request_target(capture: dict[str, Any], *, empty_path: str = "/") -> str:
    """The target as it arrived, else rebuilt from path and query; `empty_path` stands in
    for a capture without a path (a bare token imported from a .jwt file)."""
    target = capture.get("target")
    if isinstance(target, str) and target:
        return target
    path = capture.get("path") or empty_path
    path = path if path.startswith("/") else "/" + path
    return URL.build(scheme="http", authority="h", path=path, query_string=capture.get("query") or "").raw_path_qs


def origin_form(target: str) -> str:
    """The path and ?query of a target: itself in origin form ("/a?b"), the path and query
    of an absolute-form one (a request line meant for a proxy: "http://host/a?b")."""
    if target.startswith("/"):
        return target
    parts = URL(target, encoded=True)
    return parts.raw_path_qs if parts.absolute else "/" + target


def target_url(base_url: str, target: str) -> str:
    """`base_url` (scheme, authority, optional path prefix) followed by `target` as it is:
    the target is already encoded, nothing in it is encoded again. ValueError: no base URL."""
    base = URL(base_url)
    if not base.absolute:
        raise ValueError(f"{base_url!r} has no scheme and host")
    return f"{base.scheme}://{base.raw_authority}{base.raw_path.rstrip('/')}{origin_form(target)}"


def target_query(target: str) -> str:
    """The raw (still encoded) query of a target: what follows the first '?'."""
    return target.split("?", 1)[1] if "?" in target else ""
