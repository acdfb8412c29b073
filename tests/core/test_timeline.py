import pytest

from app.core.timeline import DELIVERED, GAVE_UP, RETRY, TimeAxis, build_timeline, format_duration


def attempt(n, at, status=None, error=None, retry_after=None, next_retry_at=None, took=0.05):
    return {"n": n, "started_at": at, "ended_at": at + took, "status": status, "error": error,
            "retry_after": retry_after, "next_retry_at": next_retry_at}


def test_waits_are_labelled_with_length_and_cause():
    t = build_timeline("d1", [attempt(1, 0, 503, next_retry_at=1.05), attempt(2, 1.05, 429, retry_after=120, next_retry_at=121.1),
                              attempt(3, 121.1, 202)], "delivered", now=200)
    assert [a.outcome for a in t.attempts] == [RETRY, RETRY, DELIVERED]
    assert [g.cause for g in t.gaps] == ["backoff", "retry-after"]
    assert [g.label for g in t.gaps] == ["1 s backoff", "2 min (Retry-After)"]
    assert t.pending_at is None


def test_pending_delivery_has_a_live_pending_gap():
    t = build_timeline("d2", [attempt(1, 0, 503, next_retry_at=30)], "pending", now=10)
    assert t.pending_at == 30
    pending = t.gaps[-1]
    assert pending.cause == "pending" and pending.start == 10 and pending.label == "next in 20 s"
    later = build_timeline("d2", [attempt(1, 0, 503, next_retry_at=30)], "pending", now=25)
    assert later.gaps[-1].label == "next in 5 s"


def test_final_failed_attempt_is_given_up():
    t = build_timeline("d3", [attempt(1, 0, 500), attempt(2, 5, None, error="timeout")], "failed", now=100)
    assert [a.outcome for a in t.attempts] == [RETRY, GAVE_UP]
    assert t.attempts[1].label == "#2 timeout"


@pytest.mark.parametrize("seconds,text", [(0.25, "250 ms"), (5, "5 s"), (2.5, "2.5 s"), (1.0000001, "1 s"), (150, "2 min 30 s"), (3 * 3600 + 300, "3 h 5 min"),
                                          (2 * 86400 + 4 * 3600, "2 d 4 h")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_axis_maps_zooms_and_pans():
    axis = TimeAxis(0, 100, 1000)
    assert axis.x(50) == 500 and axis.t(500) == 50
    zoomed = axis.zoom(2, around=50)
    assert (zoomed.start, zoomed.end) == (25, 75)
    assert zoomed.x(50) == 500  # the point under the cursor stays put
    panned = axis.pan(100)
    assert (panned.start, panned.end) == (-10, 90)


def test_ticks_pick_a_readable_step_from_seconds_to_days():
    assert [t for t, _ in TimeAxis(0, 10, 1000).ticks()] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    day_ticks = TimeAxis(0, 3 * 86400, 300).ticks()
    assert day_ticks[1][0] - day_ticks[0][0] == 86400 and day_ticks[0][1] == "Jan 01"


def test_ticks_land_on_round_local_times_in_a_half_hour_zone():
    india = 5.5 * 3600
    hours = TimeAxis(1_700_000_000, 1_700_000_000 + 6 * 3600, 400).ticks(utc_offset=india)
    assert hours[1][0] - hours[0][0] in (3600, 7200)
    assert all((t + india) % 3600 == 0 for t, _ in hours)  # 10:00, 11:00 on the wall clock, not 10:30
    days = TimeAxis(1_700_000_000, 1_700_000_000 + 5 * 86400, 300).ticks(utc_offset=-3.5 * 3600)
    assert all((t - 3.5 * 3600) % 86400 == 0 for t, _ in days)  # local midnights in Newfoundland


def test_zoom_limits():
    assert TimeAxis(0, 1, 100).zoom(1000, 0.5).end - TimeAxis(0, 1, 100).zoom(1000, 0.5).start == pytest.approx(0.1)
