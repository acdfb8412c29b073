"""Verifying one SET body end to end, for every way a SET reaches the workspace.

`verify_set_body` decodes the body, finds the issuer's keys (cached; fetched on
first use, re-fetched once on an unknown kid), runs the ordered checks of
`verify.py` and fills the SET fields of a `CaptureRecord` (verdict, report,
decoded header and claims, jti, issuer, event types, subject). The receiver
calls it for a push delivery, the importers for each imported SET, so an
imported SET gets exactly the verdict it would have got live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.jose import decode_compact
from app.core.store.captures import CaptureRecord
from app.core.subjects import describe_subject, normalize_subject
from app.core.trust import TrustStore
from app.core.verify import PASS, SKIP, WARN, Check, SetContext, VerificationReport, verify_set

SET_MEDIA_TYPES = ("application/secevent+jwt",)
LENIENT_SET_MEDIA_TYPES = ("application/jwt",)


def is_set_media_type(media_type: str) -> bool:
    """Whether a (lower-cased, parameter-free) media type marks the body as a SET."""
    return media_type in SET_MEDIA_TYPES or media_type in LENIENT_SET_MEDIA_TYPES


@dataclass
class VerificationSettings:
    """What a verification depends on besides the token and the trusted issuers."""

    audiences: tuple[str, ...] = ()
    max_skew: float = 300.0
    # stream_id -> states of verification requests still awaiting their SET
    expected_states: dict[str, set[str]] = field(default_factory=dict)


async def verify_set_body(
    record: CaptureRecord, media_type: str | None, trust: TrustStore, settings: VerificationSettings
) -> VerificationReport:
    """Verify `record.body` as a SET received at `record.received_at` and fill the
    record's SET fields. `media_type` is the request's (None: a bare token, which
    had no HTTP request). The report's `err`/`description` say what a push
    receiver answers (None: 202)."""
    token = decode_compact(record.body)
    claims = token.claims or {}
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    kid = token.header.get("kid") if token.header and isinstance(token.header.get("kid"), str) else None
    keys = trust.cached_keys(iss) if iss else None
    if iss and (keys is None or (kid is not None and kid not in keys.by_kid)):
        keys = await trust.keys_for(iss, kid=kid)  # first use, or one re-fetch on an unknown kid
    report = verify_set(
        token,
        SetContext(
            now=record.received_at,
            keys=keys,
            trusted_issuers=trust.issuer_names,
            audiences=settings.audiences,
            max_skew=settings.max_skew,
            expected_states=settings.expected_states,
        ),
    )
    if media_type is None:
        if token.ok:
            report.checks.insert(0, Check("content_type", SKIP, "a bare token (not an HTTP request): no Content-Type"))
    elif media_type in LENIENT_SET_MEDIA_TYPES:
        report.checks.insert(0, Check("content_type", WARN, f"Content-Type {media_type}; RFC 8935 requires application/secevent+jwt"))
    elif token.ok:
        report.checks.insert(0, Check("content_type", PASS, "application/secevent+jwt"))
    record.kind = "set"
    record.verdict = report.verdict
    record.report = report.to_storage()
    record.set_header = token.header
    record.set_claims = token.claims
    if token.header is not None:
        record.set_header_text = token.header_text
    if token.claims is not None:
        record.set_claims_text = token.claims_text
    record.jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
    record.issuer = iss
    events = claims.get("events")
    record.event_types = [k for k in events] if isinstance(events, dict) else []
    record.subject = subject_summary(claims, events)
    return report


def subject_summary(claims: dict, events) -> str | None:
    """The one-line subject shown in lists: sub_id, or a legacy in-event subject."""
    subject = claims.get("sub_id")
    if subject is None and isinstance(events, dict):
        for payload in events.values():
            if isinstance(payload, dict) and isinstance(payload.get("subject"), dict):
                subject = normalize_subject(payload["subject"])
                break
    return describe_subject(subject) or None if isinstance(subject, dict) else None
