"""Finding a transmitter: its SSF configuration metadata (SSF 7), fetched and validated.

The well-known URL is built by RFC 8615 insertion (`trust.well_known_url`, SSF 7.2).
Transmitters that predate or misread the spec answer elsewhere, so the locations are
tried in order and the one that answered is named:

  1. `/.well-known/ssf-configuration` inserted before the issuer's path (SSF 1.0)
  2. `/.well-known/sse-configuration` inserted (SSE Framework ID1)
  3. `/.well-known/risc-configuration` inserted (RISC profile; Google)
  4. `{issuer}/.well-known/ssf-configuration` appended, OIDC style (seen in the wild)

Validation (`validate_metadata`) is pure: the document must name exactly the issuer
we asked for, use https except on loopback, and carry `issuer` and `jwks_uri` (every
SSF SET is signed, so the keys are needed to verify anything). What is merely unusual
is kept as notes; if a rule fails nothing from the document is used (SSF 7.1).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.core.subscriptions.exchanges import ExchangeLog
from app.core.trust import TrustError, well_known_url

LOCATIONS = (
    ("ssf-configuration", "inserted", "SSF 1.0 well-known location"),
    ("sse-configuration", "inserted", "legacy SSE ID1 location"),
    ("risc-configuration", "inserted", "legacy RISC location"),
    ("ssf-configuration", "appended", "issuer-appended location (not SSF 7.2 insertion)"),
)
ENDPOINTS = ("configuration_endpoint", "status_endpoint", "add_subject_endpoint", "remove_subject_endpoint",
             "verification_endpoint")
KNOWN_DELIVERY = {"urn:ietf:rfc:8935", "urn:ietf:rfc:8936"}


class DiscoveryError(Exception):
    """The transmitter could not be discovered or its metadata is unusable (the message says why)."""


@dataclass
class Discovery:
    issuer: str
    metadata: dict[str, Any]
    url: str  # where the metadata was found
    location: str  # a LOCATIONS description: which one answered
    notes: list[str] = field(default_factory=list)

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not isinstance(url, str) or not url:
            raise DiscoveryError(f"the transmitter {self.issuer} does not advertise a {name}")
        return url

    def to_json(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "metadata_url": self.url, "location": self.location, "notes": self.notes,
                "metadata": self.metadata}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: Any, what: str) -> str:
    """An absolute https URL (http only on loopback), without a fragment."""
    if not isinstance(url, str) or not url:
        raise DiscoveryError(f"{what} is not a URL string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DiscoveryError(f"{what} {url!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise DiscoveryError(f"{what} {url!r} uses http; SSF requires https (http is accepted only on loopback)")
    if parts.fragment:
        raise DiscoveryError(f"{what} {url!r} has a fragment")
    return url


def candidate_urls(issuer: str) -> list[tuple[str, str]]:
    """(url, description) in the order they are tried, without repeats."""
    check_url(issuer, "the issuer")
    out: list[tuple[str, str]] = []
    for name, style, description in LOCATIONS:
        if style == "inserted":
            url = well_known_url(issuer, name)
        else:
            url = issuer.rstrip("/") + f"/.well-known/{name}"
        if url not in [u for u, _ in out]:
            out.append((url, description))
    return out


def validate_metadata(meta: Any, issuer: str) -> list[str]:
    """Notes about a usable document; raises DiscoveryError when it must not be used."""
    if not isinstance(meta, dict):
        raise DiscoveryError("the SSF configuration is not a JSON object")
    notes: list[str] = []
    named = meta.get("issuer")
    if named is None:
        raise DiscoveryError("the SSF configuration has no 'issuer' (REQUIRED, SSF 7.1)")
    if named != issuer:
        raise DiscoveryError(f"the SSF configuration names issuer {named!r}, not {issuer!r} (they must be equal, SSF 7.2.4)")
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise DiscoveryError(f"the issuer {issuer!r} has a query or fragment (SSF 7.1 forbids both)")
    if "jwks_uri" not in meta:
        raise DiscoveryError("the SSF configuration has no 'jwks_uri'; without keys no SET can be verified")
    check_url(meta["jwks_uri"], "jwks_uri")
    for name in ENDPOINTS:
        if name in meta:
            check_url(meta[name], name)
        else:
            notes.append(f"no {name}: the operations it serves are unavailable")
    if "spec_version" not in meta:
        notes.append("no spec_version: 1_0-ID1 assumed (SSF 7.1)")
    elif meta["spec_version"] != "1_0":
        notes.append(f"spec_version {meta['spec_version']!r}: not the final 1_0")
    methods = meta.get("delivery_methods_supported")
    if methods is not None:
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise DiscoveryError("delivery_methods_supported is not an array of URIs")
        legacy = [m for m in methods if m not in KNOWN_DELIVERY]
        if legacy:
            notes.append(f"delivery methods outside SSF 1.0 advertised: {', '.join(legacy)}")
    for name in ("authorization_schemes", "critical_subject_members"):
        if name in meta and not isinstance(meta[name], list):
            raise DiscoveryError(f"{name} is not an array")
    if meta.get("default_subjects") not in (None, "ALL", "NONE"):
        notes.append(f"default_subjects {meta['default_subjects']!r} is neither ALL nor NONE")
    if "events_supported" in meta:
        notes.append("events_supported in the metadata (added then reverted before SSF 1.0; harmless)")
    return notes


async def discover(log: ExchangeLog, issuer: str) -> Discovery:
    """Try each location in turn (each try is a recorded exchange); the first 200 with a
    JSON document decides. A document that fails validation stops the search."""
    try:
        candidates = candidate_urls(issuer)
    except TrustError as exc:
        raise DiscoveryError(str(exc)) from None
    tried: list[str] = []
    for url, description in candidates:
        ex = await log.perform("GET", url, operation="discover", issuer=issuer, headers={"Accept": "application/json"})
        try:
            if ex.error is not None:
                tried.append(f"{url}: {ex.error}")
                if ex.response is None:  # the host does not answer at all: the others will not either
                    raise DiscoveryError(f"cannot reach the transmitter at {url}: {ex.error}")
                continue
            if ex.status != 200:
                tried.append(f"{url}: HTTP {ex.status}")
                continue
            try:
                meta = ex.response.json()
            except ValueError:
                tried.append(f"{url}: not JSON")
                ex.notes.append("answered 200 with a body that is not JSON")
                continue
            try:
                notes = validate_metadata(meta, issuer)
            except DiscoveryError as exc:
                ex.notes.append(f"invalid metadata: {exc}")
                raise DiscoveryError(f"the metadata at {url} is invalid: {exc}") from None
            if description != LOCATIONS[0][2]:
                notes.insert(0, f"metadata found at the {description}; SSF 1.0 puts it at {candidates[0][0]}")
            ex.notes.append(f"metadata found ({description})")
            ex.notes += notes
            return Discovery(issuer=issuer, metadata=meta, url=url, location=description, notes=notes)
        finally:
            await log.record(ex)
    raise DiscoveryError(f"no SSF configuration found for {issuer} (tried {'; '.join(tried)})")
