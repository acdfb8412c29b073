"""Saved replay selections: a named capture filter (or ids, or "failed since") kept in the workspace.

A developer who replays "every invalid session-revoked from Okta" again and again saves
that selection once and picks it by name, in the window's bulk replay or with
`signalscope replay --selection NAME`. Stored as one JSON settings row.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.core.replay_runs import Selection
from app.core.store.captures import CaptureFilter

KEY = "replay_selections"
FILTER_FIELDS = ("text", "verdict", "kind", "issuer", "event_type")


class SelectionError(ValueError):
    pass


def to_json(selection: Selection) -> dict[str, Any]:
    flt = {name: getattr(selection.filter, name) for name in FILTER_FIELDS if getattr(selection.filter, name)}
    return {"filter": flt, "ids": selection.ids, "failed_only": selection.failed_only, "since": selection.since,
            "order": selection.order}


def from_json(data: Any) -> Selection:
    if not isinstance(data, dict) or not isinstance(data.get("filter", {}), dict):
        raise SelectionError("a saved selection is an object with a 'filter' object")
    flt = {k: v for k, v in data.get("filter", {}).items() if k in FILTER_FIELDS and isinstance(v, str)}
    ids = data.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
        raise SelectionError("'ids' must be a list of capture ids")
    since = data.get("since")
    if since is not None and not isinstance(since, (int, float)):
        raise SelectionError("'since' must be epoch seconds")
    order = data.get("order", "original")
    if order not in ("original", "time"):
        raise SelectionError("'order' must be original or time")
    return Selection(CaptureFilter(**flt), ids=ids, failed_only=bool(data.get("failed_only")), since=since, order=order)


def load(conn: sqlite3.Connection) -> dict[str, Selection]:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY,)).fetchone()
    if not row:
        return {}
    try:
        stored = json.loads(row[0])
    except ValueError:
        return {}
    out = {}
    for name, data in stored.items() if isinstance(stored, dict) else ():
        try:
            out[name] = from_json(data)
        except SelectionError:
            continue  # one damaged entry does not hide the others
    return out


def _write(conn: sqlite3.Connection, selections: dict[str, Selection]) -> None:
    text = json.dumps({name: to_json(s) for name, s in sorted(selections.items())})
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (KEY, text))


def save_op(name: str, selection: Selection):
    """Operation for the workspace writer: save (or replace) `name`."""
    name = name.strip()
    if not name:
        raise SelectionError("a saved selection needs a name")

    def op(conn: sqlite3.Connection) -> None:
        _write(conn, {**load(conn), name: selection})

    return op


def delete_op(name: str):
    def op(conn: sqlite3.Connection) -> None:
        selections = load(conn)
        selections.pop(name, None)
        _write(conn, selections)

    return op
