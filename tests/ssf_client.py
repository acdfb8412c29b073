"""A small SSF receiver-side client written from the spec for the tests, independent of the
product's own code: discovery by RFC 8615 insertion, the management calls, and SET
verification with PyJWT against the transmitter's published JWKS."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import jwt

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
SSF = "https://schemas.openid.net/secevent/ssf/event-type/"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"


def well_known(issuer: str) -> str:
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/ssf-configuration{parts.path.rstrip('/')}"


class SsfClient:
    def __init__(self, issuer: str, token: str):
        self.issuer = issuer
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10, follow_redirects=False)
        self.meta: dict = {}

    async def close(self):
        await self.http.aclose()

    async def discover(self) -> dict:
        r = await self.http.get(well_known(self.issuer))
        r.raise_for_status()
        self.meta = r.json()
        assert self.meta["issuer"] == self.issuer
        return self.meta

    async def create(self, body: dict) -> httpx.Response:
        return await self.http.post(self.meta["configuration_endpoint"], json=body)

    async def read(self, stream_id: str | None = None) -> httpx.Response:
        params = {"stream_id": stream_id} if stream_id else None
        return await self.http.get(self.meta["configuration_endpoint"], params=params)

    async def patch(self, body: dict) -> httpx.Response:
        return await self.http.patch(self.meta["configuration_endpoint"], json=body)

    async def put(self, body: dict) -> httpx.Response:
        return await self.http.put(self.meta["configuration_endpoint"], json=body)

    async def delete(self, stream_id: str) -> httpx.Response:
        return await self.http.delete(self.meta["configuration_endpoint"], params={"stream_id": stream_id})

    async def status(self, stream_id: str) -> httpx.Response:
        return await self.http.get(self.meta["status_endpoint"], params={"stream_id": stream_id})

    async def set_status(self, stream_id: str, status: str, reason: str | None = None) -> httpx.Response:
        body = {"stream_id": stream_id, "status": status, **({"reason": reason} if reason else {})}
        return await self.http.post(self.meta["status_endpoint"], json=body)

    async def add_subject(self, stream_id: str, subject: dict, verified: bool = True) -> httpx.Response:
        return await self.http.post(self.meta["add_subject_endpoint"],
                                    json={"stream_id": stream_id, "subject": subject, "verified": verified})

    async def remove_subject(self, stream_id: str, subject: dict) -> httpx.Response:
        return await self.http.post(self.meta["remove_subject_endpoint"], json={"stream_id": stream_id, "subject": subject})

    async def verify(self, stream_id: str, state: str) -> httpx.Response:
        return await self.http.post(self.meta["verification_endpoint"], json={"stream_id": stream_id, "state": state})

    async def poll(self, url: str, body: dict) -> httpx.Response:
        return await self.http.post(url, json=body)

    async def jwks(self) -> dict:
        r = await self.http.get(self.meta["jwks_uri"])
        r.raise_for_status()
        return r.json()

    async def decode(self, token: str, audience) -> tuple[dict, dict]:
        """Verify a SET with PyJWT against the published JWKS; returns (header, claims)."""
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in (await self.jwks())["keys"]}
        key = jwt.PyJWK(keys[header["kid"]])
        claims = jwt.decode(token, key, algorithms=[keys[header["kid"]]["alg"]], audience=audience,
                            issuer=self.issuer, options={"require": ["iss", "iat", "jti"]})
        return header, claims


def payload_of(token: str) -> dict:
    return json.loads(jwt.utils.base64url_decode(token.split(".")[1]))
