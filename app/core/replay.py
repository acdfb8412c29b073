"""Replay: send captured requests again, exactly or edited (and re-signed), one or in bulk.

A replay is a delivery like the simulator's (source `replay`, linked to its capture
and run), sent through the same `PushDeliverer`: redirects never followed, every
attempt recorded, the retry policy chosen per replay (`github`, no retries, by
default), so replays show up in the same timelines.

Modes:
  exact   the original method, headers (minus hop-by-hop ones, Host and
          Content-Length, which are recomputed) and body bytes: the original
          signature is untouched, and so are its timestamps (a note says when a
          receiver's freshness check may now refuse it)
  edited  headers and body replaced; for a SET, header and claims edited as JSON and
          then re-signed with the workspace's simulator key (fresh iat and jti by
          default), left unsigned (alg none), or sent with the original signature
          (which must then fail: a tampering demonstration)
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from jwcrypto.common import base64url_encode

from app.core.store import deliveries as store
from app.core.store.writer import StoreWriter
from app.core.transmitter import sets as setlib
from app.core.transmitter.delivery import PushDeliverer, PushDelivery
from app.core.transmitter.keys import SigningKey

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}
SIGNINGS = ("resign", "unsigned", "original")
FRESHNESS = 300.0  # what Stripe, Slack and Standard Webhooks libraries tolerate


class ReplayEditError(ValueError):
    """An edit cannot be sent; the message points at the spot."""


@dataclass
class ReplayRequest:
    method: str
    headers: list[tuple[str, str]]
    body: bytes
    capture_id: int | None = None
    jti: str | None = None
    event_type: str | None = None
    notes: list[str] = field(default_factory=list)


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def exact_request(capture: dict[str, Any], *, now: float | None = None) -> ReplayRequest:
    now = time.time() if now is None else now
    req = ReplayRequest(capture["method"], forwarded_headers(capture["headers"]), bytes(capture["body"]),
                        capture["id"], capture.get("jti"), (capture.get("event_types") or [None])[0])
    if capture.get("body_truncated"):
        req.notes.append(f"the capture kept only {len(req.body)} of {capture['body_size']} bytes; the replay sends what was kept")
    req.notes += freshness_notes(capture, now)
    return req


def freshness_notes(capture: dict[str, Any], now: float) -> list[str]:
    """Why a byte-exact replay may now fail a receiver's freshness check."""
    notes = []
    claims = capture.get("set_claims") or {}
    iat = claims.get("iat")
    if isinstance(iat, (int, float)) and not isinstance(iat, bool) and now - iat > FRESHNESS:
        notes.append(f"the SET's iat is {_ago(now - iat)} old; a receiver that checks freshness may refuse it")
    headers = {k.lower(): v for k, v in capture["headers"]}
    stamp = None
    if "stripe-signature" in headers:
        part = next((p for p in headers["stripe-signature"].split(",") if p.strip().startswith("t=")), "")
        stamp = part.strip()[2:]
    for name in ("webhook-timestamp", "svix-timestamp", "x-slack-request-timestamp"):
        stamp = stamp or headers.get(name)
    if stamp and stamp.isdigit() and now - int(stamp) > FRESHNESS:
        notes.append(f"the signed timestamp is {_ago(now - int(stamp))} old (tolerance is usually 5 min): the "
                     "original signature stays valid but a verifier will likely reject it as a replay")
    return notes


def _ago(seconds: float) -> str:
    from app.core.timeline import format_duration

    return format_duration(seconds)


def parse_json_edit(text: str | dict | list, what: str) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplayEditError(f"{what}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def check_claims(claims: Any) -> None:
    if not isinstance(claims, dict):
        raise ReplayEditError("claims: must be a JSON object")
    rules = {"iss": (str,), "jti": (str,), "iat": (int, float), "events": (dict,), "txn": (str, int),
             "sub_id": (dict,)}
    for name, types in rules.items():
        if name in claims and (not isinstance(claims[name], types) or isinstance(claims[name], bool)):
            raise ReplayEditError(f"claims: '{name}' must be {' or '.join(t.__name__ for t in types)}")
    aud = claims.get("aud")
    if aud is not None and not (isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))):
        raise ReplayEditError("claims: 'aud' must be a string or an array of strings")


