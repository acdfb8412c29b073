"""What one attempt was: its request, the response status, headers and body excerpt,
latency, error and the reason for what came next — as plain text (everything in it
came from the network or from an endpoint we do not control)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from app.core.timeline import AttemptMark, format_duration

OUTCOME_WORDS = {"delivered": "delivered", "failed": "failed", "retry": "retry scheduled", "gave_up": "given up",
                 "pending": "pending"}
BODY_EXCERPT = 2000


def _when(t: float | None, origin: float | None = None) -> str:
    if t is None:
        return "—"
    if origin is not None:  # a virtual clock (the policy lab): seconds since the first attempt
        return "+" + format_duration(t - origin) if t > origin else "+0 s"
    moment = datetime.fromtimestamp(t).astimezone()  # local, like the tables and the axis
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + moment.strftime(" %Z")


def attempt_summary(mark: AttemptMark, origin: float | None = None) -> str:
    """A few lines for a hover tooltip (the caller escapes them)."""
    lines = [f"Attempt #{mark.n}: {mark.status if mark.status is not None else (mark.error or 'no answer')}"
             f" — {OUTCOME_WORDS.get(mark.outcome, mark.outcome)}", f"at {_when(mark.started_at, origin)}"]
    latency = mark.detail.get("latency_ms")
    if latency is not None:
        lines.append(f"latency {latency:.0f} ms")
    if mark.error:
        lines.append(f"error: {mark.error}")
    if mark.retry_after is not None:
        lines.append(f"Retry-After: {mark.retry_after:g} s")
    if mark.next_retry_at is not None:
        lines.append(f"next attempt {format_duration(mark.next_retry_at - (mark.ended_at or mark.started_at))} later")
    if mark.detail.get("reason"):
        lines.append(str(mark.detail["reason"]))
    if mark.detail.get("rule"):
        lines.append(f"answered by fault rule: {mark.detail['rule']}")
    return "\n".join(lines)


def attempt_text(mark: AttemptMark, request: str = "", origin: float | None = None) -> str:
    """The full plain-text account of one attempt for the details pane."""
    d = mark.detail
    parts = [attempt_summary(mark, origin)]
    if request:
        parts.append("Request\n" + request)
    headers = d.get("response_headers") or []
    status = f"HTTP {mark.status}" if mark.status is not None else "no response"
    parts.append("Response: " + status + "".join(f"\n{name}: {value}" for name, value in headers))
    body = d.get("response_body") or ""
    if body:
        cut = body[:BODY_EXCERPT]
        parts.append("Body excerpt\n" + cut + (f"\n… ({len(body)} characters)" if len(body) > BODY_EXCERPT else ""))
    if d.get("capture_id") is not None:
        parts.append(f"Capture #{d['capture_id']}")
    return "\n\n".join(parts)


class AttemptDetails(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Select an attempt on the timeline (click, or Ctrl+Left/Right) to see its details.")
        self.origin: float | None = None  # set: times read as "+5 min" from it (virtual clocks)

    def show_attempt(self, mark: AttemptMark | None, request: str = "") -> None:
        self.setPlainText("" if mark is None else attempt_text(mark, request, self.origin))
