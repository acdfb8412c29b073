"""What a foreign sender's retry schedule amounts to, measured from our captures.

`timeline.observed_timeline` lays out the requests a sender made for one delivery
key (jti, webhook-id, ...); this module reads the measured waits against what our
receiver answered: a wait shorter than the Retry-After we sent is a sender that
does not honour it (WEBHOOK-NOTES 2.2: senders must wait at least that long).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.timeline import Gap, Timeline, format_duration

TOLERANCE = 0.1  # seconds: clocks and the header's whole seconds


@dataclass(frozen=True)
class MeasuredGap:
    gap: Gap
    after_status: int | None
    retry_after: float | None  # what we asked for in the answer before this wait

    @property
    def early(self) -> bool:
        return self.retry_after is not None and self.gap.seconds < self.retry_after - TOLERANCE


def measured_gaps(timeline: Timeline) -> list[MeasuredGap]:
    gaps = [g for g in timeline.gaps if g.cause != "pending"]
    return [MeasuredGap(g, a.status, a.retry_after) for g, a in zip(gaps, timeline.attempts)]


def describe_schedule(timeline: Timeline) -> str:
    """One sentence: attempts, span, each wait, and any Retry-After the sender cut short."""
    marks = timeline.attempts
    if not marks:
        return "No requests."
    span = (marks[-1].started_at - marks[0].started_at) if len(marks) > 1 else 0.0
    gaps = measured_gaps(timeline)
    text = f"{len(marks)} request{'s' if len(marks) != 1 else ''} over {format_duration(span)}"
    if gaps:
        text += "; waits " + ", ".join(format_duration(m.gap.seconds) for m in gaps)
    early = [m for m in gaps if m.early]
    if early:
        text += "; retried before our Retry-After " + ", ".join(
            f"({format_duration(m.gap.seconds)} < {format_duration(m.retry_after)})" for m in early)
    delivered = next((m for m in marks if m.status is not None and 200 <= m.status < 300), None)
    text += f"; accepted at request {delivered.n}." if delivered else "; never accepted."
    return text
