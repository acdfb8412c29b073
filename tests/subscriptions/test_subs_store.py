"""Workspace tables for subscriptions (migration 4), and redaction of what is recorded."""

import json
import sqlite3

from hypothesis import given, strategies as st

from app.core.store.schema import MIGRATIONS, SCHEMA_VERSION, open_workspace
from app.core.subscriptions import AuthSpec
from app.core.subscriptions.client import normalize_config
from app.core.subscriptions.exchanges import REDACTED, SECRET_MEMBERS, redact_body, redact_headers, redact_json


def test_a_workspace_from_before_subscriptions_gains_the_tables(tmp_path):
    path = tmp_path / "old.signalscope"
    conn = sqlite3.connect(path)
    for number, script in sorted(MIGRATIONS):
        if number <= 2:
            conn.executescript(script)
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    conn = open_workspace(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"transmitters", "transmitter_exchanges"} <= tables
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == max(n for n, _ in MIGRATIONS)


def test_authorization_keeps_only_its_scheme():
    assert redact_headers([("Authorization", "Bearer abc"), ("Accept", "x")]) == \
        [("Authorization", "Bearer [redacted]"), ("Accept", "x")]
    assert redact_headers([("authorization", "opaque")]) == [("authorization", REDACTED)]


def test_form_bodies_lose_their_client_secret():
    assert redact_body(b"grant_type=client_credentials&client_secret=hunter2",
                       "application/x-www-form-urlencoded") == "grant_type=client_credentials&client_secret=%5Bredacted%5D"


def test_an_auth_spec_never_shows_its_secrets():
    spec = AuthSpec(kind="client_credentials", token_endpoint="https://idp/t", client_id="c", client_secret="hunter2")
    assert "hunter2" not in repr(spec) and "hunter2" not in json.dumps(spec.describe())
    assert "hunter2" not in repr(AuthSpec(kind="bearer", token="hunter2"))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(sorted(SECRET_MEMBERS) + ["a", "delivery", "url", "method", "delivery_method", "iss", "stream_id"]),
                                             inner, max_size=4), max_leaves=20)


def _secret_values(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in SECRET_MEMBERS and v is not None:
                yield v
            yield from _secret_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _secret_values(v)


@given(json_values)
def test_redacted_json_keeps_no_secret_member_value(value):
    assert all(v == REDACTED for v in _secret_values(redact_json(value)))


@given(json_values)
def test_normalising_any_answer_never_raises(value):
    config, notes = normalize_config(value, "https://tr.example.com")
    assert isinstance(notes, list)


def test_a_delivery_method_that_is_not_a_string_is_kept_and_not_mapped():
    from app.core.subscriptions.client import delivery_mode

    config, _ = normalize_config({"delivery": {"method": ["x"]}}, "https://tr.example.com")
    assert config["delivery"]["method"] == ["x"] and delivery_mode(config) is None


metadata_values = st.dictionaries(
    st.sampled_from(["issuer", "jwks_uri", "spec_version", "configuration_endpoint", "delivery_methods_supported",
                     "authorization_schemes", "default_subjects", "events_supported", "x"]),
    json_values | st.just("https://tr.example.com") | st.just("http://127.0.0.1:1/k"), max_size=9)


@given(st.one_of(json_values, metadata_values))
def test_any_metadata_document_is_either_usable_or_refused_with_a_sentence(value):
    from app.core.subscriptions import DiscoveryError
    from app.core.subscriptions.discovery import validate_metadata

    try:
        notes = validate_metadata(value, "https://tr.example.com")
    except DiscoveryError as exc:
        assert str(exc)
    else:
        assert value["issuer"] == "https://tr.example.com" and isinstance(notes, list)
