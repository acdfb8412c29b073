import pytest
from hypothesis import given, strategies as st

from app.core.subjects import describe_subject, normalize_subject, subject_matches, validate_subject


@pytest.mark.parametrize("subject", [
    {"format": "account", "uri": "acct:example.user@service.example.com"},
    {"format": "email", "email": "user@example.com"},
    {"format": "iss_sub", "iss": "http://issuer.example.com/", "sub": "145234573"},
    {"format": "opaque", "id": "11112222333344445555"},
    {"format": "phone_number", "phone_number": "+12065550100"},
    {"format": "did", "url": "did:example:123456"},
    {"format": "uri", "uri": "https://user.example.com/"},
    {"format": "aliases", "identifiers": [{"format": "email", "email": "user@example.com"}, {"format": "phone_number", "phone_number": "+12065550100"}]},
    {"format": "jwt_id", "iss": "https://idp.example.com/123456789/", "jti": "B70BA622"},
    {"format": "saml_assertion_id", "issuer": "https://idp.example.com/", "assertion_id": "_8e8dc5f6"},
    {"format": "ip-addresses", "ip-addresses": ["10.29.37.75", "2001:db8::8a2e:370:7334"]},
    {"format": "complex", "user": {"format": "email", "email": "bar@example.com"}, "tenant": {"format": "iss_sub", "iss": "https://example.com/idp1", "sub": "1234"}},
    {"format": "catalog_item", "catalog_id": "c0384/winter/2354122"},
])
def test_valid_subjects(subject):
    assert validate_subject(subject) == []


@pytest.mark.parametrize("subject,fragment", [
    ({"format": "email"}, "email"),
    ({"format": "email", "email": "a@b", "extra": 1}, "extra"),
    ({"format": "account", "uri": "mailto:x"}, "acct:"),
    ({"format": "aliases", "identifiers": [{"format": "aliases", "identifiers": []}]}, "aliases"),
    ({"format": "complex"}, "at least one member"),
    ({"subject_type": "iss-sub", "iss": "a", "sub": "b"}, "subject_type"),
    ({"format": "phone", "phone": "+1"}, "legacy"),
    ("jane", "object"),
])
def test_invalid_subjects_say_why(subject, fragment):
    problems = validate_subject(subject)
    assert problems and any(fragment in p for p in problems)


def test_normalize_legacy_shapes():
    assert normalize_subject({"subject_type": "iss-sub", "iss": "a", "sub": "b"}) == {"format": "iss_sub", "iss": "a", "sub": "b"}
    assert normalize_subject({"format": "phone", "phone": "+1"}) == {"format": "phone_number", "phone_number": "+1"}
    legacy_complex = {"user": {"subject_type": "email", "email": "a@b"}}
    assert normalize_subject(legacy_complex) == {"format": "complex", "user": {"format": "email", "email": "a@b"}}


def test_complex_matching_treats_missing_members_as_wildcards():
    tenant = {"format": "iss_sub", "iss": "https://t", "sub": "T"}
    user = {"format": "email", "email": "u@x"}
    assert subject_matches({"format": "complex", "tenant": tenant}, {"format": "complex", "tenant": tenant, "user": user})
    g1 = {"format": "did", "url": "did:x:123456"}
    g2 = {"format": "did", "url": "did:x:9999999"}
    assert not subject_matches({"format": "complex", "user": user, "group": g1}, {"format": "complex", "user": user, "group": g2})
    assert subject_matches(user, {"format": "email", "email": "u@x"})
    assert not subject_matches(user, {"format": "email", "email": "v@x"})


def test_describe_subject():
    assert describe_subject({"format": "email", "email": "a@b"}) == "email:a@b"
    assert describe_subject({"format": "complex", "user": {"format": "email", "email": "a@b"}}) == "complex(user=email:a@b)"


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=10)


@given(json_values)
def test_validate_and_normalize_never_raise(value):
    assert isinstance(validate_subject(value), list)
    normalize_subject(value)
    describe_subject(value)
