"""Subject identifiers: RFC 9493 formats, SSF 1.0 additions, complex subjects, legacy shapes.

`validate_subject` says what is wrong with an identifier (an empty list means valid);
`normalize_subject` rewrites the legacy spellings that real transmitters still send
(SSF-NOTES 11.2) into the final shape; `subject_matches` is the SSF 8.1.3 matching rule
used by the transmitter simulator to decide which streams get an event.
"""

from __future__ import annotations

from typing import Any

# format -> required members (all non-empty); members beyond these are not allowed.
SIMPLE_FORMATS: dict[str, tuple[str, ...]] = {
    "account": ("uri",),
    "email": ("email",),
    "iss_sub": ("iss", "sub"),
    "opaque": ("id",),
    "phone_number": ("phone_number",),
    "did": ("url",),
    "uri": ("uri",),
    "jwt_id": ("iss", "jti"),
    "saml_assertion_id": ("issuer", "assertion_id"),
    "ip-addresses": ("ip-addresses",),
}
COMPLEX_MEMBERS = ("user", "device", "session", "application", "tenant", "org_unit", "group")

_LEGACY_FORMATS = {"iss-sub": "iss_sub", "phone": "phone_number", "jwt-id": "jwt_id", "saml-assertion-id": "saml_assertion_id"}


def validate_subject(subject: Any, *, _nested: bool = False, _in_aliases: bool = False) -> list[str]:
    """Return the problems with a subject identifier (empty list: valid)."""
    if not isinstance(subject, dict):
        return ["a subject identifier must be a JSON object"]
    fmt = subject.get("format")
    if not isinstance(fmt, str) or not fmt:
        if "subject_type" in subject:
            return ["uses legacy 'subject_type' instead of 'format'"]
        return ["has no 'format' member"]
    if fmt == "complex":
        if _nested:
            return ["a complex subject cannot be nested inside another subject"]
        members = {k: v for k, v in subject.items() if k != "format"}
        if not members:
            return ["a complex subject needs at least one member (user, device, session, ...)"]
        problems = []
        for name, member in members.items():
            problems += [f"member '{name}': {p}" for p in validate_subject(member, _nested=True)]
        return problems
    if fmt == "aliases":
        if _in_aliases:
            return ["'aliases' cannot contain another 'aliases' identifier"]
        ids = subject.get("identifiers")
        if not isinstance(ids, list) or not ids:
            return ["'aliases' needs a non-empty 'identifiers' array"]
        problems = []
        for i, ident in enumerate(ids):
            problems += [f"identifiers[{i}]: {p}" for p in validate_subject(ident, _nested=True, _in_aliases=True)]
        return problems
    required = SIMPLE_FORMATS.get(fmt)
    if required is None:
        if fmt in _LEGACY_FORMATS:
            return [f"legacy format '{fmt}' (final name: '{_LEGACY_FORMATS[fmt]}')"]
        return []  # formats agreed between parties are allowed; members unknown
    problems = []
    for member in required:
        value = subject.get(member)
        if fmt == "ip-addresses":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                problems.append("'ip-addresses' must be a non-empty array of strings")
        elif not isinstance(value, str) or not value:
            problems.append(f"format '{fmt}' needs a non-empty string '{member}'")
    extra = sorted(set(subject) - {"format", *required})
    if extra:
        problems.append(f"format '{fmt}' does not allow member(s) {', '.join(extra)}")
    if fmt == "account" and isinstance(subject.get("uri"), str) and not subject["uri"].startswith("acct:"):
        problems.append("format 'account' needs an 'acct:' URI")
    if fmt == "phone_number" and isinstance(subject.get("phone_number"), str) and not subject["phone_number"].startswith("+"):
        problems.append("phone_number should be in E.164 form (+ and digits)")
    return problems


def normalize_subject(subject: Any) -> Any:
    """Rewrite legacy spellings into the SSF 1.0 shape (returns a new object)."""
    if not isinstance(subject, dict):
        return subject
    out = dict(subject)
    if "format" not in out and "subject_type" in out:
        out["format"] = out.pop("subject_type")
    fmt = out.get("format")
    if isinstance(fmt, str) and fmt in _LEGACY_FORMATS:
        out["format"] = _LEGACY_FORMATS[fmt]
        if fmt == "phone" and "phone" in out:
            out["phone_number"] = out.pop("phone")
    if "format" not in out and any(k in out for k in COMPLEX_MEMBERS):
        out["format"] = "complex"
    if out.get("format") == "complex":
        for key, value in list(out.items()):
            if key != "format" and isinstance(value, dict):
                out[key] = normalize_subject(value)
    if out.get("format") == "aliases" and isinstance(out.get("identifiers"), list):
        out["identifiers"] = [normalize_subject(i) for i in out["identifiers"]]
    return out


def subject_matches(wanted: dict[str, Any], actual: dict[str, Any]) -> bool:
    """SSF 8.1.3: simple subjects match when identical; complex ones member by member,
    a member missing on either side acting as a wildcard. An 'aliases' identifier
    matches when any of its identifiers does."""
    if wanted.get("format") == "aliases":
        return any(subject_matches(w, actual) for w in wanted.get("identifiers", []))
    if actual.get("format") == "aliases":
        return any(subject_matches(wanted, a) for a in actual.get("identifiers", []))
    wanted_complex = wanted.get("format") == "complex"
    actual_complex = actual.get("format") == "complex"
    if wanted_complex and actual_complex:
        shared = (set(wanted) & set(actual)) - {"format"}
        return all(wanted[k] == actual[k] for k in shared)
    if wanted_complex != actual_complex:
        # A simple subject matches a complex one that carries it as a member.
        complex_side, simple = (wanted, actual) if wanted_complex else (actual, wanted)
        return any(v == simple for k, v in complex_side.items() if k != "format")
    return wanted == actual


def describe_subject(subject: Any) -> str:
    """A one-line human summary for lists (e.g. 'email:jane@example.com')."""
    if not isinstance(subject, dict):
        return ""
    fmt = subject.get("format") or subject.get("subject_type") or "complex"
    if fmt == "complex":
        parts = [f"{k}={describe_subject(v)}" for k, v in subject.items() if k != "format" and isinstance(v, dict)]
        return "complex(" + ", ".join(parts) + ")"
    if fmt == "aliases":
        return "aliases(" + ", ".join(describe_subject(i) for i in subject.get("identifiers", [])) + ")"
    values = [str(v) for k, v in subject.items() if k not in ("format", "subject_type")]
    return f"{fmt}:" + "|".join(values)
