"""The import readers on arbitrary input: they report, they never crash."""

import json

from hypothesis import given, settings, strategies as st

from app.core.import_formats import ImportFormatError, detect_format, parse_import

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def read(data):
    try:
        return parse_import(data)
    except ImportFormatError as exc:
        assert str(exc)
        return None


@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_read_or_refused_with_a_sentence(data):
    read(data)


@settings(max_examples=60)
@given(st.lists(json_values, max_size=5))
def test_arbitrary_har_entries_become_requests_or_failures(entries):
    parsed = read(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    assert parsed.format == "har" and len(parsed.requests) + len(parsed.failures) == len(entries)


@settings(max_examples=60)
@given(st.lists(st.dictionaries(st.sampled_from(["http", "response", "received_at", "id"]), json_values, min_size=1),
                min_size=1, max_size=4))
def test_arbitrary_json_lines_become_requests_or_failures(lines):
    parsed = read("\n".join(json.dumps(line) for line in lines))
    assert parsed.format == "jsonl" and len(parsed.requests) + len(parsed.failures) == len(lines)


def test_format_is_told_by_content():
    assert detect_format('{"id": 1, "http": {}}\n{"id": 2}') == "jsonl"
    assert detect_format('{\n  "log": {"entries": []}\n}') == "har"
    assert detect_format('{"log": {"entries": []}}') == "har"
    assert detect_format("eyJhbGciOiJFUzI1NiJ9.e30.c2ln") == "jwt"
