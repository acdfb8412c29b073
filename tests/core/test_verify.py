"""Each verification check, driven by tokens PyJWT signs (the independent peer)."""

import time

import jwt
import pytest
from jwcrypto.jwk import JWK

from app.core.jose import b64url_encode, decode_compact
from app.core.trust import parse_jwks
from app.core.verify import INVALID, UNVERIFIED, VALID, IssuerKeySet, SetContext, verify_set
from peers import CREDENTIAL_CHANGE, PeerIssuer

AUD = "https://receiver.example.com"


def keyset(peer: PeerIssuer) -> IssuerKeySet:
    keys = parse_jwks(peer.jwks, where="test")
    return IssuerKeySet(peer.issuer, {k["kid"]: k for k in keys}, keys, "test JWKS")


def run(token: str, peer: PeerIssuer | None, **ctx):
    ctx.setdefault("now", time.time())
    ctx.setdefault("audiences", (AUD,))
    keys = keyset(peer) if peer is not None else None
    return verify_set(decode_compact(token), SetContext(keys=keys, trusted_issuers=[peer.issuer] if peer else [], **ctx))


def check(report, name):
    return next(c for c in report.checks if c.name == name)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_clean_set_from_pyjwt_is_valid_for_each_algorithm(alg):
    peer = PeerIssuer(alg=alg)
    report = run(peer.set(), peer)
    assert report.verdict == VALID, report.to_json()
    assert report.err is None
    assert check(report, "signature").status == "pass"


def test_tampered_payload_fails_signature_with_invalid_key():
    peer = PeerIssuer()
    header, payload, sig = peer.set().split(".")
    claims = decode_compact(peer.set()).claims
    claims["sub_id"] = {"format": "email", "email": "mallory@example.com"}
    import json

    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    report = run(forged, peer)
    assert check(report, "signature").status == "fail"
    assert report.verdict == INVALID
    assert report.err == "invalid_key"


def test_unknown_kid_fails_key_check():
    peer = PeerIssuer()
    token = peer.sign(peer.claims(), headers={"kid": "rotated-away"})
    report = run(token, peer)
    assert check(report, "key").status == "fail"
    assert "rotated-away" in check(report, "key").detail
    assert report.err == "invalid_key"


def test_signature_by_another_key_with_same_kid_fails():
    peer, other = PeerIssuer(), PeerIssuer()
    token = other.sign(peer.claims(), headers={"kid": peer.kid})
    assert run(token, peer).err == "invalid_key"


def test_unknown_issuer_is_unverified_and_answers_invalid_issuer():
    peer = PeerIssuer()
    report = run(peer.set(), None)
    assert report.verdict == UNVERIFIED
    assert report.err == "invalid_issuer"
    assert check(report, "signature").status == "skip"


def test_alg_none_is_rejected():
    peer = PeerIssuer()
    token = jwt.encode(peer.claims(), key=None, algorithm="none", headers={"typ": "secevent+jwt"})
    report = run(token, peer)
    assert check(report, "alg").status == "fail"
    assert report.verdict == INVALID
    assert report.err == "invalid_request"


