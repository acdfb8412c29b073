"""Delivery timelines as data: attempts laid out on a time axis, the waits between
them labelled with their length and cause, the pending next attempt, the outcome.

Qt-free so it can be tested without a window: the timeline widget only paints a
`Timeline` through a `TimeAxis`. Two sources feed it: deliveries we made
(simulator pushes, replays; their attempts come from the workspace) and requests a
*foreign* sender made to our receiver, grouped by the id it keeps across retries
(`observed_timeline`), which measures that sender's real retry schedule.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

DELIVERED, FAILED, RETRY, GAVE_UP, PENDING = "delivered", "failed", "retry", "gave_up", "pending"


@dataclass(frozen=True)
class AttemptMark:
    """One attempt as the timeline shows it."""

    n: int
    started_at: float
    ended_at: float | None
    status: int | None
    error: str | None
    outcome: str  # delivered | failed | retry | gave_up
    retry_after: float | None = None
    next_retry_at: float | None = None
    detail: dict = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        what = str(self.status) if self.status is not None else (self.error or "no answer")
        return f"#{self.n} {what}"


@dataclass(frozen=True)
class Gap:
    start: float
    end: float
    cause: str  # "backoff" | "retry-after" | "observed" | "pending"

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        text = format_duration(self.seconds)
        return {"backoff": f"{text} backoff", "retry-after": f"{text} (Retry-After)",
                "pending": f"next in {text}"}.get(self.cause, text)


@dataclass
class Timeline:
    title: str
    attempts: list[AttemptMark]
    gaps: list[Gap]
    state: str  # pending | delivered | failed | retired | observed
    pending_at: float | None = None

    @property
    def start(self) -> float | None:
        return self.attempts[0].started_at if self.attempts else None

    @property
    def end(self) -> float | None:
        ends = [a.ended_at or a.started_at for a in self.attempts]
        if self.pending_at is not None:
            ends.append(self.pending_at)
        return max(ends) if ends else None


def outcome_of(status: int | None, error: str | None, *, last: bool, state: str, recorded: str | None = None) -> str:
    if recorded == "handed_out":  # a poll hand-out the receiver has not acknowledged (yet)
        return PENDING if last and state == "pending" else RETRY
    if recorded == "rejected":  # a 400 with an err, or a poll receiver's setErrs
        return FAILED
    if status is not None and 200 <= status < 300:
        return DELIVERED
    if last and state in ("failed", "retired"):
        return GAVE_UP
    if last and state == "pending":
        return RETRY
    return RETRY if not last else FAILED


def build_timeline(title: str, attempts: list[dict], state: str, now: float) -> Timeline:
    """Lay out a delivery's attempts (dicts with n, started_at, ended_at, status, error,
    retry_after, next_retry_at; times in epoch seconds) and label every wait."""
    ordered = sorted(attempts, key=lambda a: (a["started_at"], a["n"]))
    marks = []
    for i, a in enumerate(ordered):
        last = i == len(ordered) - 1
        marks.append(AttemptMark(
            n=a["n"], started_at=a["started_at"], ended_at=a.get("ended_at"), status=a.get("status"),
            error=a.get("error"), outcome=outcome_of(a.get("status"), a.get("error"), last=last, state=state,
                                                     recorded=a.get("outcome")),
            retry_after=a.get("retry_after"), next_retry_at=a.get("next_retry_at"), detail=a,
        ))
    gaps = []
    for prev, nxt in zip(marks, marks[1:]):
        start = prev.ended_at or prev.started_at
        gaps.append(Gap(start, nxt.started_at, "retry-after" if prev.retry_after is not None else "backoff"))
    pending_at = None
    if state == "pending" and marks and marks[-1].next_retry_at is not None:
        pending_at = marks[-1].next_retry_at
        start = marks[-1].ended_at or marks[-1].started_at
        gaps.append(Gap(max(start, min(now, pending_at)), pending_at, "pending"))
    return Timeline(title, marks, gaps, state, pending_at)


# -- deliveries we made (simulator pushes and polls, replays) -------------------------

def delivery_timeline(conn: sqlite3.Connection, delivery_id: int, now: float) -> Timeline | None:
    """The timeline of one delivery from the workspace (None: no such delivery)."""
    from app.core.store.deliveries import get_delivery

    d = get_delivery(conn, delivery_id)
    if d is None:
        return None
    title = f"#{d['id']} {(d['event_type'] or '').rsplit('/', 1)[-1] or d['mode']} -> {d['endpoint'] or 'poll'}"
    return build_timeline(title, d["attempts"], d["state"], now)


@dataclass
class Lane:
    """One delivery of a stream-level view (one row on the shared axis)."""

    delivery_id: int
    event_type: str | None
    jti: str
    timeline: Timeline


def stream_lanes(conn: sqlite3.Connection, stream_id: str, now: float, *, event_type: str | None = None,
                 state: str | None = None, limit: int = 200) -> list[Lane]:
    """The most recent deliveries of a stream, oldest first, each as a lane of one shared axis,
    so bursts of retries and out-of-order arrival line up."""
    from app.core.store.deliveries import attempts_of

    clauses, params = ["stream_id = ?"], [stream_id]
    if event_type:
        clauses.append("event_type = ?")
        params.append(event_type)
    if state:
        clauses.append("state = ?")
        params.append(state)
    rows = conn.execute(f"SELECT id, event_type, jti, state FROM deliveries WHERE {' AND '.join(clauses)}"
                        " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
    lanes = []
    for delivery_id, kind, jti, st in reversed(rows):
        title = f"#{delivery_id} {(kind or '').rsplit('/', 1)[-1]}"
        lanes.append(Lane(delivery_id, kind, jti, build_timeline(title, attempts_of(conn, delivery_id), st, now)))
    return lanes


def out_of_order(lanes: list[Lane]) -> list[int]:
    """Deliveries that were delivered before an earlier-emitted delivery of the same view."""
    delivered_at = [(lane.delivery_id, next((a.ended_at or a.started_at for a in lane.timeline.attempts
                                             if a.outcome == DELIVERED), None)) for lane in lanes]
    late = []
    latest = None
    for delivery_id, at in delivered_at:
        if at is None:
            continue
        if latest is not None and at < latest:
            late.append(delivery_id)
        latest = at if latest is None else max(latest, at)
    return late


# -- what a foreign sender did ------------------------------------------------------

def observed_groups(conn: sqlite3.Connection, *, limit: int = 200) -> list[tuple[str, int, float]]:
    """Delivery keys (jti, webhook-id, ...) that reached the receiver more than once:
    (key, attempts, last seen), most recently active first."""
    return conn.execute(
        "SELECT delivery_key, count(*), max(received_at) FROM captures WHERE delivery_key IS NOT NULL"
        " AND origin = 'push' GROUP BY delivery_key HAVING count(*) > 1 ORDER BY max(received_at) DESC LIMIT ?",
        (limit,),
    ).fetchall()


def observed_timeline(conn: sqlite3.Connection, key: str) -> Timeline:
    """The attempts a sender made for one delivery key, with the measured gaps."""
    rows = conn.execute(
        "SELECT id, received_at, duration_ms, response_status, rule, response_headers FROM captures"
        " WHERE delivery_key = ? AND origin = 'push' ORDER BY id", (key,),
    ).fetchall()
    marks = []
    for n, (capture_id, at, duration_ms, status, rule, response_headers) in enumerate(rows, start=1):
        retry_after = None
        for name, value in json.loads(response_headers or "[]"):
            if name.lower() == "retry-after" and value.isdigit():
                retry_after = float(value)
        ended = at + (duration_ms or 0) / 1000
        outcome = DELIVERED if status is not None and 200 <= status < 300 else RETRY
        marks.append(AttemptMark(n, at, ended, status, None if status is not None else "connection closed", outcome,
                                 retry_after, None, {"capture_id": capture_id, "rule": rule}))
    gaps = [Gap(a.ended_at or a.started_at, b.started_at, "observed") for a, b in zip(marks, marks[1:])]
    return Timeline(key, marks, gaps, "observed")


# -- the axis ---------------------------------------------------------------------

_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]


@dataclass
class TimeAxis:
    """Maps seconds to pixels for a view of [start, end] over `width` pixels; zoom and pan
    keep the arithmetic here so the widget stays a painter."""

    start: float
    end: float
    width: float

    def x(self, t: float) -> float:
        span = max(self.end - self.start, 1e-9)
        return (t - self.start) / span * self.width

    def t(self, x: float) -> float:
        return self.start + x / self.width * (self.end - self.start)

    def zoom(self, factor: float, around: float) -> "TimeAxis":
        """factor > 1 zooms in around time `around`; spans stay between 0.1 s and 30 days."""
        span = min(max((self.end - self.start) / factor, 0.1), 30 * 86400)
        left = (around - self.start) / max(self.end - self.start, 1e-9)
        start = around - left * span
        return TimeAxis(start, start + span, self.width)

    def pan(self, pixels: float) -> "TimeAxis":
        shift = pixels / self.width * (self.end - self.start)
        return TimeAxis(self.start - shift, self.end - shift, self.width)

    def ticks(self, min_pixels: float = 80, *, utc_offset: float = 0.0) -> list[tuple[float, str]]:
        """Round moments across the view. `utc_offset` (seconds east of UTC) puts them on round
        local times: whole hours and midnights where the clock is at +05:30 or -03:30 too."""
        span = max(self.end - self.start, 1e-9)
        wanted = span * min_pixels / max(self.width, 1)
        step = next((s for s in _STEPS if s >= wanted), _STEPS[-1] * math.ceil(wanted / _STEPS[-1]))
        first = math.ceil((self.start + utc_offset) / step) * step - utc_offset
        out = []
        t = first
        while t <= self.end and len(out) < 200:
            out.append((t, tick_label(t, step)))
            t += step
        return out

    @classmethod
    def fit(cls, timeline: Timeline, width: float, now: float | None = None) -> "TimeAxis":
        start, end = timeline.start, timeline.end
        if start is None:
            now = now or 0.0
            return cls(now - 60, now, width)
        if now is not None and timeline.state == "pending":
            end = max(end or start, now)
        span = max((end or start) - start, 1.0)
        return cls(start - span * 0.05, start + span * 1.1, width)


def tick_label(t: float, step: float) -> str:
    moment = datetime.fromtimestamp(t, timezone.utc)
    if step >= 86400:
        return moment.strftime("%b %d")
    if step >= 60:
        return moment.strftime("%H:%M")
    return moment.strftime("%H:%M:%S")


def format_duration(seconds: float) -> str:
    """Short human durations: 850 ms, 5 s, 2 min 30 s, 3 h 5 min, 2 d 4 h."""
    seconds = max(seconds, 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f}".rstrip("0").rstrip(".") + " s"
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    parts = []
    rest = int(round(seconds))
    for name, size in units:
        if rest >= size:
            parts.append(f"{rest // size} {name}")
            rest %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def received_capture(conn: sqlite3.Connection, delivery: dict, mark: AttemptMark) -> int | None:
    """The capture our own receiver made of one attempt, if the attempt went to it. Our receiver
    names the capture in its answer (the Signalscope-Capture header); the capture must be in this
    workspace and carry the delivery's key (a SET's jti; for a replayed webhook, the key of the
    capture it replays), so another Signalscope's answer is not taken for ours."""
    named = next((v for k, v in mark.detail.get("response_headers") or [] if k.lower() == "signalscope-capture"), None)
    if named is None or not named.strip().isdigit():
        return None
    row = conn.execute("SELECT id, delivery_key, jti FROM captures WHERE id = ?", (int(named),)).fetchone()
    if row is None:
        return None
    keys = {delivery.get("jti")}
    if delivery.get("capture_id") is not None:
        source = conn.execute("SELECT delivery_key FROM captures WHERE id = ?", (delivery["capture_id"],)).fetchone()
        keys.add(source[0] if source else None)
    keys.discard(None)
    return row[0] if keys & {row[1], row[2]} else None
