"""Planned (pure simulation) against actual (the real push deliverer at accelerated time)."""

from app.core.policy_lab import EndpointScript, simulate
from app.core.policy_run import run_actual
from app.core.retry import RetryPolicy, get_policy


async def test_actual_run_follows_the_planned_schedule_with_the_same_jitter():
    policy, script = get_policy("simulator"), EndpointScript.from_json([{"attempts": 2, "status": 503}])
    planned = simulate(policy, script, seed=4).timeline()
    actual = await run_actual(policy, script, speed=10, seed=4)
    assert [a.status for a in actual.attempts] == [a.status for a in planned.attempts] == [503, 503, 202]
    assert actual.state == "delivered"
    for p, a in zip(planned.attempts, actual.attempts):
        assert abs(a.started_at - p.started_at) < 0.6  # seconds of virtual time: real latency x10


async def test_hours_of_svix_backoff_run_in_seconds_and_match_the_plan():
    policy, script = get_policy("svix"), EndpointScript.from_json([{"until": "3h", "status": 503}])
    planned = simulate(policy, script).timeline()
    speed = 10000.0
    actual = await run_actual(policy, script, speed=speed)
    assert len(actual.attempts) == len(planned.attempts) == 6
    assert actual.state == "delivered"
    for p, a in zip(planned.attempts, actual.attempts):
        assert abs(a.started_at - p.started_at) <= 0.05 * speed + 0.01 * p.started_at


async def test_a_custom_policy_with_retry_after_ignored_is_what_the_engine_does():
    policy = RetryPolicy.from_json({"name": "stubborn", "delays": [1, 1], "honor_retry_after": False})
    script = EndpointScript.from_json([{"attempts": 1, "status": 429, "retry_after": 3600}])
    actual = await run_actual(policy, script, speed=5)
    assert [a.status for a in actual.attempts] == [429, 202]
    assert actual.attempts[1].started_at < 60  # the 1 h Retry-After was not waited for
