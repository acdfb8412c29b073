import pytest

from app.core.faults import FaultRuleError, FaultRules, RequestFacts, parse_rule

SR = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def facts(**kw):
    base = dict(method="POST", path="/events", headers={"x-test": "1"}, event_types=(SR,), issuer="https://idp")
    base.update(kw)
    return RequestFacts(**base)


def test_first_matching_enabled_rule_decides():
    rules = FaultRules.from_json([
        {"name": "off", "enabled": False, "status": 500},
        {"name": "other-path", "match": {"path": "/stripe*"}, "status": 502},
        {"name": "hit", "match": {"event_type": "session-revoked", "issuer": "https://idp", "header": {"X-Test": "1"}}, "status": 503},
        {"name": "later", "status": 504},
    ])
    assert rules.decide(facts()).rule == "hit"
    assert rules.decide(facts(issuer="https://else")).rule == "later"


def test_times_limits_a_rule_then_requests_pass():
    rules = FaultRules.from_json({"rules": [{"name": "fail-twice", "status": 503, "times": 2}]})
    assert [getattr(rules.decide(facts()), "status", None) for _ in range(4)] == [503, 503, None, None]


def test_probability_uses_the_injected_random_source():
    draws = iter([0.1, 0.9, 0.29, 0.3])
    rules = FaultRules.from_json([{"name": "sometimes", "status": 500, "probability": 0.3}], rng=lambda: next(draws))
    assert [rules.decide(facts()) is not None for _ in range(4)] == [True, False, True, False]


def test_err_builds_an_rfc8935_body_and_retry_after_a_header():
    decision = FaultRules.from_json([{"name": "bad", "err": "invalid_audience"}]).decide(facts())
    assert decision.status == 400 and b'"err": "invalid_audience"' in decision.body
    decision = FaultRules.from_json([{"name": "slow down", "retry_after": 120}]).decide(facts())
    assert decision.status == 429 and ("Retry-After", "120") in decision.headers


def test_delay_only_keeps_the_normal_answer():
    decision = FaultRules.from_json([{"name": "slow", "delay_ms": 250}]).decide(facts())
    assert decision.status is None and decision.delay_ms == 250


@pytest.mark.parametrize("entry,fragment", [
    ({}, "name"),
    ({"name": "x", "status": 99}, "status"),
    ({"name": "x", "err": "nope"}, "err"),
    ({"name": "x", "probability": 2}, "probability"),
    ({"name": "x", "match": {"verb": "GET"}}, "match"),
    ({"name": "x", "retry": 1}, "unknown field"),
])
def test_bad_rules_are_refused_with_the_rule_and_field_named(entry, fragment):
    with pytest.raises(FaultRuleError, match=fragment):
        parse_rule(entry)


def test_rules_round_trip_through_json():
    source = [{"name": "a", "enabled": True, "match": {"path": "/x"}, "status": 503, "retry_after": 2, "times": 3}]
    assert FaultRules.from_json(source).to_json() == source


def test_load_reports_the_json_error_position(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text('[{"name": "x",]')
    with pytest.raises(FaultRuleError, match="line 1 column"):
        FaultRules.load(str(path))
