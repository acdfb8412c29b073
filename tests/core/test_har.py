"""HAR entries we write read back as the same request, whatever the bytes."""

import json

from hypothesis import given, settings, strategies as st

from app.core.har import har_entry, parse_har

header_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
header_value = st.text(max_size=20).filter(lambda v: "\r" not in v and "\n" not in v)


@settings(max_examples=80)
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE"]),
    path=st.text(max_size=20).map(lambda p: "/" + p),
    query=st.text(max_size=20),
    headers=st.lists(st.tuples(header_name, header_value), max_size=5),
    body=st.binary(max_size=60),
    status=st.none() | st.integers(100, 599),
    received_at=st.floats(0, 4e9),
)
def test_har_entry_reads_back_as_the_same_request(method, path, query, headers, body, status, received_at):
    capture = {"id": 1, "origin": "push", "received_at": received_at, "method": method, "path": path, "query": query,
               "headers": headers, "body": body, "body_size": len(body), "body_truncated": False, "peer": "127.0.0.1",
               "content_type": None, "kind": "webhook", "response_status": status, "response_headers": [("X-A", "1")],
               "response_body": b"\x00\xff" if status else b"", "duration_ms": 1.5, "report": {}, "verdict": "unverified",
               "set_header": None, "set_claims": None, "jti": None, "issuer": None, "event_types": [], "subject": None,
               "repeat_of": None, "rule": None}
    [request], failures = parse_har(json.loads(json.dumps({"log": {"entries": [har_entry(capture)]}})))
    assert failures == []
    assert (request.method, request.path, request.query, request.headers, request.body) == (method, path, query, headers, body)
    assert (request.response_status, request.response_body, request.received_at) == (status, capture["response_body"], received_at)
