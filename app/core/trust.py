"""Trusted issuers and their keys.

An issuer is trusted with either a JWKS URL or an inline JWKS. Keys are imported
into jwcrypto `JWK` objects once and cached by kid; a token whose kid is unknown
triggers one re-fetch (rate limited per issuer, so a flood of bad kids cannot turn
the receiver into a JWKS hammer). Fetches use httpx with redirects off, a size cap
(`MAX_DOCUMENT`) and a deadline for the whole fetch (`fetch_deadline`).
Without a URL, the JWKS location is discovered from the issuer's SSF metadata
(`/.well-known/ssf-configuration` inserted before the issuer's path, SSF 7.2).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import httpx
from jwcrypto.jwk import JWK

from app.core.http_limits import send_limited
from app.core.verify import IssuerKeySet

log = logging.getLogger(__name__)

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_DOCUMENT = 1024 * 1024  # a JWKS or an SSF configuration larger than this is refused
FETCH_DEADLINE = 10.0  # seconds for one whole fetch (per-read timeouts alone let a trickle last forever)


class TrustError(Exception):
    """An issuer, its metadata or its JWKS could not be used; the message says why."""


def well_known_url(issuer: str, name: str = "ssf-configuration") -> str:
    """RFC 8615 insertion: scheme://host/.well-known/NAME + issuer path (trailing '/' dropped)."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TrustError(f"issuer {issuer!r} is not an http(s) URL")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{path}", "", ""))


