"""What the detail panels show, computed in the core: times, events, subjects, bodies, answers."""

import json

from app.core.capture_details import body_view, event_nodes, hexdump, json_nodes, rfc8935_answer, subject_node, time_note
from app.core.catalogue import default_catalogue

SR = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def test_numeric_dates_get_an_iso_note_and_other_numbers_do_not():
    assert time_note("iat", 1_700_000_000) == "2023-11-14T22:13:20Z"
    assert time_note("event_timestamp", 0) == "1970-01-01T00:00:00Z"
    assert time_note("txn", 1_700_000_000) == ""
    assert time_note("iat", "1700000000") == "" and time_note("iat", True) == ""


def test_json_tree_keeps_each_value_for_copying():
    node = json_nodes({"a": [1, {"b": "x"}], "iat": 1_700_000_000})
    assert [c.key for c in node.children] == ["a", "iat"]
    assert node.children[0].children[1].raw == {"b": "x"}
    assert node.children[1].note.startswith("2023-11-14")


def test_events_carry_the_catalogue_title_description_and_claim_meanings():
    [event] = event_nodes({"events": {SR: {"event_timestamp": 1_700_000_000, "initiating_entity": "policy"}}})
    known = default_catalogue().lookup(SR)
    assert (event.key, event.value, event.note) == (SR, known.title, known.description)
    timestamp = next(c for c in event.children if c.key == "event_timestamp")
    assert timestamp.note.startswith("2023-11-14T22:13:20Z")


def test_an_unknown_event_says_so():
    [event] = event_nodes({"events": {"https://example.com/custom": {}}})
    assert event.value == "(not in the catalogue)"


def test_a_complex_subject_is_a_tree_of_its_members():
    node = subject_node({"format": "complex", "user": {"format": "email", "email": "jane@example.com"},
                         "device": {"format": "iss_sub", "iss": "https://idp", "sub": "d1"}})
    assert node.key == "complex"
    assert [(c.key, c.value) for c in node.children] == [
        ("user (email)", "jane@example.com"), ("device (iss_sub)", "iss=https://idp | sub=d1")]


def test_aliases_list_each_identifier():
    node = subject_node({"format": "aliases", "identifiers": [{"format": "email", "email": "a@b"},
                                                              {"format": "phone_number", "phone_number": "+1"}]})
    assert [(c.key, c.value) for c in node.children] == [("email", "a@b"), ("phone_number", "+1")]


def test_bodies_are_shown_as_json_jws_text_or_hex():
    assert body_view(b'{"a":1}').text == json.dumps({"a": 1}, indent=2)
    jws = body_view(b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    assert jws.mode == "jws" and jws.parts == ("eyJhbGciOiJFUzI1NiJ9", "e30", "c2ln")
    assert body_view(b"hello").mode == "text"
    binary = body_view(b"\x00\xffab")
    assert binary.mode == "hex" and binary.text.startswith("00000000  00 ff 61 62")
    assert body_view(b"").mode == "empty"


def test_hexdump_stops_at_its_limit():
    assert hexdump(b"x" * 100, limit=32).endswith("… 68 more bytes")


def test_the_rfc8935_answer_names_what_a_fault_rule_replaced():
    capture = {"kind": "set", "response_status": 503, "response_body": b"", "rule": "down twice",
               "report": {"err": None}}
    assert rfc8935_answer(capture) == "Answered 503 (empty body) by the fault rule “down twice”; RFC 8935 asks for 202 (empty body)."
    capture = {"kind": "set", "response_status": 400, "response_body": b'{"err":"invalid_key"}', "rule": None,
               "report": {"err": "invalid_key", "description": "bad signature"}}
    assert rfc8935_answer(capture).startswith('Answered 400 {"err":"invalid_key"}')
    assert "does not apply" in rfc8935_answer({"kind": "webhook", "response_status": 200, "response_body": b"", "report": {}})


from hypothesis import given, settings, strategies as st

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_any_body_gets_a_view_and_never_raises(body, truncated):
    view = body_view(body, truncated=truncated)
    assert view.mode in ("empty", "json", "jws", "text", "hex")
    assert (view.mode == "empty") == (body == b"")


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_claims_and_subjects_decode_without_raising(value):
    json_nodes(value)
    event_nodes({"events": value} if not isinstance(value, dict) else {"events": {"https://x/y": value}})
    subject_node(value)
    subject_node({"format": "complex", "user": value})
