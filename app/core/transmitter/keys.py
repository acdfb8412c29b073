"""The simulator's signing keys: generated per workspace with jwcrypto, rotated with a grace period.

The active key signs; a rotated-out key stays in the JWKS until its grace period ends, so
receivers holding SETs signed just before a rotation can still verify them. The JWKS is
built from the public parts only (`export_public`), never from the stored private JWKs.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass

from jwcrypto import jwk

ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
DEFAULT_ALG = "ES256"
DEFAULT_GRACE = 24 * 3600.0


def generate_key(alg: str, kid: str | None = None) -> jwk.JWK:
    kid = kid or f"sim-{alg.lower()}-{secrets.token_hex(4)}"
    params = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "ES256":
        return jwk.JWK.generate(kty="EC", crv="P-256", **params)
    if alg in ("RS256", "PS256"):
        return jwk.JWK.generate(kty="RSA", size=2048, **params)
    if alg == "EdDSA":
        return jwk.JWK.generate(kty="OKP", crv="Ed25519", **params)
    raise ValueError(f"unsupported signing algorithm {alg!r}; choose one of {', '.join(ALGORITHMS)}")


@dataclass
class SigningKey:
    kid: str
    alg: str
    key: jwk.JWK
    created_at: float
    retired_at: float | None = None
    expires_at: float | None = None  # end of the grace period of a retired key

    def public_jwk(self) -> dict:
        public = json.loads(self.key.export_public())
        public.update(kid=self.kid, use="sig", alg=self.alg)
        return public


class KeyRing:
    """The keys of one workspace's simulator (loaded from and saved to `signing_keys`)."""

    def __init__(self, keys: list[SigningKey], *, clock=time.time):
        self._keys = keys
        self._clock = clock

    @classmethod
    def load(cls, conn: sqlite3.Connection, *, alg: str | None = DEFAULT_ALG, clock=time.time) -> "KeyRing":
        """Read the stored keys; generate and store the first one when there is none.
        `alg` picks the algorithm of a first key, and of a new one when the active key's differs;
        None keeps the active key whatever its algorithm (a reader such as `replay` must not rotate)."""
        rows = conn.execute(
            "SELECT kid, alg, private_jwk, created_at, retired_at, expires_at FROM signing_keys ORDER BY created_at"
        ).fetchall()
        keys = [SigningKey(kid, a, jwk.JWK.from_json(text), created, retired, expires)
                for kid, a, text, created, retired, expires in rows]
        ring = cls(keys, clock=clock)
        if ring.active is None or (alg is not None and ring.active.alg != alg):
            _, op = ring.rotate(alg=alg)
            conn.execute("BEGIN IMMEDIATE")
            op(conn)
            conn.execute("COMMIT")
        return ring

    @property
    def active(self) -> SigningKey | None:
        live = [k for k in self._keys if k.retired_at is None]
        return live[-1] if live else None

    @property
    def keys(self) -> list[SigningKey]:
        return list(self._keys)

    def published(self) -> list[SigningKey]:
        now = self._clock()
        return [k for k in self._keys if k.retired_at is None or (k.expires_at is not None and k.expires_at > now)]

    def jwks(self) -> dict:
        return {"keys": [k.public_jwk() for k in self.published()]}

    def rotate(self, *, alg: str | None = None, grace: float = DEFAULT_GRACE):
        """Make a new active key; the old one stays published for `grace` seconds.
        Returns the key and the operation that saves the change (for the workspace writer)."""
        now = self._clock()
        alg = alg or (self.active.alg if self.active else DEFAULT_ALG)
        new = SigningKey("", alg, generate_key(alg), now)
        new.kid = new.key["kid"]
        retired = []
        for key in self._keys:
            if key.retired_at is None:
                key.retired_at, key.expires_at = now, now + grace
                retired.append((key.retired_at, key.expires_at, key.kid))
        self._keys.append(new)
        private = new.key.export_private()

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE kid = ?", retired)
            conn.execute("INSERT INTO signing_keys (kid, alg, private_jwk, created_at) VALUES (?, ?, ?, ?)",
                         (new.kid, alg, private, now))

        return new, op
