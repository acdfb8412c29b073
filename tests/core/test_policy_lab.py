import pytest

from app.core.policy_lab import EndpointScript, ScriptError, SCRIPT_PRESETS, parse_duration, simulate
from app.core.retry import PRESETS, PolicyError, RetryPolicy, get_policy


def script(steps):
    return EndpointScript.from_json(steps)


def test_svix_against_an_endpoint_down_for_3_hours():
    sim = simulate(get_policy("svix"), script([{"until": "3h", "status": 503}]))
    # Svix: immediately, +5 s, +5 m, +30 m, +2 h, +5 h ... -> the attempt at 2h35m5s fails, the next (+5 h) succeeds
    assert [round(a.at) for a in sim.attempts] == [0, 5, 305, 2105, 9305, 27305]
    assert [a.status for a in sim.attempts][-2:] == [503, 202]
    assert sim.state == "delivered"


def test_retry_after_longer_than_the_backoff_wins():
    sim = simulate(get_policy("simulator"), script([{"attempts": 1, "status": 429, "retry_after": 120}]), seed=3)
    assert sim.attempts[1].at == pytest.approx(120)
    timeline = sim.timeline()
    assert timeline.gaps[0].cause == "retry-after" and timeline.gaps[0].label == "2 min (Retry-After)"


def test_410_retires_and_400_is_not_retried():
    assert simulate(get_policy("svix"), script(SCRIPT_PRESETS["410 at attempt 4"])).state == "retired"
    sim = simulate(get_policy("svix"), script([{"status": 400}]))
    assert len(sim.attempts) == 1 and sim.state == "failed"


def test_github_gives_up_after_one_attempt_and_slack_after_four():
    assert len(simulate(get_policy("github"), script([{"status": 500}])).attempts) == 1
    assert [a.at for a in simulate(get_policy("slack"), script([{"status": 500}])).attempts] == [0, 0, 60, 360]


def test_stripe_like_stops_within_three_days():
    sim = simulate(get_policy("stripe"), script([{"status": 500}]))
    assert sim.state == "failed" and sim.attempts[-1].at <= 3 * 86400 and "limit" in sim.reason


def test_same_seed_same_schedule():
    a = simulate(get_policy("standard-webhooks"), script([{"status": 500}]), seed=7)
    b = simulate(get_policy("standard-webhooks"), script([{"status": 500}]), seed=7)
    assert [x.at for x in a.attempts] == [x.at for x in b.attempts]


def test_every_preset_finishes_against_every_script_preset():
    for policy in PRESETS.values():
        for steps in SCRIPT_PRESETS.values():
            sim = simulate(policy, script(steps))
            assert sim.state in ("delivered", "failed", "retired")


@pytest.mark.parametrize("value,seconds", [("90s", 90), ("5m", 300), ("3h", 10800), ("2d", 172800), (12, 12), ("250ms", 0.25)])
def test_durations(value, seconds):
    assert parse_duration(value, "x") == seconds


@pytest.mark.parametrize("steps,fragment", [({}, "list"), ([{"status": 99}], "status"), ([{"until": "soon"}], "duration"),
                                            ([{"attempt": 0}], "attempt"), ([{"state": 1}], "unknown")])
def test_bad_scripts_say_which_step(steps, fragment):
    with pytest.raises(ScriptError, match=fragment):
        EndpointScript.from_json(steps)


def test_linear_and_fixed_growth():
    linear = RetryPolicy.from_json({"base": 10, "growth": "linear", "max_attempts": 4})
    fixed = RetryPolicy.from_json({"base": 10, "growth": "fixed", "max_attempts": 4})
    assert [linear.base_delay(k) for k in (1, 2, 3)] == [10, 20, 30]
    assert [fixed.base_delay(k) for k in (1, 2, 3)] == [10, 10, 10]
    assert linear.base_delay(4) is None


def test_policy_that_retries_only_some_statuses_stops_on_others():
    policy = RetryPolicy.from_json({"name": "only-503", "delays": [5, 5], "retry_statuses": [503]})
    assert len(simulate(policy, script([{"attempts": 1, "status": 503}])).attempts) == 2
    stopped = simulate(policy, script([{"status": 500}]))
    assert len(stopped.attempts) == 1 and "retries only 503" in stopped.reason


def test_policy_json_round_trips_and_bad_fields_are_named():
    policy = get_policy("convoy")
    assert RetryPolicy.from_json(policy.to_json()) == policy
    for data, fragment in (({"base": -1}, "base"), ({"delays": ["x"]}, "delays"), ({"growth": "cubic", "base": 1}, "growth"),
                           ({"base": 1, "colour": "red"}, "colour"), ({"base": 1, "max_attempts": 0}, "max_attempts")):
        with pytest.raises(PolicyError, match=fragment):
            RetryPolicy.from_json(data)
