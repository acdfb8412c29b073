import json
from importlib import resources

from app.core.catalogue import default_catalogue

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
RISC = "https://schemas.openid.net/secevent/risc/event-type/"


def test_catalogue_covers_every_caep_risc_and_ssf_event():
    names = {(e.family, e.name) for e in default_catalogue().events}
    caep = {"session-revoked", "token-claims-change", "credential-change", "assurance-level-change",
            "device-compliance-change", "session-established", "session-presented", "risk-level-change"}
    risc = {"account-credential-change-required", "account-purged", "account-disabled", "account-enabled",
            "identifier-changed", "identifier-recycled", "credential-compromise", "opt-in", "opt-out-initiated",
            "opt-out-cancelled", "opt-out-effective", "recovery-activated", "recovery-information-changed", "sessions-revoked"}
    assert {n for f, n in names if f == "caep"} == caep
    assert {n for f, n in names if f == "risc"} == risc
    assert {n for f, n in names if f == "ssf"} == {"verification", "stream-updated"}


def test_every_template_satisfies_its_own_schema():
    cat = default_catalogue()
    for event in cat.events:
        payload = cat.fill_template(event.uri, now=1700000000)
        assert [p for p in cat.check_payload(event.uri, payload) if p.severity == "fail"] == [], event.uri


def test_legacy_aliases_resolve():
    cat = default_catalogue()
    assert cat.lookup("https://schemas.openid.net/secevent/sse/event-type/verification").name == "verification"
    assert cat.lookup(CAEP + "account-disabled").family == "risc"
    assert cat.lookup("http://schemas.openid.net/secevent/risc/event-type/account-disabled").name == "account-disabled"


def test_catalogue_file_is_data():
    data = json.loads(resources.files("app.resources").joinpath("events.json").read_text())
    assert data["version"] == 1 and len(data["events"]) == 24


def test_reason_admin_as_string_is_legacy_warning():
    problems = default_catalogue().check_payload(CAEP + "session-revoked", {"reason_admin": "policy"})
    assert [p.severity for p in problems] == ["warn"]
