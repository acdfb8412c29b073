"""Stream configurations of the simulator (SSF 1.0 section 8.1.1): pure rules, no I/O.

`create_stream`, `update_stream` and `check_status_request` take a request body as
the receiver sent it and either return the result or raise `StreamError` carrying the
HTTP status the spec asks for and a sentence saying what was wrong. Legacy shapes a
real receiver may still send (SSF-NOTES 11.2: `delivery_method`/`url`, RISC delivery
URIs) are normalised, each rewrite noted, and answers always use the final shape.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
LEGACY_METHODS = {
    "https://schemas.openid.net/secevent/risc/delivery-method/push": PUSH,
    "https://schemas.openid.net/secevent/risc/delivery-method/poll": POLL,
    # never defined (SSF issue #65), but seen; mapped leniently
    "https://schemas.openid.net/secevent/caep/delivery-method/push": PUSH,
    "https://schemas.openid.net/secevent/caep/delivery-method/poll": POLL,
}
STATUSES = ("enabled", "paused", "disabled")
TRANSMITTER_FIELDS = ("stream_id", "iss", "aud", "events_supported", "events_delivered",
                      "min_verification_interval", "inactivity_timeout")
RECEIVER_FIELDS = ("events_requested", "delivery", "description")
DEFAULT_MIN_VERIFICATION_INTERVAL = 5
DEFAULT_INACTIVITY_TIMEOUT = 7 * 24 * 3600


class StreamError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Stream:
    stream_id: str
    iss: str
    aud: str | list[str]
    delivery: dict[str, str]
    events_requested: list[str] = field(default_factory=list)
    events_delivered: list[str] = field(default_factory=list)
    description: str | None = None
    status: str = "enabled"
    reason: str | None = None
    policy: str = "simulator"
    faults: dict[str, Any] = field(default_factory=dict)
    min_verification_interval: int = DEFAULT_MIN_VERIFICATION_INTERVAL
    inactivity_timeout: int = DEFAULT_INACTIVITY_TIMEOUT
    created_at: float = 0.0
    updated_at: float = 0.0
    last_verification_at: float | None = None

    @property
    def method(self) -> str:
        return self.delivery["method"]

    @property
    def is_push(self) -> bool:
        return self.method == PUSH

    def config(self, events_supported: list[str]) -> dict[str, Any]:
        """The stream configuration object as the management API answers it."""
        out: dict[str, Any] = {
            "stream_id": self.stream_id,
            "iss": self.iss,
            "aud": self.aud,
            "events_supported": events_supported,
            "events_requested": self.events_requested,
            "events_delivered": self.events_delivered,
            "delivery": dict(self.delivery),
            "min_verification_interval": self.min_verification_interval,
            "inactivity_timeout": self.inactivity_timeout,
        }
        if self.description is not None:
            out["description"] = self.description
        return out

    def stored(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "iss": self.iss, "aud": self.aud, "delivery": self.delivery,
                "events_requested": self.events_requested, "events_delivered": self.events_delivered,
                "description": self.description, "min_verification_interval": self.min_verification_interval,
                "inactivity_timeout": self.inactivity_timeout}


def new_stream_id() -> str:
    return secrets.token_hex(16)  # RFC 3986 unreserved characters only


def normalise_delivery(raw: Any, notes: list[str]) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise StreamError(400, "'delivery' must be an object with 'method' and, for push, 'endpoint_url'")
    delivery = dict(raw)
    if "method" not in delivery and "delivery_method" in delivery:
        delivery["method"] = delivery.pop("delivery_method")
        notes.append("delivery.delivery_method (SSE ID1 / RISC) read as delivery.method")
    if "endpoint_url" not in delivery and "url" in delivery:
        delivery["endpoint_url"] = delivery.pop("url")
        notes.append("delivery.url (SSE ID1 / RISC) read as delivery.endpoint_url")
    method = delivery.get("method")
    if not isinstance(method, str) or not method:
        raise StreamError(400, "'delivery.method' is missing; use urn:ietf:rfc:8935 (push) or urn:ietf:rfc:8936 (poll)")
    if method in LEGACY_METHODS:
        delivery["method"] = LEGACY_METHODS[method]
        notes.append(f"legacy delivery method {method} read as {delivery['method']}")
    elif method not in (PUSH, POLL):
        raise StreamError(400, f"delivery method {method!r} is not supported; use {PUSH} (push) or {POLL} (poll)")
    auth = delivery.get("authorization_header")
    if auth is not None:
        if not isinstance(auth, str):
            raise StreamError(400, "'delivery.authorization_header' must be a string (the Authorization header value)")
        if auth.lower().startswith("authorization:"):
            delivery["authorization_header"] = auth.split(":", 1)[1].strip()
            notes.append("authorization_header began with 'Authorization:'; the header name was removed (SSF issue #258)")
    unknown = sorted(set(delivery) - {"method", "endpoint_url", "authorization_header"})
    for name in unknown:
        delivery.pop(name)
        notes.append(f"unknown delivery member {name!r} ignored")
    return delivery


def _check_push_url(url: Any) -> None:
    if not isinstance(url, str) or not url:
        raise StreamError(400, "push delivery needs 'delivery.endpoint_url', the receiver's URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StreamError(400, f"delivery.endpoint_url {url!r} is not an absolute http(s) URL")


def _events_requested(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StreamError(400, "'events_requested' must be an array of event-type URIs")
    return list(dict.fromkeys(value))


def _description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise StreamError(400, "'description' must be a string")
    return value


def delivered(requested: list[str], supported: list[str]) -> list[str]:
    """events_delivered = requested ∩ supported, in the order requested (unknown URIs ignored, SSF 8.1.1)."""
    known = set(supported)
    return [uri for uri in requested if uri in known]


def create_stream(body: Any, *, issuer: str, supported: list[str], poll_url: str, now: float,
                  default_aud: str | None = None, stream_id: str | None = None) -> tuple[Stream, list[str]]:
    """A new stream from a create request (SSF 8.1.1.1). No `delivery` means poll."""
    if not isinstance(body, dict):
        raise StreamError(400, "the request body must be a JSON object")
    notes: list[str] = []
    stream_id = stream_id or new_stream_id()
    for name in ("stream_id", "events_supported", "events_delivered", "min_verification_interval",
                 "inactivity_timeout"):
        if name in body:
            raise StreamError(400, f"'{name}' is supplied by the transmitter and cannot be set by a create request")
    if "iss" in body and body["iss"] != issuer:
        raise StreamError(400, f"'iss' is supplied by the transmitter ({issuer}); the request asked for {body['iss']!r}")
    delivery = normalise_delivery(body.get("delivery"), notes)
    if delivery is None:
        delivery = {"method": POLL}
        notes.append("no delivery in the request: poll assumed (SSF 8.1.1.1)")
    if delivery["method"] == PUSH:
        _check_push_url(delivery.get("endpoint_url"))
    else:
        if delivery.get("endpoint_url") not in (None, poll_url):
            raise StreamError(400, "the poll endpoint_url is supplied by the transmitter; leave it out of the request")
        delivery["endpoint_url"] = poll_url
    aud = body.get("aud")
    if aud is not None:
        if not (isinstance(aud, str) or (isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud))):
            raise StreamError(400, "'aud' must be a string or a non-empty array of strings")
        notes.append("the request asserted 'aud'; SSF makes it transmitter-supplied, the simulator accepts it on create")
    else:
        aud = default_aud or (delivery["endpoint_url"] if delivery["method"] == PUSH else f"{issuer}/receivers/{stream_id}")
    requested = _events_requested(body.get("events_requested"))
    if not requested:
        notes.append("events_requested is empty: the stream delivers only verification and stream-updated events")
    stream = Stream(stream_id=stream_id, iss=issuer, aud=aud, delivery=delivery, events_requested=requested,
                    events_delivered=delivered(requested, supported), description=_description(body.get("description")),
                    created_at=now, updated_at=now)
    return stream, notes


def update_stream(stream: Stream, body: Any, *, replace: bool, supported: list[str], poll_url: str,
                  now: float) -> list[str]:
    """Apply a PATCH (`replace=False`) or PUT (`replace=True`) to `stream` in place (SSF 8.1.1.3/8.1.1.4).

    Transmitter-supplied properties may be present but must match their current values
    (events_delivered: the value before the update); receiver-supplied ones are applied,
    and on PUT a missing one means "remove"."""
    verb = "PUT" if replace else "PATCH"
    if not isinstance(body, dict):
        raise StreamError(400, "the request body must be a JSON object")
    if body.get("stream_id") != stream.stream_id:
        raise StreamError(400, f"a {verb} needs 'stream_id'")
    current = stream.config(supported)
    for name in TRANSMITTER_FIELDS:
        if name in body and body[name] != current[name]:
            raise StreamError(400, f"'{name}' is supplied by the transmitter and cannot be changed "
                                   f"(current value {current[name]!r})")
    notes: list[str] = []
    if replace:
        missing = [n for n in ("delivery",) if n not in body]
        if missing:
            raise StreamError(400, "a PUT must carry every receiver-supplied property; 'delivery' is missing")
    if "delivery" in body:
        delivery = normalise_delivery(body["delivery"], notes)
        if delivery is None:
            raise StreamError(400, "'delivery' cannot be null")
        if delivery["method"] == PUSH:
            _check_push_url(delivery.get("endpoint_url"))
        else:
            if delivery.get("endpoint_url") not in (None, poll_url):
                raise StreamError(400, "the poll endpoint_url is supplied by the transmitter; leave it out of the request")
            delivery["endpoint_url"] = poll_url
        stream.delivery = delivery
    if "events_requested" in body or replace:
        stream.events_requested = _events_requested(body.get("events_requested"))
        stream.events_delivered = delivered(stream.events_requested, supported)
    if "description" in body or replace:
        stream.description = _description(body.get("description"))
    stream.updated_at = now
    return notes


def check_status_request(body: Any) -> tuple[str, str, str | None]:
    """(stream_id, status, reason) from a status update request (SSF 8.1.2.2)."""
    if not isinstance(body, dict) or not isinstance(body.get("stream_id"), str):
        raise StreamError(400, "a status update needs 'stream_id'")
    status = body.get("status")
    if status not in STATUSES:
        raise StreamError(400, f"'status' must be one of {', '.join(STATUSES)}; got {status!r}")
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise StreamError(400, "'reason' must be a string")
    return body["stream_id"], status, reason