def edited_request(capture: dict[str, Any], *, headers: Any = None, body: bytes | str | None = None,
                   set_header: Any = None, set_claims: Any = None, signing: str = "resign",
                   key: SigningKey | None = None, fresh_iat: bool = True, fresh_jti: bool = True,
                   issuer: str | None = None, now: float | None = None) -> ReplayRequest:
    """An edited replay. For a SET, `set_header`/`set_claims` (dicts or JSON text) replace the
    decoded ones and `signing` says how the new token is signed; re-signing with `issuer`
    also sets `iss` to it (the issuer whose JWKS holds `key`)."""
    now = time.time() if now is None else now
    hdrs = parse_json_edit(headers, "headers") if headers is not None else None
    if hdrs is not None:
        if isinstance(hdrs, dict):
            hdrs = list(hdrs.items())
        if not isinstance(hdrs, list) or not all(isinstance(h, (list, tuple)) and len(h) == 2
                                                 and all(isinstance(x, str) for x in h) for h in hdrs):
            raise ReplayEditError("headers: an object of name -> value, or a list of [name, value] pairs")
    req = ReplayRequest(capture["method"], forwarded_headers(hdrs if hdrs is not None else capture["headers"]),
                        bytes(capture["body"]), capture["id"], capture.get("jti"), (capture.get("event_types") or [None])[0])
    if body is not None:
        req.body = body.encode() if isinstance(body, str) else bytes(body)
    is_set = capture.get("kind") == "set" and (set_header is not None or set_claims is not None or signing != "original")
    if not is_set:
        return req
    header = parse_json_edit(set_header, "header") if set_header is not None else dict(capture.get("set_header") or {})
    claims = parse_json_edit(set_claims, "claims") if set_claims is not None else dict(capture.get("set_claims") or {})
    if not isinstance(header, dict):
        raise ReplayEditError("header: must be a JSON object")
    check_claims(claims)
    if signing not in SIGNINGS:
        raise ReplayEditError(f"signing: one of {', '.join(SIGNINGS)}")
    if signing == "resign":
        if key is None:
            raise ReplayEditError("signing: re-signing needs a workspace key (the simulator's)")
        if fresh_iat:
            claims["iat"] = int(now)
        if fresh_jti:
            claims["jti"] = secrets.token_hex(16)
        if issuer:
            claims["iss"] = issuer  # the key's issuer, so a verifier finds the key where iss points
        token = setlib.sign(claims, key, header_extra={k: v for k, v in header.items() if k not in ("alg", "kid")})
        req.notes.append(f"re-signed with {key.alg} key {key.kid}" + (" (fresh iat)" if fresh_iat else "")
                         + (" (fresh jti)" if fresh_jti else ""))
    else:
        signature = "" if signing == "unsigned" else bytes(capture["body"]).decode("ascii", "replace").rsplit(".", 1)[-1]
        if signing == "unsigned":
            header = {**header, "alg": "none"}
            header.pop("kid", None)
            req.notes.append("unsigned (alg none): a receiver must refuse it")
        else:
            req.notes.append("the original signature over edited content: a receiver must refuse it")
        token = (base64url_encode(json.dumps(header, separators=(",", ":"))) + "."
                 + base64url_encode(json.dumps(claims, separators=(",", ":"))) + "." + signature)
    req.body = token.encode()
    req.jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
    req.headers = [(k, v) for k, v in req.headers if k.lower() != "content-type"] + [
        ("Content-Type", "application/secevent+jwt")]
    return req


@dataclass
class ReplayOutcome:
    capture_id: int | None
    delivery_id: int | None
    target: str
    state: str
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    notes: list[str] = field(default_factory=list)
    queued: bool = False  # handed to a simulator stream, which delivers it with its own policy

    @property
    def ok(self) -> bool:
        return self.state == store.DELIVERED or (self.queued and self.state == store.PENDING)

    def to_json(self) -> dict[str, Any]:
        return {"capture_id": self.capture_id, "delivery_id": self.delivery_id, "target": self.target,
                "state": self.state, "status": self.status, "error": self.error, "latency_ms": self.latency_ms,
                "ok": self.ok, "queued": self.queued, "notes": self.notes}


class Replayer:
    """Sends replay requests as recorded deliveries through a PushDeliverer."""

    def __init__(self, writer: StoreWriter, deliverer: PushDeliverer, *, clock: Callable[[], float] = time.time):
        self._writer = writer
        self._deliverer = deliverer
        self._clock = clock

    async def send(self, req: ReplayRequest, target: str, *, policy: str = "github",
                   run_id: int | None = None) -> ReplayOutcome:
        now = self._clock()
        item = store.NewDelivery(None, req.jti or f"capture-{req.capture_id}", req.event_type, req.body, "push",
                                 target, now, policy, source="replay", http_method=req.method,
                                 request_headers=req.headers, capture_id=req.capture_id, run_id=run_id)
        [delivery_id] = await self._writer.run(store.insert_deliveries([item]))
        state = await self._deliverer.attempt(PushDelivery(delivery_id, None, item.jti, req.body, target, now, policy,
                                                           http_method=req.method, headers=req.headers))
        last = (await self._writer.run(lambda c: store.attempts_of(c, delivery_id)))[-1]
        return ReplayOutcome(req.capture_id, delivery_id, target, state, last["status"], last["error"],
                             last["latency_ms"], list(req.notes))
