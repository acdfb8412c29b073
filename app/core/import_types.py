"""What the import readers produce: a request read from a file, or why an entry could not be read."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field


class ImportFormatError(Exception):
    """The file cannot be read at all; the message is a sentence about the file."""


@dataclass
class ImportFailure:
    entry: str  # where: "line 3", "entries[2]"
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"entry": self.entry, "reason": self.reason}


@dataclass
class ImportedRequest:
    """One request as a file recorded it (not verified yet)."""

    entry: str
    method: str
    path: str
    body: bytes
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_size: int = 0
    body_truncated: bool = False
    peer: str | None = None
    received_at: float | None = None  # None: unknown, the import time is used
    response_status: int | None = None  # None: no answer recorded (or none was given)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    duration_ms: float | None = None
    rule: str | None = None  # the receiver fault rule that answered, when the file says so
    bare_token: bool = False  # a SET without any HTTP around it (.jwt file, pasted)
    target: str | None = None  # the request target as sent (path and ?query, encoded), when the file has it


def header_pairs(value, what: str) -> list[tuple[str, str]]:
    """Headers as ordered (name, value) pairs from [[name, value]], [{name, value}] or {name: value}."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                item = (item.get("name"), item.get("value"))
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError(f"{what}[{i}] is not a name/value pair")
            items.append(tuple(item))
    else:
        raise ValueError(f"{what} is not a list of headers")
    for i, (name, val) in enumerate(items):
        if not isinstance(name, str) or not name or not isinstance(val, str):
            raise ValueError(f"{what}[{i}] needs a non-empty string name and a string value")
    return [(name, val) for name, val in items]


def count(value) -> int | None:
    """A non-negative integer that SQLite can store (JSON allows any size), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return None


def epoch(value) -> float | None:
    """Seconds since 1970 that a date can show (years 1970-9999), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 253402300800:
        return float(value)
    return None


def body_bytes(value, encoding, what: str) -> bytes:
    """A body as an export carried it: text, or base64 when `encoding` says so; `what` names it in errors."""
    if value is None:
        return b""
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    if encoding == "base64":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{what} is marked base64 but is not valid base64") from None
    return value.encode("utf-8")
