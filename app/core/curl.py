"""'Copy as curl': a shell command line that sends a captured request again.

The command reproduces the method, the request target (path and query exactly as
they arrived, see request_target.py), headers (in order) and the body byte for
byte against another base URL. Every piece is quoted with
`shlex.quote`, so nothing in a capture (it came from the network) can become
shell syntax. The body is piped into `--data-binary @-`: a UTF-8 body through
`printf '%s'` (no trailing newline added, unlike a here-string), any other body
as base64 through `base64 -d`. curl's own defaults (Accept, User-Agent, a form
Content-Type) are switched off when the capture did not have them, and curl is
told not to glob the URL nor to squash `/../` in it (--path-as-is). curl never follows redirects unless asked (-L), and
the command does not ask.
"""

from __future__ import annotations

import base64
import shlex
from typing import Any
from urllib.parse import urlsplit

from app.core.receiver import DEFAULT_PATH
from app.core.request_target import request_target, target_url

# Headers curl computes itself or that describe the old connection, not the request.
_NOT_REPLAYED = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "expect", "te",
                 "upgrade", "proxy-connection"}
# Headers curl adds on its own unless given an empty value ("-H 'Name:'" removes one).
_CURL_DEFAULTS = ("Accept", "User-Agent", "Content-Type")


class CurlError(ValueError):
    """The request cannot be expressed for the given target (the message says why)."""


def curl_command(capture: dict[str, Any], base_url: str) -> str:
    """A curl command line reproducing `capture` (a read-side capture dict) against `base_url`."""
    target = urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise CurlError(f"{base_url!r} is not an http(s) base URL")
    try:
        url = target_url(base_url, request_target(capture, empty_path=DEFAULT_PATH if capture["kind"] == "set" else "/"))
    except ValueError as exc:
        raise CurlError(f"cannot build a URL from {base_url!r} and the capture's path: {exc}") from None
    headers = [(k, v) for k, v in capture["headers"] if k.lower() not in _NOT_REPLAYED]
    if capture["kind"] == "set" and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/secevent+jwt"))  # a bare token (imported .jwt) had none
    present = {k.lower() for k, _ in headers}
    args = ["curl", "--silent", "--show-error", "--globoff", "--path-as-is", "--http1.1", "--request", capture["method"], url]
    for name, value in headers:
        # "Name;" is curl's spelling for a header with an empty value ("Name:" would remove it).
        args += ["--header", f"{name}: {value}" if value else f"{name};"]
    for name in _CURL_DEFAULTS:
        if name.lower() not in present:
            args += ["--header", f"{name}:"]
    body: bytes = capture["body"] or b""
    command = " ".join(shlex.quote(a) for a in args)
    if not body:
        return command
    command += " --data-binary @-"
    try:
        text = body.decode("utf-8")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", body, 0, 1, "NUL")
    except UnicodeDecodeError:
        return f"printf '%s' {shlex.quote(base64.b64encode(body).decode('ascii'))} | base64 -d | {command}"
    return f"printf '%s' {shlex.quote(text)} | {command}"
