"""report_json: the stored report text is exactly json.dumps of the report."""

import json

from hypothesis import given, strategies as st

from app.core.store.captures import report_json
from app.core.verify import Check

text = st.text(max_size=40)
checks = st.lists(st.builds(Check, text, st.sampled_from(["pass", "fail", "warn", "skip"]), text), max_size=16)


@given(checks, st.none() | text, st.none() | text)
def test_same_text_as_json_dumps(found, err, description):
    report = {"verdict": "valid", "checks": found, "err": err, "description": description}
    assert report_json(report) == json.dumps(report)
    assert report_json(report) == json.dumps(report)  # second time from the table of known checks


def test_checks_as_objects_and_other_shapes_fall_back_to_json_dumps():
    as_objects = {"verdict": "invalid", "checks": [{"name": "jti", "status": "warn", "detail": "repeat"}], "err": None,
                  "description": None}
    other = {"verdict": "unverified", "checks": []}
    assert report_json(as_objects) == json.dumps(as_objects)
    assert report_json(other) == json.dumps(other)


def test_checks_added_to_a_report_are_checks():
    from app.core.verify import VerificationReport

    report = VerificationReport()
    report.add("alg", "pass", "ES256")
    assert report.checks == [Check("alg", "pass", "ES256")] and report.checks[0].detail == "ES256"
    assert type(report.checks[0]) is Check
