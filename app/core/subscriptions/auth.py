"""How we authenticate to a transmitter's management API: a token source.

- `BearerToken`: a token the user pasted (or the built-in simulator's management token).
- `ClientCredentials`: OAuth 2.0 client credentials grant (RFC 6749 4.4) at a token
  endpoint, client authenticated with HTTP Basic (2.3.1) or in the form body, optional
  `scope` (e.g. `ssf.manage`, the CAEP interoperability profile's scope). The token is
  reused until shortly before it expires (injected clock), then fetched again; a 401
  from the transmitter invalidates it so the next call fetches a fresh one.
- `NoAuth`: discovery only.

Every token request is an exchange in the log, with the client secret and the access
token redacted. `AuthSpec` is the plain, storable description of a source (it holds
secrets: it lives in the workspace and is never printed).
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from app.core.subscriptions.discovery import DiscoveryError, check_url
from app.core.subscriptions.exchanges import ExchangeLog


class AuthError(Exception):
    """No usable credential could be obtained (the message says why, never the secret)."""


@dataclass
class AuthSpec:
    kind: str = "none"  # none | bearer | client_credentials
    token: str | None = None
    token_endpoint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    client_auth: str = "basic"  # basic | post

    def __repr__(self) -> str:  # a logged or printed spec must not carry its secrets
        return f"AuthSpec({', '.join(f'{k}={v!r}' for k, v in self.describe().items())})"

    def to_storage(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "kind"}

    @classmethod
    def from_storage(cls, kind: str, data: dict[str, Any]) -> "AuthSpec":
        return cls(kind=kind, **{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> dict[str, Any]:
        """What may be shown: the kind and the non-secret settings."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "client_credentials":
            out.update(token_endpoint=self.token_endpoint, client_id=self.client_id, scope=self.scope)
        return out


class NoAuth:
    kind = "none"

    async def authorization(self) -> str | None:
        return None

    def invalidate(self) -> None:
        pass


class BearerToken:
    kind = "bearer"

    def __init__(self, token: str):
        if not token or any(c in token for c in "\r\n"):
            raise AuthError("the bearer token is empty or contains a line break")
        self._token = token

    async def authorization(self) -> str | None:
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        pass  # a pasted token cannot be renewed


@dataclass
class _Token:
    value: str
    obtained_at: float
    expires_in: float | None
    scope: str | None = None


class ClientCredentials:
    kind = "client_credentials"

    def __init__(self, token_endpoint: str, client_id: str, client_secret: str, *, scope: str | None = None,
                 log: ExchangeLog, issuer: str | None = None, client_auth: str = "basic",
                 clock: Callable[[], float] = time.time, refresh_margin: float = 30.0):
        try:
            check_url(token_endpoint, "the token endpoint")
        except DiscoveryError as exc:
            raise AuthError(str(exc)) from None
        if not client_id or not client_secret:
            raise AuthError("client credentials need both a client id and a client secret")
        if client_auth not in ("basic", "post"):
            raise AuthError("client authentication must be 'basic' or 'post'")
        self.token_endpoint = token_endpoint
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self._log = log
        self._issuer = issuer
        self._client_auth = client_auth
        self._clock = clock
        self._margin = refresh_margin
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _fresh(self) -> bool:
        t = self._token
        if t is None:
            return False
        if t.expires_in is None:
            return True  # no expires_in: used until the transmitter refuses it
        margin = min(self._margin, t.expires_in / 2)
        return self._clock() < t.obtained_at + t.expires_in - margin

    async def authorization(self) -> str | None:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._token = await self._fetch()
        return f"Bearer {self._token.value}"

    def invalidate(self) -> None:
        self._token = None

    async def _fetch(self) -> _Token:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self._client_auth == "basic":
            # RFC 6749 2.3.1: id and secret are form-urlencoded before the Basic encoding.
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form.update(client_id=self.client_id, client_secret=self._secret)
        obtained = self._clock()
        ex = await self._log.perform("POST", self.token_endpoint, operation="token", issuer=self._issuer,
                                     headers=headers, form=form)
        try:
            return self._interpret(ex, obtained)
        except AuthError as exc:
            ex.notes.append(str(exc))
            raise
        finally:
            await self._log.record(ex)

    def _interpret(self, ex, obtained: float) -> _Token:
        if ex.response is None or ex.error:
            raise AuthError(f"cannot reach the token endpoint {self.token_endpoint}: {ex.error}")
        try:
            body = ex.response.json()
        except ValueError:
            body = None
        if ex.status != 200:
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                why = body["error"] + (f" ({body['error_description']})" if body.get("error_description") else "")
            else:
                why = f"HTTP {ex.status}"
            raise AuthError(f"the token endpoint refused the client credentials: {why}")
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise AuthError("the token endpoint answered without an access_token")
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise AuthError(f"the token endpoint issued a token of type {token_type!r}; only Bearer is supported")
        expires_in = body.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
            ex.notes.append("expires_in sent as a string")
        if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool) or expires_in <= 0:
            if expires_in is not None:
                ex.notes.append(f"expires_in {expires_in!r} ignored")
            expires_in = None
        self.fetches += 1
        granted = body.get("scope") if isinstance(body.get("scope"), str) else None
        if self.scope and granted and set(self.scope.split()) - set(granted.split()):
            ex.notes.append(f"the token endpoint granted scope {granted!r}, less than the {self.scope!r} asked for")
        ex.notes.append("access token issued" + (f", expires in {expires_in:g} s" if expires_in else ""))
        return _Token(body["access_token"], obtained, expires_in, granted)


def token_source(spec: AuthSpec, *, log: ExchangeLog, issuer: str | None = None,
                 clock: Callable[[], float] = time.time):
    if spec.kind == "bearer":
        return BearerToken(spec.token or "")
    if spec.kind == "client_credentials":
        return ClientCredentials(spec.token_endpoint or "", spec.client_id or "", spec.client_secret or "",
                                 scope=spec.scope, log=log, issuer=issuer, client_auth=spec.client_auth, clock=clock)
    if spec.kind == "none":
        return NoAuth()
    raise AuthError(f"unknown authorization kind {spec.kind!r}")


__all__ = ["AuthError", "AuthSpec", "BearerToken", "ClientCredentials", "NoAuth", "token_source"]
