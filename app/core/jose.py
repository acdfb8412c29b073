"""Untrusted decoding of compact JOSE serialisations.

Everything here only *reads* a token: nothing is trusted and nothing is verified
(verification lives in `verify.py` and goes through jwcrypto). The decoder never
raises on bad input; it returns a `DecodedToken` whose `error` says what is wrong,
so the UI can show whatever parts did decode.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def b64url_decode(part: str) -> bytes:
    """Decode base64url without padding; raises ValueError on bad input.

    What base64.urlsafe_b64decode does (characters outside the alphabet are
    skipped, as binascii does), minus its wrapper calls: three per token."""
    if "+" in part or "/" in part or "=" in part:
        raise ValueError("not base64url (contains '+', '/' or '=')")
    try:
        data = part.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base64url: string argument should contain only ASCII characters") from None
    try:
        return binascii.a2b_base64(data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64url: {exc}") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class DecodedToken:
    """What could be read from a compact token, trusted or not."""

    raw: str
    kind: str = "unknown"  # "jws" | "jwe" | "unknown"
    header: dict[str, Any] | None = None
    header_text: str | None = None
    claims: dict[str, Any] | None = None
    claims_text: str | None = None  # the payload as the token carried it (set when claims is)
    payload: bytes | None = None
    signature: bytes | None = None
    signing_input: bytes | None = None
    error: str | None = None
    parts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.kind == "jws"


def _json_object(data: bytes, what: str) -> tuple[dict[str, Any], str]:
    """The JSON object and its text (decoded once, kept for storage)."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value, text


def decode_compact(token: str | bytes) -> DecodedToken:
    """Split and decode a compact JWS (3 parts) or recognise a JWE (5 parts)."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            return DecodedToken(raw=token.decode("utf-8", "replace"), error="token is not ASCII text")
    text = token.strip()
    result = DecodedToken(raw=text)
    if not text:
        result.error = "empty body: expected a compact JWS (header.payload.signature)"
        return result
    parts = text.split(".")
    result.parts = parts
    if len(parts) == 5:
        result.kind = "jwe"
        try:
            result.header, _ = _json_object(b64url_decode(parts[0]), "JWE protected header")
        except ValueError as exc:
            result.error = str(exc)
            return result
        result.error = (
            "the SET is encrypted (JWE, 5 parts); Signalscope cannot decrypt it "
            f"(alg {result.header.get('alg')!r}, enc {result.header.get('enc')!r})"
        )
        return result
    if len(parts) != 3:
        result.error = f"not a compact JWS: expected 3 dot-separated parts, found {len(parts)}"
        return result
    result.kind = "jws"
    try:
        result.header, result.header_text = _json_object(b64url_decode(parts[0]), "JOSE header")
    except ValueError as exc:
        result.error = f"JOSE header: {exc}"
        return result
    try:
        result.payload = b64url_decode(parts[1])
    except ValueError as exc:
        result.error = f"payload: {exc}"
        return result
    try:
        result.signature = b64url_decode(parts[2])
    except ValueError as exc:
        result.error = f"signature: {exc}"
        return result
    result.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        result.claims, result.claims_text = _json_object(result.payload, "payload")
    except ValueError as exc:
        result.error = str(exc)
    return result
