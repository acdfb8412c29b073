from hypothesis import given, strategies as st

from app.core.jose import b64url_encode, decode_compact


def test_decodes_header_and_claims():
    token = b64url_encode(b'{"alg":"ES256"}') + "." + b64url_encode(b'{"jti":"1"}') + "." + b64url_encode(b"sig")
    decoded = decode_compact(token)
    assert decoded.ok and decoded.header == {"alg": "ES256"} and decoded.claims == {"jti": "1"}


def test_explains_bad_shapes():
    assert "3 dot-separated parts, found 2" in decode_compact("a.b").error
    assert "empty" in decode_compact("").error
    assert "not JSON" in decode_compact(b64url_encode(b"{") + ".e30.").error
    assert "not a JSON object" in decode_compact(b64url_encode(b"[1]") + ".e30.").error
    assert "base64url" in decode_compact("a+b.e30.").error


def test_payload_that_is_not_json_keeps_the_header():
    decoded = decode_compact(b64url_encode(b'{"alg":"RS256"}') + "." + b64url_encode(b"hello") + ".c2ln")
    assert decoded.header == {"alg": "RS256"}
    assert decoded.claims is None and "payload" in decoded.error


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    decoded = decode_compact(data)
    assert decoded.ok or decoded.error


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", max_size=120))
def test_arbitrary_base64url_text_never_raises(text):
    decoded = decode_compact(text)
    assert decoded.ok or decoded.error


def test_payload_text_is_kept_as_the_token_carried_it():
    payload = b'{"jti": "1",  "iss":"https://idp.example.com/\\u00e9"}'
    decoded = decode_compact(b64url_encode(b'{"alg":"ES256"}') + "." + b64url_encode(payload) + "." + b64url_encode(b"s"))
    assert decoded.claims_text == payload.decode() and decoded.claims["jti"] == "1"


@given(st.text(max_size=60))
def test_b64url_decode_agrees_with_the_standard_library(text):
    import base64

    from app.core.jose import b64url_decode

    try:
        expected = ("ok", base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) if not any(c in text for c in "+/=") else None
    except ValueError:
        expected = ("error",)
    try:
        got = ("ok", b64url_decode(text))
    except ValueError:
        got = ("error",) if expected is not None else None
    assert got == expected
