"""Where a replay goes, how one is sent there, and the last place a person sent one.

A target is this app's own receiver, a URL, or one of the simulator's streams (the
replay then goes out through that stream's delivery and retry policy, like any
SET the simulator emits). Front ends build a `ReplayTarget`, and on the engine's
loop call `send_to(engine, request, target)` or `run_selection(...)` for a bulk
run. The last target is one row of the workspace's `settings` table, so "Replay
to last target" survives a restart and travels with the workspace.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from app.core.replay import ReplayEditError, ReplayOutcome, ReplayRequest, edited_request, exact_request
from app.core.replay_runs import RunSummary, Selection, run_bulk, select

RECEIVER, URL, STREAM = "receiver", "url", "stream"
KINDS = (RECEIVER, URL, STREAM)
SETTINGS_KEY = "replay_last_target"


@dataclass(frozen=True)
class ReplayTarget:
    kind: str
    url: str = ""
    stream_id: str = ""

    def describe(self) -> str:
        if self.kind == RECEIVER:
            return "this app's receiver"
        if self.kind == STREAM:
            return f"simulator stream {self.stream_id}"
        return self.url

    def check(self) -> None:
        """Raise ReplayEditError ('target: ...') when this target cannot be used."""
        if self.kind not in KINDS:
            raise ReplayEditError(f"target: one of {', '.join(KINDS)}")
        if self.kind == URL:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ReplayEditError(f"target: {self.url!r} is not an http(s) URL")
        if self.kind == STREAM and not self.stream_id:
            raise ReplayEditError("target: no stream chosen")

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "url": self.url, "stream_id": self.stream_id}

    @classmethod
    def from_json(cls, data: Any) -> "ReplayTarget | None":
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            return None
        target = cls(data["kind"], str(data.get("url") or ""), str(data.get("stream_id") or ""))
        try:
            target.check()
        except ReplayEditError:
            return None
        return target


def load_last_target(conn: sqlite3.Connection) -> ReplayTarget | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (SETTINGS_KEY,)).fetchone()
    if not row:
        return None
    try:
        return ReplayTarget.from_json(json.loads(row[0]))
    except ValueError:
        return None


def save_last_target_op(target: ReplayTarget):
    text = json.dumps(target.to_json())

    def op(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (SETTINGS_KEY, text))

    return op


def stream_choices(engine) -> list[tuple[str, str]]:
    """(stream_id, a line describing it) for each simulator stream (engine loop only)."""
    transmitter = engine.transmitter
    if transmitter is None:
        return []
    out = []
    for stream in transmitter.streams.values():
        where = stream.delivery.get("endpoint_url") or "poll"
        out.append((stream.stream_id, f"{stream.description or stream.stream_id} — {where} ({stream.status})"))
    return out


def target_url(engine, target: ReplayTarget) -> str:
    """The URL a push replay goes to (streams have their own delivery: see send_to)."""
    target.check()
    if target.kind == RECEIVER:
        return engine.receiver.url
    if target.kind == URL:
        return target.url
    raise ReplayEditError("target: a stream has no single URL; its SETs go out through its own delivery")


async def send_to(engine, req: ReplayRequest, target: ReplayTarget, *, policy: str = "github",
                  run_id: int | None = None) -> ReplayOutcome:
    """Send one replay. Into a stream it is queued (state `pending`): the stream's
    deliverer sends it with the stream's policy, and the delivery records how it went."""
    target.check()
    if target.kind != STREAM:
        return await engine.replayer.send(req, target_url(engine, target), policy=policy, run_id=run_id)
    from app.core.transmitter.streams import StreamError

    transmitter = engine.transmitter
    if transmitter is None:
        raise ReplayEditError("target: the transmitter simulator is not running")
    try:
        token = req.body.decode("ascii")
    except UnicodeDecodeError:
        raise ReplayEditError("target: a stream carries SETs; this body is not a compact token") from None
    if token.count(".") != 2:
        raise ReplayEditError("target: a stream carries SETs; this body is not a compact token")
    try:
        entry = await transmitter.enqueue_token(target.stream_id, req.body, jti=req.jti or f"capture-{req.capture_id}",
                                                event_type=req.event_type, capture_id=req.capture_id,
                                                run_id=run_id)
    except StreamError as exc:
        raise ReplayEditError(f"target: {exc.message}") from None
    notes = [*req.notes, f"queued on stream {target.stream_id}: sent with the stream's delivery and retry policy"]
    return ReplayOutcome(req.capture_id, entry["delivery_id"], target.describe(), "pending", notes=notes, queued=True)


def bulk_builder(engine, mode: str, *, fresh_iat: bool = True, fresh_jti: bool = True,
                 set_issuer: bool = True) -> Callable[[dict[str, Any]], ReplayRequest]:
    """How each capture of a bulk run becomes a request: `exact`, or `resign` with the simulator's key."""
    if mode == "exact":
        return exact_request
    if mode != "resign":
        raise ReplayEditError("mode: exact or resign")
    transmitter = engine.transmitter
    if transmitter is None:
        raise ReplayEditError("signing: re-signing needs the simulator's key; the simulator is not running")
    key, issuer = transmitter.keys.active, transmitter.issuer if set_issuer else None

    def build(capture: dict[str, Any]) -> ReplayRequest:
        return edited_request(capture, key=key, issuer=issuer, fresh_iat=fresh_iat, fresh_jti=fresh_jti)

    return build


async def run_selection(engine, selection: Selection, *, target: ReplayTarget, mode: str = "exact",
                        rate: float | None = None, policy: str = "github", cancel: asyncio.Event | None = None,
                        progress: Callable[[RunSummary, ReplayOutcome], None] | None = None) -> RunSummary:
    """A bulk run over a selection, read through a connection of its own (engine loop only)."""
    from app.core.store.schema import connect

    send = None
    if target.kind == STREAM:  # each SET joins the stream's queue, delivered with its policy
        target.check()
        url = target.describe()

        async def send(req: ReplayRequest, run_id: int) -> ReplayOutcome:
            return await send_to(engine, req, target, run_id=run_id)
    else:
        url = target_url(engine, target)
    build = bulk_builder(engine, mode)
    conn = connect(engine.config.workspace, readonly=True)
    try:
        ids = select(conn, selection)
        return await run_bulk(engine.writer, engine.replayer, conn, ids, target=url, build=build, mode=mode,
                              selection=selection, rate=rate, policy=policy, cancel=cancel, progress=progress,
                              send=send)
    finally:
        conn.close()
