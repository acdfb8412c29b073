"""Building and signing the simulator's SETs (SSF 1.0 section 4), with fault knobs.

A clean SET has header `typ: secevent+jwt`, `alg` and `kid`; claims `iss`, `iat`,
`jti`, `aud` (the stream's), `txn`, a top-level `sub_id` and `events` with exactly
one event; never `sub` or `exp`. Each fault knob breaks one of these on purpose, the
way real transmitters get them wrong, so a receiver under test can be checked
against every failure it must detect. Keys and signing are jwcrypto's, but for
ES256 with the active key, whose signature is made with the key's own cryptography
object (the same bytes, a quarter cheaper).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from jwcrypto import jwk
from jwcrypto.common import base64url_encode
from jwcrypto.jwa import JWA

from app.core.transmitter.keys import SigningKey, generate_key

# fault -> (what it does, the receiver check that should catch it)
FAULTS: dict[str, tuple[str, str | None]] = {
    "unknown_key": ("signed with a key whose kid is not in the JWKS", "key"),
    "bad_signature": ("the signature's bytes are corrupted", "signature"),
    "wrong_aud": ("aud names another receiver", "audience"),
    "wrong_iss": ("iss names another issuer", "issuer"),
    "iat_future": ("iat one hour in the future", "iat"),
    "iat_past": ("iat 30 days in the past (a stale SET)", "iat"),
    "repeat_jti": ("reuses the jti of the stream's previous SET", "jti"),
    "omit_typ": ("no typ header", "typ"),
    "alg_confusion": ("HS256 keyed with the transmitter's public key (alg confusion)", "key"),
    "legacy_shape": ("SSE ID1 shape: subject inside the event, no top-level sub_id", "sub_id"),
    "shuffle": ("the SETs of one emit are delivered in random order", None),
    "duplicate": ("each SET is delivered twice", None),
}
WRONG_AUD = "https://wrong-audience.invalid/"
WRONG_ISS = "https://wrong-issuer.invalid/"


class FaultError(ValueError):
    pass


def check_faults(names: Any) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FaultError("'faults' must be an array of fault names")
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise FaultError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return list(dict.fromkeys(names))


@dataclass
class SetRequest:
    issuer: str
    aud: str | list[str]
    event_type: str
    payload: dict[str, Any]
    sub_id: dict[str, Any]
    now: float
    jti: str | None = None
    txn: str | None = None


def build_claims(req: SetRequest, faults: list[str] = ()) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": WRONG_ISS if "wrong_iss" in faults else req.issuer,
        "iat": int(req.now) + (3600 if "iat_future" in faults else 0) - (30 * 86400 if "iat_past" in faults else 0),
        "jti": req.jti or secrets.token_hex(16),
        "aud": WRONG_AUD if "wrong_aud" in faults else req.aud,
        "txn": req.txn or secrets.token_hex(8),
        "sub_id": req.sub_id,
        "events": {req.event_type: dict(req.payload)},
    }
    if "legacy_shape" in faults:
        del claims["sub_id"]
        legacy = dict(req.sub_id)
        if legacy.get("format") == "complex":
            legacy.pop("format")  # SSE ID1 complex subjects had no format member
        claims["events"][req.event_type]["subject"] = legacy
    return claims


def sign(claims: dict[str, Any], key: SigningKey, faults: list[str] = (), *,
         header_extra: dict[str, Any] | None = None) -> str:
    header: dict[str, Any] = {"alg": key.alg, "typ": "secevent+jwt", "kid": key.kid}
    header.update({k: v for k, v in (header_extra or {}).items() if k not in ("alg", "kid")})
    signer: jwk.JWK = key.key
    if "unknown_key" in faults:
        stranger = generate_key(key.alg, kid=f"unknown-{secrets.token_hex(4)}")
        signer, header["kid"] = stranger, stranger["kid"]
    if "alg_confusion" in faults:
        pem = key.key.export_to_pem(private_key=False)
        signer = jwk.JWK(kty="oct", k=base64url_encode(pem))
        header["alg"] = "HS256"
    if "omit_typ" in faults:
        del header["typ"]
    # jwcrypto's JWA engine signs the JWS signing input directly: the JWS object would cost a
    # deep copy of its header registry per token (~180 us, measured with benchmarks/deliver.py).
    signing_input = _protected(header) + "." + base64url_encode(_compact_json(claims))
    if signer is key.key and header["alg"] == "ES256":
        signature = _es256(signer)(signing_input.encode("ascii"))
    else:
        signature = _engine(header["alg"]).sign(signer, signing_input.encode("ascii"))
    if "bad_signature" in faults:
        raw = bytearray(signature)
        raw[len(raw) // 2] ^= 0xFF
        signature = bytes(raw)
    return f"{signing_input}.{base64url_encode(signature)}"


def _protected(header: dict[str, Any]) -> str:
    """The encoded protected header. A stream's SETs share one header, so its encoding is kept
    (for all-string headers only: as cache keys, True and 1 would be the same)."""
    if all(type(v) is str for v in header.values()):
        return _encoded_header(tuple(header.items()))
    return base64url_encode(_compact_json(header))


@lru_cache(maxsize=256)
def _encoded_header(items: tuple[tuple[str, Any], ...]) -> str:
    return base64url_encode(_compact_json(dict(items)))


# json.dumps with separators builds a new encoder per call; one kept encoder gives the same text.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


@lru_cache(maxsize=None)
def _engine(alg: str):
    return JWA.signing_alg(alg)


_ES256: dict[int, tuple[jwk.JWK, Callable[[bytes], bytes]]] = {}


def _es256(key: jwk.JWK) -> Callable[[bytes], bytes]:
    """ES256 with the key's cryptography object kept: the same signature as jwcrypto's JWA
    (ECDSA P-256 over SHA-256, r and s as 32 bytes each, RFC 7518 section 3.4), without its
    per-call key lookup and constraint checks (about a quarter of the cost of each SET's
    signature, benchmarks/deliver.py). Keys are few (one per rotation), so the cache is too."""
    entry = _ES256.get(id(key))
    if entry is None or entry[0] is not key:
        private = key.get_op_key("sign")
        ecdsa = ec.ECDSA(hashes.SHA256())

        def sign_es256(data: bytes) -> bytes:
            r, s = decode_dss_signature(private.sign(data, ecdsa))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        entry = _ES256[id(key)] = (key, sign_es256)
    return entry[1]
