"""A foreign sender's measured waits, read against the Retry-After we answered."""

from app.core.observed import describe_schedule, measured_gaps
from app.core.timeline import AttemptMark, Gap, Timeline


def observed(*marks):
    attempts = [AttemptMark(n, at, at + 0.01, status, None, "retry", retry_after) for n, (at, status, retry_after)
                in enumerate(marks, start=1)]
    gaps = [Gap(a.ended_at, b.started_at, "observed") for a, b in zip(attempts, attempts[1:])]
    return Timeline("webhook-id:msg_1", attempts, gaps, "observed")


def test_waits_are_measured_and_a_retry_before_retry_after_is_early():
    t = observed((0.0, 429, 5.0), (2.0, 503, None), (7.0, 200, None))
    gaps = measured_gaps(t)
    assert [round(g.gap.seconds, 2) for g in gaps] == [1.99, 4.99]
    assert [g.early for g in gaps] == [True, False] and gaps[0].after_status == 429
    assert describe_schedule(t) == ("3 requests over 7 s; waits 2 s, 5 s; retried before our Retry-After (2 s < 5 s);"
                                    " accepted at request 3.")


def test_a_sender_that_waited_long_enough_is_not_flagged():
    t = observed((0.0, 429, 2.0), (2.05, 202, None))
    assert not measured_gaps(t)[0].early
    assert describe_schedule(t) == "2 requests over 2 s; waits 2 s; accepted at request 2."
    assert describe_schedule(observed((0.0, 500, None))) == "1 request over 0 ms; never accepted."
