"""Pure parts of the simulator: stream configuration rules, SET building, fault knobs, poll requests, keys."""

import json
import sqlite3

import jwt
import pytest

from app.core.store.schema import open_workspace
from app.core.transmitter.keys import KeyRing
from app.core.transmitter.poll import PollRequestError, parse_poll_request
from app.core.transmitter.sets import SetRequest, build_claims, check_faults, FaultError, sign
from app.core.transmitter.streams import POLL, PUSH, StreamError, create_stream, update_stream

ISS = "http://127.0.0.1:1"
SR = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def make(body, **kw):
    return create_stream(body, issuer=ISS, supported=[SR], poll_url=ISS + "/ssf/poll/s1", now=1.0, stream_id="s1", **kw)


def test_events_delivered_is_requested_intersected_with_supported():
    stream, _ = make({"delivery": {"method": PUSH, "endpoint_url": "http://x/e"},
                      "events_requested": ["urn:unknown", SR]})
    assert stream.events_delivered == [SR]


def test_create_refuses_transmitter_supplied_fields():
    for name in ("stream_id", "events_delivered", "min_verification_interval"):
        with pytest.raises(StreamError) as err:
            make({name: "x"})
        assert err.value.status == 400 and name in err.value.message


def test_push_needs_an_absolute_endpoint_url():
    with pytest.raises(StreamError, match="endpoint_url"):
        make({"delivery": {"method": PUSH}})
    with pytest.raises(StreamError, match="absolute"):
        make({"delivery": {"method": PUSH, "endpoint_url": "/relative"}})


def test_authorization_header_with_its_name_is_tolerated_and_noted():
    stream, notes = make({"delivery": {"method": PUSH, "endpoint_url": "http://x/e",
                                       "authorization_header": "Authorization: Bearer t"}})
    assert stream.delivery["authorization_header"] == "Bearer t"
    assert any("258" in n for n in notes)


def test_switching_a_push_stream_to_poll_gets_the_transmitter_poll_url():
    stream, _ = make({"delivery": {"method": PUSH, "endpoint_url": "http://x/e"}})
    update_stream(stream, {"stream_id": "s1", "delivery": {"method": POLL}}, replace=False, supported=[SR],
                  poll_url=ISS + "/ssf/poll/s1", now=2.0)
    assert stream.delivery == {"method": POLL, "endpoint_url": ISS + "/ssf/poll/s1"}


def test_events_delivered_sent_back_must_match_the_value_before_the_update():
    stream, _ = make({"delivery": {"method": PUSH, "endpoint_url": "http://x/e"}, "events_requested": [SR]})
    update_stream(stream, {"stream_id": "s1", "events_requested": [], "events_delivered": [SR]}, replace=False,
                  supported=[SR], poll_url="", now=2.0)
    assert stream.events_delivered == []
    with pytest.raises(StreamError, match="events_delivered"):
        update_stream(stream, {"stream_id": "s1", "events_delivered": [SR]}, replace=False, supported=[SR],
                      poll_url="", now=3.0)


def req(**kw):
    return SetRequest(ISS, "aud-1", SR, {"initiating_entity": "policy"}, {"format": "email", "email": "a@b.c"}, 1000.0, **kw)


def test_clean_claims_follow_the_ssf_profile():
    claims = build_claims(req())
    assert set(claims) == {"iss", "iat", "jti", "aud", "txn", "sub_id", "events"}
    assert claims["iat"] == 1000 and list(claims["events"]) == [SR]


def test_claim_faults_break_exactly_their_claim():
    clean = build_claims(req(jti="j", txn="t"))
    for fault, name in (("wrong_aud", "aud"), ("wrong_iss", "iss"), ("iat_future", "iat"), ("iat_past", "iat")):
        broken = build_claims(req(jti="j", txn="t"), [fault])
        assert {k for k in clean if clean[k] != broken.get(k)} == {name}, fault
    legacy = build_claims(req(), ["legacy_shape"])
    assert "sub_id" not in legacy and legacy["events"][SR]["subject"] == {"format": "email", "email": "a@b.c"}


def test_unknown_faults_are_refused_by_name():
    with pytest.raises(FaultError, match="teleport"):
        check_faults(["wrong_aud", "teleport"])


@pytest.fixture
def ring(tmp_path):
    conn = open_workspace(tmp_path / "k.signalscope")
    return KeyRing.load(conn, alg="ES256", clock=lambda: 5000.0), conn


def test_signed_set_verifies_with_pyjwt_and_signing_faults_do_not(ring):
    keys, _ = ring
    public = keys.jwks()["keys"][0]
    claims = build_claims(req())
    good = sign(claims, keys.active)
    assert jwt.get_unverified_header(good) == {"alg": "ES256", "typ": "secevent+jwt", "kid": keys.active.kid}
    assert jwt.decode(good, jwt.PyJWK(public), algorithms=["ES256"], audience="aud-1")["jti"] == claims["jti"]
    for fault in ("bad_signature", "unknown_key"):
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(sign(claims, keys.active, [fault]), jwt.PyJWK(public), algorithms=["ES256"], audience="aud-1")
    assert "typ" not in jwt.get_unverified_header(sign(claims, keys.active, ["omit_typ"]))
    assert jwt.get_unverified_header(sign(claims, keys.active, ["alg_confusion"]))["alg"] == "HS256"


def test_rotation_keeps_the_old_key_published_for_its_grace_period(ring):
    keys, conn = ring
    now = [5000.0]
    keys._clock = lambda: now[0]
    old = keys.active.kid
    new, op = keys.rotate(grace=60)
    op(conn)
    assert keys.active.kid == new.kid != old
    assert {k["kid"] for k in keys.jwks()["keys"]} == {old, new.kid}
    now[0] += 61
    assert {k["kid"] for k in keys.jwks()["keys"]} == {new.kid}
    assert conn.execute("SELECT count(*) FROM signing_keys WHERE retired_at IS NOT NULL").fetchone()[0] == 1


@pytest.mark.parametrize("alg", ["RS256", "PS256", "EdDSA"])
def test_each_selectable_algorithm_signs_sets_pyjwt_accepts(tmp_path, alg):
    keys = KeyRing.load(open_workspace(tmp_path / f"{alg}.signalscope"), alg=alg)
    public = keys.jwks()["keys"][0]
    token = sign(build_claims(req()), keys.active)
    assert jwt.decode(token, jwt.PyJWK(public), algorithms=[alg], audience="aud-1")["iss"] == ISS
    if alg != "EdDSA":
        assert len(jwt.utils.base64url_decode(public["n"])) * 8 >= 2048


def test_poll_request_parsing():
    req_ = parse_poll_request({"maxEvents": 3, "ack": ["a"], "setErrs": {"b": {"err": "invalid_key"}}})
    assert (req_.max_events, req_.ack, req_.set_errs["b"]["err"]) == (3, ["a"], "invalid_key")
    assert parse_poll_request(None).return_immediately is False
    listed = parse_poll_request({"setErrs": [{"jti": "c", "err": "invalid_request"}]})
    assert "c" in listed.set_errs and listed.notes
    for bad in ({"maxEvents": -1}, {"returnImmediately": "yes"}, {"setErrs": {"x": {"description": "no err"}}}, []):
        with pytest.raises(PollRequestError):
            parse_poll_request(bad)