def parse_jwks(data: Any, *, where: str, fetched: bool = False) -> list[JWK]:
    """Import a JWKS document; private members make it unusable (never trust a leak).
    A `fetched` JWKS (served over HTTP, so public) may not hold symmetric keys either: an
    HMAC key anyone can read would let anyone sign; only an inline JWKS may carry one."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise TrustError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise TrustError(f"{where}: not a JWKS (expected an object with a 'keys' array)")
    keys = []
    for i, entry in enumerate(data["keys"]):
        if not isinstance(entry, dict):
            raise TrustError(f"{where}: keys[{i}] is not an object")
        leaked = [m for m in PRIVATE_MEMBERS if m in entry and (fetched or entry.get("kty") != "oct")]
        if leaked:
            raise TrustError(f"{where}: keys[{i}] contains private members ({', '.join(leaked)})")
        try:
            keys.append(JWK(**entry))
        except Exception as exc:  # noqa: BLE001 - jwcrypto raises several types
            raise TrustError(f"{where}: keys[{i}] is not a usable JWK: {exc}") from None
    return keys


@dataclass
class TrustedIssuer:
    issuer: str
    jwks_url: str | None = None
    jwks: dict | None = None  # inline JWKS (when given instead of a URL)


class TrustStore:
    """Issuer -> keys, with fetching, caching and one re-fetch on an unknown kid."""

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        refetch_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        fetch_deadline: float = FETCH_DEADLINE,
    ):
        self._http = http
        self._fetch_deadline = fetch_deadline
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._issuers: dict[str, TrustedIssuer] = {}
        self._keys: dict[str, IssuerKeySet] = {}
        self._last_fetch: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- configuration ------------------------------------------------------
    def trust(self, issuer: str, *, jwks_url: str | None = None, jwks: dict | None = None) -> TrustedIssuer:
        entry = TrustedIssuer(issuer, jwks_url, jwks)
        if jwks is not None:
            keys = parse_jwks(jwks, where=f"inline JWKS for {issuer}")
            self._keys[issuer] = _keyset(issuer, keys, "inline JWKS")
        else:
            self._keys.pop(issuer, None)
        self._issuers[issuer] = entry
        return entry

    def forget(self, issuer: str) -> None:
        self._issuers.pop(issuer, None)
        self._keys.pop(issuer, None)

    @property
    def issuers(self) -> list[TrustedIssuer]:
        return list(self._issuers.values())

    @property
    def issuer_names(self):
        """A live view of the trusted issuer names (no copy per request)."""
        return self._issuers.keys()

    def is_trusted(self, issuer: str) -> bool:
        return issuer in self._issuers

    def cached_keys(self, issuer: str) -> IssuerKeySet | None:
        """Keys already fetched for a trusted issuer (None if untrusted or not fetched yet)."""
        return self._keys.get(issuer) if issuer in self._issuers else None

    # -- fetching -----------------------------------------------------------
    async def keys_for(self, issuer: str, *, kid: str | None = None) -> IssuerKeySet | None:
        """Keys of a trusted issuer (None if untrusted). Fetches on first use and
        re-fetches once when `kid` is not among the cached keys."""
        entry = self._issuers.get(issuer)
        if entry is None:
            return None
        cached = self._keys.get(issuer)
        if cached is not None and (kid is None or kid in cached.by_kid or entry.jwks is not None):
            return cached
        age = self._clock() - self._last_fetch.get(issuer, -1e9)
        if cached is not None and age < self._refetch_interval:
            return replace(cached, source=f"{cached.source}; not re-fetched for kid {kid!r}: fetched {age:.1f} s ago, "
                                          f"at most once every {self._refetch_interval:g} s")
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            cached = self._keys.get(issuer)
            if cached is not None and (kid is None or kid in cached.by_kid):
                return cached
            try:
                return await self.refresh(issuer)
            except TrustError as exc:
                log.warning("could not fetch keys for %s: %s", issuer, exc)
                if cached is not None:  # keep what we had; say that the re-fetch for this kid failed
                    return replace(cached, source=f"{cached.source}; re-fetch failed: {exc}")
                empty = IssuerKeySet(issuer, {}, [], f"JWKS unavailable: {exc}")
                self._keys[issuer] = empty
                return empty

    async def refresh(self, issuer: str) -> IssuerKeySet:
        entry = self._issuers.get(issuer)
        if entry is None:
            raise TrustError(f"{issuer} is not trusted")
        self._last_fetch[issuer] = self._clock()
        if entry.jwks is not None:
            return self._keys[issuer]
        url = entry.jwks_url or await self.discover_jwks_uri(issuer)
        entry.jwks_url = url
        data = await self._get_json(url, what="JWKS")
        keyset = _keyset(issuer, parse_jwks(data, where=url, fetched=True), f"JWKS {url}")
        self._keys[issuer] = keyset
        return keyset

    async def discover_jwks_uri(self, issuer: str) -> str:
        meta = await self._get_json(well_known_url(issuer), what="SSF configuration")
        if not isinstance(meta, dict):
            raise TrustError(f"SSF configuration of {issuer} is not a JSON object")
        if meta.get("issuer") not in (None, issuer):
            raise TrustError(f"SSF configuration names issuer {meta.get('issuer')!r}, not {issuer!r}")
        jwks_uri = meta.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise TrustError(f"SSF configuration of {issuer} has no jwks_uri")
        return jwks_uri

    async def _get_json(self, url: str, *, what: str) -> Any:
        if self._http is None:
            raise TrustError(f"cannot fetch {what} from {url}: no HTTP client")
        try:
            request = self._http.build_request("GET", url, headers={"Accept": "application/json"})
            response = await send_limited(self._http, request, max_bytes=MAX_DOCUMENT, deadline=self._fetch_deadline)
        except httpx.HTTPError as exc:
            raise TrustError(f"fetching {what} from {url} failed: {exc.__class__.__name__}: {exc}") from None
        if response.is_redirect:
            raise TrustError(f"{what} at {url} redirects to {response.headers.get('location')!r}; redirects are not followed")
        if response.status_code != 200:
            raise TrustError(f"{what} at {url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise TrustError(f"{what} at {url} is not JSON: {exc}") from None


def _keyset(issuer: str, keys: list[JWK], source: str) -> IssuerKeySet:
    by_kid = {k.get("kid"): k for k in keys if k.get("kid")}
    return IssuerKeySet(issuer=issuer, by_kid=by_kid, keys=keys, source=source)
