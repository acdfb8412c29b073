"""SET verification: an ordered list of named checks and a verdict.

`verify_set` is pure and synchronous: it gets the decoded token, the keys of the
issuer named in it (already fetched by the caller), the configured audiences and a
clock reading, and returns a `VerificationReport`. Signatures are checked with
jwcrypto's JWA engines (the key objects come pre-imported and cached by kid in
`trust.IssuerKeys`, so no per-request key parsing happens here).

The first failing check decides the RFC 8935 error code a push receiver answers
with (SSF-NOTES 1.3): parse/claims -> invalid_request, key/signature ->
invalid_key, issuer -> invalid_issuer, audience -> invalid_audience.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from jwcrypto.jwa import JWA
from jwcrypto.jwk import JWK

from app.core.catalogue import Catalogue, default_catalogue
from app.core.jose import DecodedToken
from app.core.subjects import describe_subject, normalize_subject, validate_subject

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"
VALID, INVALID, UNVERIFIED = "valid", "invalid", "unverified"

ASYMMETRIC_ALGS = {
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
    "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
    "ES256": "EC", "ES384": "EC", "ES512": "EC", "ES256K": "EC",
    "EdDSA": "OKP", "Ed25519": "OKP",
}
SYMMETRIC_ALGS = {"HS256", "HS384", "HS512"}
SET_TYPES = {"secevent+jwt", "application/secevent+jwt"}
SSF_OWN_EVENTS = (
    "https://schemas.openid.net/secevent/ssf/event-type/verification",
    "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
)

STALE_AFTER = 86400.0  # an iat older than this warns

# Which RFC 8935 error a failed check maps to.
ERROR_FOR_CHECK = {
    "jws_parse": "invalid_request",
    "alg": "invalid_request",
    "typ": "invalid_request",
    "issuer": "invalid_issuer",
    "key": "invalid_key",
    "signature": "invalid_key",
    "audience": "invalid_audience",
    "iat": "invalid_request",
    "jti": "invalid_request",
    "events": "invalid_request",
    "event_schema": "invalid_request",
    "sub_id": "invalid_request",
    "forbidden_claims": "invalid_request",
    "verification_state": "invalid_state",
}


class Check(NamedTuple):
    name: str
    status: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


_new_tuple = tuple.__new__


@dataclass
class VerificationReport:
    checks: list[Check] = field(default_factory=list)
    verdict: str = UNVERIFIED
    err: str | None = None
    description: str | None = None

    def add(self, name: str, status: str, detail: str) -> None:
        # tuple.__new__ directly: the same Check, without NamedTuple's Python-level __new__
        # (called ~15 times per SET on the receiver's hot path).
        self.checks.append(_new_tuple(Check, (name, status, detail)))

    def status_of(self, name: str) -> str | None:
        for check in self.checks:
            if check.name == name:
                return check.status
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "err": self.err,
            "description": self.description,
        }

    def to_storage(self) -> dict[str, Any]:
        """The workspace form: checks as [name, status, detail] triples (serialises
        several times faster than objects; `expand_checks` turns them back)."""
        return {"verdict": self.verdict, "checks": self.checks, "err": self.err, "description": self.description}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VerificationReport":
        return cls(
            checks=[Check(**c) if isinstance(c, dict) else Check(*c) for c in data.get("checks", [])],
            verdict=data.get("verdict", UNVERIFIED),
            err=data.get("err"),
            description=data.get("description"),
        )


def expand_checks(checks: list) -> list[dict[str, str]]:
    """Checks as objects {name, status, detail}, whichever form they were stored in."""
    return [c if isinstance(c, dict) else {"name": c[0], "status": c[1], "detail": c[2]} for c in checks]


@dataclass
class IssuerKeySet:
    """The keys the verifier may use for one issuer (built by trust.py)."""

    issuer: str
    by_kid: dict[str, JWK]
    keys: list[JWK]
    source: str = ""


@dataclass
class SetContext:
    """Everything outside the token that a verification depends on."""

    now: float
    keys: IssuerKeySet | None = None
    trusted_issuers: Iterable[str] = ()
    audiences: tuple[str, ...] = ()
    repeat_of: int | None = None
    repeat_differs: bool = False
    max_skew: float = 300.0
    expected_states: dict[str, set[str]] | None = None
    catalogue: Catalogue | None = None


_ENGINES: dict[str, Any] = {}


def _engine(alg: str):
    engine = _ENGINES.get(alg)
    if engine is None:
        engine = _ENGINES[alg] = JWA.signing_alg(alg)
    return engine


def _key_kty(key: JWK) -> str:
    return key.get("kty", "")


def _rsa_bits(key: JWK) -> int:
    try:
        return key.get_op_key("verify").key_size
    except Exception:  # noqa: BLE001 - a broken key is reported by the signature check
        return 0


def verify_set(token: DecodedToken, ctx: SetContext) -> VerificationReport:
    report = VerificationReport()
    catalogue = ctx.catalogue or default_catalogue()

    # 1. Parse
    if not token.ok:
        report.add("jws_parse", FAIL, token.error or "not a compact JWS")
        return _finish(report, encrypted=token.kind == "jwe")
    report.add("jws_parse", PASS, "compact JWS with a JSON header and a JSON object payload")
    header, claims = token.header or {}, token.claims or {}

    # 2. alg (never trusted: only used to pick an engine among the allowed ones)
    alg = header.get("alg")
    alg_ok = False
    if not isinstance(alg, str) or not alg:
        report.add("alg", FAIL, "the header has no 'alg'")
    elif alg.lower() == "none":
        report.add("alg", FAIL, "alg 'none' (unsecured JWS) is never accepted")
    elif alg not in ASYMMETRIC_ALGS and alg not in SYMMETRIC_ALGS:
        report.add("alg", FAIL, f"alg {alg!r} is not a JWS signature algorithm Signalscope accepts")
    else:
        alg_ok = True
        report.add("alg", PASS, f"{alg}")

    # 3. typ
    typ = header.get("typ")
    if isinstance(typ, str) and typ.lower() in SET_TYPES:
        report.add("typ", PASS, typ)
    elif typ is None:
        report.add("typ", WARN, "no 'typ' header; SSF 4.1.1 requires typ 'secevent+jwt'")
    elif isinstance(typ, str) and typ.upper() == "JWT":
        report.add("typ", WARN, "typ is 'JWT'; SSF 4.1.1 requires 'secevent+jwt' (libraries emit 'JWT' unless told otherwise)")
    else:
        report.add("typ", FAIL, f"typ {typ!r} marks a token of another kind; a SET has typ 'secevent+jwt'")

    # 4. issuer
    iss = claims.get("iss")
    issuer_known = ctx.keys is not None
    if not isinstance(iss, str) or not iss:
        report.add("issuer", FAIL, "the 'iss' claim is missing or not a string")
    elif issuer_known:
        report.add("issuer", PASS, f"{iss} is trusted ({ctx.keys.source})")
    else:
        near = [t for t in ctx.trusted_issuers if t.rstrip("/") == iss.rstrip("/")]
        hint = f"; a trusted issuer differs only by a trailing '/': {near[0]}" if near else (
            "; trust it in Settings or with --trust-issuer ISSUER[=JWKS_URL]")
        report.add("issuer", FAIL, f"{iss} is not a trusted issuer{hint}")

    # 5-6. key and signature
    if not issuer_known or not alg_ok:
        why = "issuer is not trusted, so there is no key to check against" if not issuer_known else "alg not acceptable"
        report.add("key", SKIP, why)
        report.add("signature", SKIP, why)
    else:
        _check_key_and_signature(report, token, alg, ctx.keys)

    # 7. audience
    aud = claims.get("aud")
    aud_values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not ctx.audiences:
        report.add("audience", SKIP, f"no audience configured (aud is {json.dumps(aud)})")
    elif aud_values is None:
        report.add("audience", FAIL, f"'aud' is missing; expected one of {', '.join(ctx.audiences)}")
    elif any(a in ctx.audiences for a in aud_values):
        report.add("audience", PASS, ", ".join(a for a in aud_values if a in ctx.audiences))
    else:
        report.add("audience", FAIL, f"aud {json.dumps(aud)} does not contain any of {', '.join(ctx.audiences)}")

    # 8. iat
    iat = claims.get("iat")
    if iat is None:
        report.add("iat", FAIL, "the 'iat' claim is missing")
    elif isinstance(iat, bool) or not isinstance(iat, (int, float)):
        report.add("iat", FAIL, f"'iat' must be a NumericDate (number), got {type(iat).__name__}")
    elif iat > ctx.now + ctx.max_skew:
        report.add("iat", FAIL, f"'iat' is {iat - ctx.now:.0f} s in the future (allowed skew {ctx.max_skew:.0f} s)")
    elif ctx.now - iat > STALE_AFTER:
        report.add("iat", WARN, f"issued {(ctx.now - iat) / 3600:.0f} h ago: a stale SET (a late retry, or a replay)")
    else:
        report.add("iat", PASS, f"issued {ctx.now - iat:.0f} s ago")

    # 9. jti
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        report.add("jti", FAIL, "the 'jti' claim is missing or not a non-empty string")
    elif ctx.repeat_of is not None:
        if ctx.repeat_differs:
            report.add("jti", WARN, f"jti {jti} was already used by capture #{ctx.repeat_of} with a different token")
        else:
            report.add("jti", WARN, f"repeat of capture #{ctx.repeat_of} (same jti); answered as the first delivery was")
    else:
        report.add("jti", PASS, jti)

    # 10-11. events and their payloads
    events = claims.get("events")
    _check_events(report, events, catalogue)

    # 12. subject
    _check_subject(report, claims, events, catalogue)

    # 13. claims SSF forbids
    present = [c for c in ("sub", "exp") if c in claims]
    if present:
        report.add("forbidden_claims", WARN, f"SSF SETs must not carry {' or '.join(repr(c) for c in present)} (SSF 4.1.2, 4.1.7)")
    else:
        report.add("forbidden_claims", PASS, "no 'sub', no 'exp'")

    # 14. txn (recommended)
    txn = claims.get("txn")
    if txn is None:
        report.add("txn", SKIP, "no 'txn' (SSF recommends one per underlying cause)")
    elif isinstance(txn, str):
        report.add("txn", PASS, txn)
    else:
        report.add("txn", WARN, f"'txn' should be a string, got {type(txn).__name__}")

    # 15. verification state, when the caller knows which states are pending
    if ctx.expected_states is not None and isinstance(events, dict):
        _check_verification_state(report, claims, events, ctx.expected_states)

    return _finish(report, encrypted=False)


def _check_key_and_signature(report: VerificationReport, token: DecodedToken, alg: str, keys: IssuerKeySet) -> None:
    kid = token.header.get("kid")
    if alg in SYMMETRIC_ALGS:
        if any(_key_kty(k) in ("RSA", "EC", "OKP") for k in keys.keys) and not any(_key_kty(k) == "oct" for k in keys.keys):
            report.add("key", FAIL, f"alg {alg} (HMAC) against an issuer that publishes public keys: key confusion, rejected")
            report.add("signature", SKIP, "no acceptable key")
            return
    wanted_kty = ASYMMETRIC_ALGS.get(alg, "oct")
    if isinstance(kid, str):
        key = keys.by_kid.get(kid)
        if key is None:
            known = ", ".join(sorted(keys.by_kid)) or "none"
            report.add("key", FAIL, f"kid {kid!r} is not in the JWKS of {keys.issuer} (known kids: {known}; "
                                    f"keys from {keys.source})")
            report.add("signature", SKIP, "no key")
            return
        candidates = [key]
        how = f"kid {kid}"
    else:
        candidates = [k for k in keys.keys if _key_kty(k) == wanted_kty]
        how = "no kid in the header; tried every key of the right type"
        if not candidates:
            report.add("key", FAIL, f"no kid, and the JWKS of {keys.issuer} has no {wanted_kty} key")
            report.add("signature", SKIP, "no key")
            return
    key = candidates[0]
    if _key_kty(key) != wanted_kty:
        report.add("key", FAIL, f"alg {alg} needs a {wanted_kty} key but {how} is {_key_kty(key)}: alg/key confusion")
        report.add("signature", SKIP, "no acceptable key")
        return
    if key.get("use") not in (None, "sig"):
        report.add("key", FAIL, f"{how} is marked use={key.get('use')!r}, not for signatures")
        report.add("signature", SKIP, "no acceptable key")
        return
    if key.get("alg") not in (None, alg):
        report.add("key", FAIL, f"{how} is bound to alg {key.get('alg')} but the token says {alg}")
        report.add("signature", SKIP, "no acceptable key")
        return
    detail = how
    status = WARN if kid is None else PASS
    if wanted_kty == "RSA" and _rsa_bits(key) and _rsa_bits(key) < 2048:
        status, detail = WARN, f"{how}; RSA key of {_rsa_bits(key)} bits (CAEP interop requires >= 2048)"
    report.add("key", status, detail)
    engine = _engine(alg)
    for candidate in candidates:
        try:
            engine.verify(candidate, token.signing_input, token.signature)
        except Exception:  # noqa: BLE001 - any failure inside the engine is a bad signature
            continue
        used = candidate.get("kid") or "(no kid)"
        report.add("signature", PASS, f"{alg} signature verified with key {used}")
        return
    report.add("signature", FAIL, f"the {alg} signature does not verify with {how}: the token was altered or signed with another key")


def _check_events(report: VerificationReport, events: Any, catalogue: Catalogue) -> None:
    if not isinstance(events, dict) or not events:
        report.add("events", FAIL, "'events' must be a non-empty JSON object of event-type URI -> payload")
        report.add("event_schema", SKIP, "no events")
        return
    bad = [uri for uri, payload in events.items() if not isinstance(payload, dict)]
    if bad:
        report.add("events", FAIL, f"event payloads must be objects: {', '.join(bad)}")
    elif len(events) > 1:
        report.add("events", WARN, f"{len(events)} events in one SET; SSF 4.2.1 expects exactly one")
    else:
        uri = next(iter(events))
        known = catalogue.lookup(uri)
        if known is None:
            report.add("events", PASS, f"{uri} (not in the CAEP/RISC/SSF catalogue)")
        elif known.uri != uri:
            report.add("events", WARN, f"{uri} is a legacy spelling of {known.uri}")
        elif known.deprecated:
            report.add("events", WARN, f"{known.name} is deprecated: {known.deprecated}")
        else:
            report.add("events", PASS, f"{known.family.upper()} {known.name}")
    problems = []
    checked = 0
    for uri, payload in events.items():
        if catalogue.lookup(uri) is None:
            continue
        checked += 1
        problems += catalogue.check_payload(uri, payload)
    if not checked:
        report.add("event_schema", SKIP, "no event type from the catalogue to check")
    elif any(p.severity == "fail" for p in problems):
        report.add("event_schema", FAIL, "; ".join(p.message for p in problems))
    elif problems:
        report.add("event_schema", WARN, "; ".join(p.message for p in problems))
    else:
        report.add("event_schema", PASS, "payload matches the catalogue")


def _check_subject(report: VerificationReport, claims: dict, events: Any, catalogue: Catalogue) -> None:
    sub_id = claims.get("sub_id")
    legacy = None
    if isinstance(events, dict):
        for payload in events.values():
            if isinstance(payload, dict) and isinstance(payload.get("subject"), dict):
                legacy = payload["subject"]
                break
    if sub_id is None and legacy is None:
        report.add("sub_id", FAIL, "no 'sub_id' claim (SSF 3.1 requires a top-level subject)")
        return
    subject = sub_id if sub_id is not None else normalize_subject(legacy)
    problems = validate_subject(subject)
    if problems:
        report.add("sub_id", FAIL, f"{'sub_id' if sub_id is not None else 'event subject'}: " + "; ".join(problems))
        return
    wanted = set()
    if isinstance(events, dict):
        for uri in events:
            event = catalogue.lookup(uri)
            if event is not None and event.subject_formats:
                wanted.update(event.subject_formats)
    if wanted and subject.get("format") not in wanted:
        report.add("sub_id", FAIL, f"this event type needs a subject of format {' or '.join(sorted(wanted))}, got {subject.get('format')!r}")
        return
    if sub_id is None:
        report.add("sub_id", WARN, f"no top-level 'sub_id'; legacy subject inside the event: {describe_subject(subject)}")
    else:
        report.add("sub_id", PASS, describe_subject(subject))


def _check_verification_state(report: VerificationReport, claims: dict, events: dict, expected: dict[str, set[str]]) -> None:
    verification = None
    for uri, payload in events.items():
        if uri.endswith("/verification"):
            verification = payload if isinstance(payload, dict) else {}
    if verification is None:
        return
    sub = claims.get("sub_id") if isinstance(claims.get("sub_id"), dict) else {}
    stream_id = sub.get("id", "")
    state = verification.get("state")
    if stream_id not in expected:
        report.add("verification_state", SKIP, f"no verification request from Signalscope is pending for stream {stream_id}")
        return
    pending = expected[stream_id]
    if state is None:
        report.add("verification_state", PASS, "transmitter-initiated verification (no state)")
    elif state in pending:
        report.add("verification_state", PASS, f"state matches the verification request for stream {stream_id}")
    else:
        report.add("verification_state", FAIL, f"state {state!r} does not match any verification request for stream {stream_id}")


def _finish(report: VerificationReport, *, encrypted: bool) -> VerificationReport:
    failed = [c for c in report.checks if c.status == FAIL]
    issuer_unknown = any(c.name == "issuer" and c.status == FAIL and "not a trusted issuer" in c.detail for c in failed)
    if failed:
        first = failed[0]
        report.err = ERROR_FOR_CHECK.get(first.name, "invalid_request")
        report.description = f"{first.name}: {first.detail}"
    if encrypted:
        report.verdict = UNVERIFIED
    elif failed and not (issuer_unknown and len(failed) == 1):
        report.verdict = INVALID
    elif report.status_of("signature") == PASS:
        report.verdict = VALID
    else:
        report.verdict = UNVERIFIED
    return report
