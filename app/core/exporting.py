"""Exporting a selection of captures (a CaptureFilter) or the whole workspace.

Two formats: "jsonl", our own, one `export --kind events` line per capture (the
CI contract, see DESIGN.md), and "har", one HAR 1.2 document (har.py). Both are
streamed from a paged query, so memory stays flat for any workspace size.
"""

from __future__ import annotations

import json
import sqlite3
from typing import IO

from app.core.har import write_har
from app.core.store.captures import CaptureFilter, export_event, iter_captures

FORMATS = ("jsonl", "har")


def export_captures(conn: sqlite3.Connection, out: IO[str], *, fmt: str = "jsonl",
                    selection: CaptureFilter | None = None) -> int:
    """Write the selected captures to `out` in `fmt`; returns how many were written."""
    captures = iter_captures(conn, selection or CaptureFilter())
    if fmt == "har":
        return write_har(captures, out)
    if fmt != "jsonl":
        raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    count = 0
    for capture in captures:
        out.write(json.dumps(export_event(capture)) + "\n")
        count += 1
    return count
