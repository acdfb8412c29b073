"""`TransmitterClient`: every SSF 1.0 management operation (section 8) against one transmitter.

Each method performs one recorded exchange (two when an OAuth token was refused and
is renewed) and returns an `Answer`: the status, the answer's JSON normalised to the
final spec shape, and notes saying what was tolerated. The spec's known variants are
accepted and noted ("spec variant: ..."): 200 for create, 202 for update/replace/
status, 204 for add-subject, 200 for remove-subject and delete, 202/200 for verify;
legacy `delivery_method`/`url` and RISC delivery URIs in stream configurations; a
single object where a list was expected. Anything else raises `TransmitterError`
with one sentence built from the transmitter's own description.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from app.core.subscriptions.auth import AuthError
from app.core.subscriptions.discovery import Discovery, DiscoveryError
from app.core.subscriptions.exchanges import Exchange, ExchangeLog
from app.core.transmitter.streams import LEGACY_METHODS, POLL, PUSH

STATUSES = ("enabled", "paused", "disabled")


class TransmitterError(Exception):
    """A management call failed; `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass
class Answer:
    operation: str
    status: int
    data: Any = None
    notes: list[str] = field(default_factory=list)
    exchange_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "status": self.status, "data": self.data, "notes": self.notes,
                "exchange_id": self.exchange_id}


def normalize_config(config: Any, issuer: str) -> tuple[Any, list[str]]:
    """A stream configuration in the final shape, and what had to be rewritten."""
    if not isinstance(config, dict):
        return config, ["the stream configuration is not a JSON object"]
    notes: list[str] = []
    config = dict(config)
    delivery = config.get("delivery")
    if isinstance(delivery, dict):
        delivery = dict(delivery)
        for legacy, final in (("delivery_method", "method"), ("url", "endpoint_url")):
            if legacy in delivery and final not in delivery:
                delivery[final] = delivery.pop(legacy)
                notes.append(f"legacy field delivery.{legacy} read as delivery.{final}")
        method = delivery.get("method")
        if isinstance(method, str) and method in LEGACY_METHODS:
            delivery["method"] = LEGACY_METHODS[method]
            notes.append(f"legacy delivery method {method} read as {delivery['method']}")
        config["delivery"] = delivery
    elif delivery is None:
        notes.append("no delivery in the stream configuration (REQUIRED, SSF 8.1.1)")
    if "stream_id" not in config:
        notes.append("no stream_id in the stream configuration (REQUIRED since SSF ID2)")
    if config.get("iss") not in (None, issuer):
        notes.append(f"the stream's iss {config.get('iss')!r} is not the transmitter's issuer {issuer!r} (SSF 8.1.1)")
    return config, notes


def delivery_mode(config: dict[str, Any]) -> str | None:
    """'push', 'poll' or None for a normalised stream configuration."""
    delivery = config.get("delivery") if isinstance(config, dict) else None
    method = delivery.get("method") if isinstance(delivery, dict) else None
    return {PUSH: "push", POLL: "poll"}.get(method) if isinstance(method, str) else None


class TransmitterClient:
    def __init__(self, discovery: Discovery, auth, log: ExchangeLog):
        self.discovery = discovery
        self.issuer = discovery.issuer
        self.auth = auth
        self.log = log

    # -- streams (8.1.1) ---------------------------------------------------------------------
    async def list_streams(self) -> Answer:
        def shape(a: Answer) -> None:
            data = a.data
            if isinstance(data, dict) and isinstance(data.get("streams"), list):
                data = data["streams"]
                a.notes.append("spec variant: the list came wrapped in {'streams': [...]}; SSF 8.1.1.2 answers an array")
            elif isinstance(data, dict):
                data = [data]
                a.notes.append("spec variant: one stream object instead of an array (SSE ID1: one stream per receiver)")
            elif data is None:
                data = []
            if not isinstance(data, list):
                raise TransmitterError("the transmitter answered the stream list with something that is not an array",
                                       status=a.status)
            a.data = [self._config(c, a.notes) for c in data]

        return await self._call("list", "GET", "configuration_endpoint", expect={200}, shape=shape)

    async def get_stream(self, stream_id: str) -> Answer:
        def shape(a: Answer) -> None:
            if isinstance(a.data, list):
                matching = [c for c in a.data if isinstance(c, dict) and c.get("stream_id") == stream_id]
                if len(matching) != 1:
                    raise TransmitterError(f"the transmitter answered a list without stream {stream_id}",
                                           status=a.status)
                a.notes.append("spec variant: an array answered a read of one stream (SSF 8.1.1.2 answers the object)")
                a.data = matching[0]
            a.data = self._config(a.data, a.notes)

        return await self._call("get", "GET", "configuration_endpoint", expect={200}, params={"stream_id": stream_id},
                                shape=shape)

    async def create_stream(self, body: dict[str, Any]) -> Answer:
        return await self._call("create", "POST", "configuration_endpoint", json_body=body, expect={201},
                                variants={200: "200 instead of 201 Created (SSF 8.1.1.1)"}, shape=self._shape_config)

    async def update_stream(self, body: dict[str, Any]) -> Answer:
        return await self._update("update", "PATCH", body)

    async def replace_stream(self, body: dict[str, Any]) -> Answer:
        return await self._update("replace", "PUT", body)

    async def _update(self, operation: str, method: str, body: dict[str, Any]) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("stream_id"), str):
            raise TransmitterError(f"{method} needs a JSON object with 'stream_id'")
        return await self._call(operation, method, "configuration_endpoint", json_body=body, expect={200},
                                variants={202: "202 Accepted: the change is not processed yet (SSF 8.1.1.3)"},
                                shape=self._shape_config)

    async def delete_stream(self, stream_id: str) -> Answer:
        return await self._call("delete", "DELETE", "configuration_endpoint", params={"stream_id": stream_id},
                                expect={204}, variants={200: "200 instead of 204 No Content (SSE ID1 answered 200)"})

    # -- status (8.1.2) --------------------------------------------------------------------------
    async def get_status(self, stream_id: str) -> Answer:
        return await self._call("status", "GET", "status_endpoint", params={"stream_id": stream_id}, expect={200},
                                shape=self._check_status)

    async def set_status(self, stream_id: str, status: str, reason: str | None = None) -> Answer:
        if status not in STATUSES:
            raise TransmitterError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        body = {"stream_id": stream_id, "status": status, **({"reason": reason} if reason else {})}
        return await self._call("set_status", "POST", "status_endpoint", json_body=body, expect={200},
                                variants={202: "202 Accepted: the transmitter has not decided yet (SSF 8.1.2.2)",
                                          204: "204 without the status object SSF 8.1.2.2 asks for"},
                                shape=lambda a: a.data is None or self._check_status(a))

    def _check_status(self, a: Answer) -> None:
        if not isinstance(a.data, dict) or a.data.get("status") not in STATUSES:
            raise TransmitterError("the status answer has no valid 'status' (enabled, paused or disabled)",
                                   status=a.status)
        if "stream_id" not in a.data:
            a.notes.append("no stream_id in the status answer (SSF ID3 added it)")

    # -- subjects (8.1.3) ----------------------------------------------------------------------------
    async def add_subject(self, stream_id: str, subject: dict[str, Any], *, verified: bool | None = None) -> Answer:
        body: dict[str, Any] = {"stream_id": stream_id, "subject": subject}
        if verified is not None:
            body["verified"] = verified
        return await self._call("add_subject", "POST", "add_subject_endpoint", json_body=body, expect={200},
                                variants={204: "204 for add-subject (SSF 8.1.3.2 says 200; 9.1 allows 204)",
                                          202: "202 for add-subject"})

    async def remove_subject(self, stream_id: str, subject: dict[str, Any]) -> Answer:
        return await self._call("remove_subject", "POST", "remove_subject_endpoint",
                                json_body={"stream_id": stream_id, "subject": subject}, expect={204},
                                variants={200: "200 for remove-subject (SSF 8.1.3.3 says 204)"})

    # -- verification (8.1.4) -----------------------------------------------------------------------
    async def request_verification(self, stream_id: str, state: str | None = None) -> Answer:
        """POST the verification request; `state` defaults to a fresh random value (in `data`)."""
        state = state if state is not None else secrets.token_urlsafe(18)

        def shape(a: Answer) -> None:
            a.data = {"stream_id": stream_id, "state": state}

        return await self._call("verify", "POST", "verification_endpoint",
                                json_body={"stream_id": stream_id, "state": state}, expect={204},
                                variants={202: "202 instead of 204 for verification (seen in peers)",
                                          200: "200 instead of 204 for verification"}, shape=shape)

    # -- poll (RFC 8936) ---------------------------------------------------------------------------
    async def poll(self, endpoint_url: str, body: dict[str, Any], *, timeout: float | None = None,
                   shape=None) -> Answer:
        return await self._call("poll", "POST", endpoint_url, json_body=body, expect={200}, timeout=timeout,
                                extra_headers={"Content-Language": "en"} if body.get("setErrs") else None,
                                shape=shape)

    # -- plumbing -------------------------------------------------------------------------------------
    def _config(self, config: Any, notes: list[str]) -> Any:
        config, more = normalize_config(config, self.issuer)
        notes += [f"spec variant: {n}" if n.startswith("legacy") else n for n in more]
        return config

    def _shape_config(self, a: Answer) -> None:
        if a.data is not None:
            a.data = self._config(a.data, a.notes)

    async def _call(self, operation: str, method: str, endpoint: str, *, expect: set[int],
                    variants: dict[int, str] | None = None, json_body: Any = None,
                    params: dict[str, str] | None = None, timeout: float | None = None,
                    extra_headers: dict[str, str] | None = None, shape=None) -> Answer:
        """One operation; `shape(answer)` normalises the data (and adds notes) before the record is written."""
        try:
            url = endpoint if "://" in endpoint else self.discovery.endpoint(endpoint)
        except DiscoveryError as exc:
            raise TransmitterError(str(exc)) from None
        for attempt in (1, 2):
            headers = {"Accept": "application/json", **(extra_headers or {})}
            try:
                authorization = await self.auth.authorization()
            except AuthError as exc:
                raise TransmitterError(str(exc)) from None
            if authorization:
                headers["Authorization"] = authorization
            ex = await self.log.perform(method, url, operation=operation, issuer=self.issuer, headers=headers,
                                        json_body=json_body, params=params, timeout=timeout)
            answer = None
            try:
                if ex.status == 401 and attempt == 1 and self.auth.kind == "client_credentials":
                    ex.notes.append("401: the access token was refused; a new one is fetched and the call retried once")
                    self.auth.invalidate()
                    continue
                answer = self._interpret(ex, expect, variants or {})
                if shape is not None:
                    shape(answer)
                return answer
            except TransmitterError as exc:
                ex.notes.append(str(exc))
                raise
            finally:
                await self.log.record(ex)
                if answer is not None:
                    answer.exchange_id = ex.id
        raise AssertionError("unreachable")

    def _interpret(self, ex: Exchange, expect: set[int], variants: dict[int, str]) -> Answer:
        what = f"{ex.operation} ({ex.method} {ex.url})"
        if ex.response is None:
            raise TransmitterError(f"cannot reach the transmitter for {what}: {ex.error}")
        if ex.error:
            raise TransmitterError(f"{what}: {ex.error}", status=ex.status)
        status = ex.status
        data = _json_or_none(ex.response)
        if status not in expect and status not in variants:
            raise _refusal(what, status, data, ex.response.headers.get("Retry-After"))
        notes = []
        if status in variants:
            notes.append(f"spec variant: {variants[status]}")
        if ex.response.content and data is _NOT_JSON:
            raise TransmitterError(f"{what} answered HTTP {status} with a body that is not JSON", status=status)
        ex.notes += notes
        answer = Answer(ex.operation, status, None if data is _NOT_JSON else data, notes)
        answer.notes = ex.notes  # one list: notes added while normalising land in the record too
        return answer


_NOT_JSON = object()


def _json_or_none(response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _refusal(what: str, status: int, data: Any, retry_after: str | None) -> TransmitterError:
    detail = ""
    if isinstance(data, dict):
        for key in ("description", "error_description", "message", "error", "err"):
            if isinstance(data.get(key), str) and data[key]:
                detail = f": {data[key]}"
                break
    meaning = {401: "the transmitter refused the credentials", 403: "the credentials do not allow this",
               404: "not found", 409: "conflict", 429: "too many requests"}.get(status, "refused")
    wait = None
    if status == 429 and retry_after and retry_after.strip().isdigit():
        wait = float(retry_after.strip())
        detail += f" (retry after {retry_after.strip()} s)"
    return TransmitterError(f"{what} failed, {meaning} (HTTP {status}){detail}", status=status, retry_after=wait)
