"""Independent peers for tests: keys and SETs made with PyJWT and `cryptography`,
never with our jwcrypto code, so verification is checked by someone else's JOSE."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
CREDENTIAL_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/credential-change"


def _generate(alg: str):
    if alg.startswith(("RS", "PS")):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return private, RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        return private, ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    if alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        return private, OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    raise ValueError(alg)


@dataclass
class PeerIssuer:
    """An SSF transmitter's signing side, played by PyJWT."""

    issuer: str = "https://idp.example.com"
    alg: str = "ES256"
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self):
        self.private_key, public = _generate(self.alg)
        public.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        self.public_jwk = public

    @property
    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    def claims(self, *, event: str = SESSION_REVOKED, payload: dict | None = None, aud="https://receiver.example.com",
               sub_id: dict | None = None, **extra) -> dict:
        claims = {
            "iss": self.issuer,
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
            "aud": aud,
            "txn": "8675309",
            "sub_id": sub_id or {"format": "email", "email": "jane@example.com"},
            "events": {event: payload if payload is not None else {"event_timestamp": int(time.time()), "initiating_entity": "policy"}},
        }
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, *, headers: dict | None = None, key=None, alg: str | None = None) -> str:
        hdrs = {"typ": "secevent+jwt", "kid": self.kid}
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        return jwt.encode(claims, key if key is not None else self.private_key, algorithm=alg or self.alg, headers=hdrs)

    def set(self, **kw) -> str:
        return self.sign(self.claims(**kw))


@dataclass
class IssuerServer:
    runner: web.AppRunner
    issuer: str
    hits: dict

    async def cleanup(self):
        await self.runner.cleanup()


async def serve_issuer(peer: PeerIssuer, *, issuer_path: str = "") -> tuple[IssuerServer, str]:
    """Serve the peer's SSF metadata and JWKS on 127.0.0.1; returns (server, issuer URL).
    The peer's `issuer` is rewritten to the served URL."""
    app = web.Application()
    hits = {"jwks": 0}

    async def jwks(request):
        hits["jwks"] += 1
        return web.json_response(peer.jwks)

    async def metadata(request):
        return web.json_response({"issuer": peer.issuer, "jwks_uri": peer.issuer.rstrip("/").replace(issuer_path, "") + "/jwks"})

    app.router.add_get("/jwks", jwks)
    app.router.add_get("/.well-known/ssf-configuration" + issuer_path, metadata)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    peer.issuer = f"http://127.0.0.1:{port}{issuer_path}"
    return IssuerServer(runner, peer.issuer, hits), peer.issuer


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))