def test_hs256_keyed_with_the_public_key_is_key_confusion():
    peer = PeerIssuer(alg="RS256")
    header = b64url_encode(b'{"alg":"HS256","typ":"secevent+jwt","kid":"%s"}' % peer.kid.encode())
    import hashlib
    import hmac
    import json

    payload = b64url_encode(json.dumps(peer.claims()).encode())
    public_pem = JWK(**peer.public_jwk).export_to_pem()
    sig = b64url_encode(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    report = run(f"{header}.{payload}.{sig}", peer)
    assert check(report, "key").status == "fail"
    assert "confusion" in check(report, "key").detail
    assert report.err == "invalid_key"


@pytest.mark.parametrize("typ,status", [("secevent+jwt", "pass"), ("application/secevent+jwt", "pass"), ("JWT", "warn"), (None, "warn"), ("at+jwt", "fail")])
def test_typ_header(typ, status):
    peer = PeerIssuer()
    token = peer.sign(peer.claims(), headers={"typ": typ})
    assert check(run(token, peer), "typ").status == status


def test_wrong_audience_is_invalid_audience():
    peer = PeerIssuer()
    report = run(peer.set(aud="https://someone-else.example"), peer)
    assert check(report, "audience").status == "fail"
    assert report.err == "invalid_audience"


def test_audience_in_array_passes_and_no_configured_audience_skips():
    peer = PeerIssuer()
    assert check(run(peer.set(aud=["x", AUD]), peer), "audience").status == "pass"
    assert check(run(peer.set(aud="x"), peer, audiences=()), "audience").status == "skip"


def test_iat_in_the_future_beyond_skew_fails():
    peer = PeerIssuer()
    report = run(peer.set(iat=int(time.time()) + 3600), peer)
    assert check(report, "iat").status == "fail"
    assert report.err == "invalid_request"


def test_iat_days_in_the_past_warns_as_stale_but_stays_valid():
    peer = PeerIssuer()
    report = run(peer.set(iat=int(time.time()) - 3 * 86400), peer)
    assert check(report, "iat").status == "warn"
    assert "stale" in check(report, "iat").detail
    assert report.verdict == "valid"


def test_missing_jti_fails():
    peer = PeerIssuer()
    claims = peer.claims()
    del claims["jti"]
    assert check(run(peer.sign(claims), peer), "jti").status == "fail"


def test_repeat_is_a_warning_not_a_failure():
    peer = PeerIssuer()
    report = run(peer.set(), peer, repeat_of=7)
    assert check(report, "jti").status == "warn"
    assert "#7" in check(report, "jti").detail
    assert report.verdict == VALID


def test_two_events_warn():
    peer = PeerIssuer()
    claims = peer.claims()
    claims["events"][CREDENTIAL_CHANGE] = {"credential_type": "password", "change_type": "update"}
    assert check(run(peer.sign(claims), peer), "events").status == "warn"


def test_empty_events_fail():
    peer = PeerIssuer()
    assert check(run(peer.set(events={}), peer), "events").status == "fail"


def test_event_schema_flags_missing_required_claim():
    peer = PeerIssuer()
    report = run(peer.set(event=CREDENTIAL_CHANGE, payload={"change_type": "update"}), peer)
    assert check(report, "event_schema").status == "fail"
    assert "credential_type" in check(report, "event_schema").detail
    assert report.err == "invalid_request"


def test_event_schema_flags_bad_enum_value():
    peer = PeerIssuer()
    payload = {"credential_type": "password", "change_type": "explode"}
    assert check(run(peer.set(event=CREDENTIAL_CHANGE, payload=payload), peer), "event_schema").status == "fail"


def test_event_timestamp_in_milliseconds_warns():
    peer = PeerIssuer()
    payload = {"event_timestamp": int(time.time() * 1000)}
    assert check(run(peer.set(payload=payload), peer), "event_schema").status == "warn"


def test_missing_sub_id_fails_and_legacy_subject_warns():
    peer = PeerIssuer()
    claims = peer.claims()
    del claims["sub_id"]
    assert check(run(peer.sign(claims), peer), "sub_id").status == "fail"
    legacy = peer.claims(payload={"subject": {"subject_type": "iss-sub", "iss": "https://idp", "sub": "u1"}})
    del legacy["sub_id"]
    report = run(peer.sign(legacy), peer)
    assert check(report, "sub_id").status == "warn"
    assert "iss_sub" in check(report, "sub_id").detail


def test_invalid_subject_format_fails():
    peer = PeerIssuer()
    report = run(peer.set(sub_id={"format": "email"}), peer)
    assert check(report, "sub_id").status == "fail"


def test_sub_and_exp_are_flagged():
    peer = PeerIssuer()
    report = run(peer.set(sub="jane", exp=int(time.time()) + 60), peer)
    assert check(report, "forbidden_claims").status == "warn"


def test_jwe_is_recognised_as_encrypted():
    token = decode_compact("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d")
    report = verify_set(token, SetContext(now=time.time()))
    assert token.kind == "jwe"
    assert report.verdict == UNVERIFIED
    assert "encrypted" in report.checks[0].detail


# RFC 7515 Appendix A: JWS examples with their keys (not SETs, so only the JWS layer passes).
RFC7515_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
RFC7515_A1 = ("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + RFC7515_PAYLOAD + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
              {"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})
RFC7515_A3 = ("eyJhbGciOiJFUzI1NiJ9." + RFC7515_PAYLOAD + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
              {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})


@pytest.mark.parametrize("token,jwk", [RFC7515_A1, RFC7515_A3], ids=["A.1-HS256", "A.3-ES256"])
def test_rfc7515_examples_verify_at_the_jws_layer(token, jwk):
    key = JWK(**jwk)
    keys = IssuerKeySet("joe", {}, [key], "RFC 7515")
    report = verify_set(decode_compact(token), SetContext(now=1300819380, keys=keys))
    assert check(report, "signature").status == "pass"
    assert report.verdict == INVALID  # not a SET: no events, no sub_id


def test_rfc7515_example_with_a_flipped_signature_bit_fails():
    token, jwk = RFC7515_A3
    head, _, sig = token.rpartition(".")
    bad = head + "." + ("E" if sig[0] != "E" else "F") + sig[1:]
    keys = IssuerKeySet("joe", {}, [JWK(**jwk)], "RFC 7515")
    assert check(verify_set(decode_compact(bad), SetContext(now=1300819380, keys=keys)), "signature").status == "fail"


VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"


def test_verification_state_is_checked_only_for_streams_we_asked():
    peer = PeerIssuer()
    token = peer.set(event=VERIFICATION, payload={"state": "abc"}, sub_id={"format": "opaque", "id": "s1"})
    assert check(run(token, peer, expected_states={"s1": {"abc"}}), "verification_state").status == "pass"
    mismatch = run(token, peer, expected_states={"s1": {"xyz"}})
    assert check(mismatch, "verification_state").status == "fail" and mismatch.err == "invalid_state"
    assert check(run(token, peer, expected_states={"other": {"abc"}}), "verification_state").status == "skip"
