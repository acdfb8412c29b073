"""SSF-NOTES section 12 test vectors, signed by PyJWT, through the verifier."""

import copy

import pytest

from app.core.jose import decode_compact
from app.core.verify import INVALID, VALID, SetContext, verify_set
from peers import PeerIssuer
from test_verify import check, keyset

TV1 = {"iss": "https://idp.example.com/", "jti": "756E69717565206964656E746966696572", "iat": 1520364019, "txn": "8675309",
       "aud": "636C69656E745F6964",
       "sub_id": {"format": "complex",
                  "user": {"format": "iss_sub", "iss": "https://idp.example.com/3957ea72-1b66-44d6-a044-d805712b9288/", "sub": "jane.smith@example.com"},
                  "device": {"format": "iss_sub", "iss": "https://idp.example.com/3957ea72-1b66-44d6-a044-d805712b9288/", "sub": "e9297990-14d2-42ec-a4a9-4036db86509a"}},
       "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {
           "initiating_entity": "policy", "reason_admin": {"en": "Policy Violation: C076E82F"},
           "reason_user": {"en": "Land speed violation.", "es": "Violación de velocidad en tierra."}, "event_timestamp": 1600975810}}}
TV2 = {"jti": "123456", "iss": "https://transmitter.example.com", "aud": "receiver.example.com", "iat": 1493856000,
       "sub_id": {"format": "opaque", "id": "f67e39a0a4d34d56b3aa1bc4cff0069f"},
       "events": {"https://schemas.openid.net/secevent/ssf/event-type/verification": {"state": "VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo="}}}
TV3 = {"jti": "123456", "iss": "https://transmitter.example.com", "aud": "receiver.example.com", "iat": 1493856000,
       "sub_id": {"format": "opaque", "id": "f67e39a0a4d34d56b3aa1bc4cff0069f"},
       "events": {"https://schemas.openid.net/secevent/ssf/event-type/stream-updated": {"status": "paused", "reason": "Internal error"}}}
TV4 = {"iss": "https://idp.example.com/3456789/", "jti": "07efd930f0977e4fcc1149a733ce7f78", "iat": 1615305159,
       "aud": "https://sp.example2.net/caep", "txn": "8675309",
       "sub_id": {"format": "iss_sub", "iss": "https://idp.example.com/3456789/", "sub": "jane.smith@example.com"},
       "events": {"https://schemas.openid.net/secevent/caep/event-type/credential-change": {
           "credential_type": "fido2-roaming", "change_type": "create", "fido2_aaguid": "accced6a-63f5-490a-9eea-e59bc1896cfc",
           "friendly_name": "Jane's USB authenticator", "initiating_entity": "user",
           "reason_admin": {"en": "User self-enrollment"}, "event_timestamp": 1615304991}}}
TV5 = {"iss": "https://idp.example.com/", "jti": "756E69717565206964656E746966696572", "iat": 1508184845, "aud": "636C69656E745F6964",
       "sub_id": {"format": "iss_sub", "iss": "https://idp.example.com/", "sub": "7375626A656374"},
       "events": {"https://schemas.openid.net/secevent/risc/event-type/account-disabled": {"reason": "hijacking"}}}
TV6 = ("eyJ0eXAiOiJzZWNldmVudCtqd3QiLCJhbGciOiJub25lIn0.eyJqdGkiOiI0ZDM1NTllYzY3NTA0YWFiYTY1ZDQwYjAzNjNmYWFkOCIsImlhdCI6MTQ1ODQ5NjQwNCwiaXNzIjoiaHR0cHM6Ly9zY2ltLmV4YW1wbGUuY29tIiwiYXVkIjpbImh0dHBzOi8vc2NpbS5leGFtcGxlLmNvbS9GZWVkcy85OGQ1MjQ2MWZhNWJiYzg3OTU5M2I3NzU0IiwiaHR0cHM6Ly9zY2ltLmV4YW1wbGUuY29tL0ZlZWRzLzVkNzYwNDUxNmIxZDA4NjQxZDc2NzZlZTciXSwiZXZlbnRzIjp7InVybjppZXRmOnBhcmFtczpzY2ltOmV2ZW50OmNyZWF0ZSI6eyJyZWYiOiJodHRwczovL3NjaW0uZXhhbXBsZS5jb20vVXNlcnMvNDRmNjE0MmRmOTZiZDZhYjYxZTc1MjFkOSIsImF0dHJpYnV0ZXMiOlsiaWQiLCJuYW1lIiwidXNlck5hbWUiLCJwYXNzd29yZCIsImVtYWlscyJdfX19.")


@pytest.mark.parametrize("vector", [TV1, TV2, TV3, TV4, TV5], ids=["TV1-complex", "TV2-verification", "TV3-stream-updated", "TV4-credential-change", "TV5-account-disabled"])
def test_spec_examples_signed_by_pyjwt_are_valid(vector):
    peer = PeerIssuer(issuer=vector["iss"], alg="RS256")
    report = verify_set(decode_compact(peer.sign(copy.deepcopy(vector))), SetContext(now=1700000000, keys=keyset(peer)))
    assert report.verdict == VALID, report.to_json()
    assert check(report, "event_schema").status in ("pass", "skip")


def test_verification_vector_without_opaque_subject_fails():
    bad = copy.deepcopy(TV2)
    bad["sub_id"] = {"format": "email", "email": "x@example.com"}
    peer = PeerIssuer(issuer=bad["iss"])
    report = verify_set(decode_compact(peer.sign(bad)), SetContext(now=1700000000, keys=keyset(peer)))
    assert check(report, "sub_id").status == "fail"


def test_rfc8417_unsecured_example_is_rejected():
    token = decode_compact(TV6)
    assert token.claims["jti"] == "4d3559ec67504aaba65d40b0363faad8"
    report = verify_set(token, SetContext(now=1700000000))
    assert report.verdict == INVALID
    assert check(report, "alg").status == "fail"
    assert check(report, "sub_id").status == "fail"
    assert report.err == "invalid_request"
