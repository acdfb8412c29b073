"""The simulator's HTTP face: SSF discovery, JWKS, the stream management API, poll, control.

Routes (all JSON; everything but discovery and JWKS needs `Authorization: Bearer
<management_token>`):

  GET  /.well-known/ssf-configuration[/issuer-path]   metadata (SSF 7; the legacy
                                                      sse-configuration path answers too)
  GET  /jwks.json                                     public signing keys
  GET|POST|PATCH|PUT|DELETE /ssf/streams              stream configuration (SSF 8.1.1)
  GET|POST /ssf/status                                stream status (8.1.2)
  POST /ssf/subjects:add | /ssf/subjects:remove       subjects (8.1.3): 200 / 204
  POST /ssf/verify                                    verification (8.1.4): 204, or 429 + Retry-After
  POST /ssf/poll/{stream_id}                          RFC 8936 poll endpoint of one stream
  POST /control/emit                                  emit an event (what `signalscope emit` calls)
  POST /control/streams/{stream_id}                   simulator settings: retry policy, fault knobs
  POST /control/status                                a transmitter-initiated status change
  POST /control/keys:rotate                           rotate the signing key
  GET  /control/deliveries[?stream_id=]               deliveries and their attempts (JSON lines shape)
  GET|POST /control/transmitter                       transmitter-wide knobs: JWKS faults, one
                                                      stream per receiver (409 on a second create),
                                                      202 answers to updates and status changes
"""

from __future__ import annotations

import asyncio
import hmac
from http import HTTPStatus
import json
import math
from typing import Any, Awaitable, Callable

from aiohttp import web

from app.core.bus import Bus, TransmitterExchange
from app.core.retry import PRESETS
from app.core.store import deliveries as store
from app.core.transmitter.poll import PollRequestError, parse_poll_request
from app.core.transmitter.service import Transmitter
from app.core.transmitter.sets import FAULTS
from app.core.transmitter.streams import POLL, PUSH, StreamError, check_status_request

NO_STORE = {"Cache-Control": "no-store"}


def metadata(t: Transmitter) -> dict[str, Any]:
    base = t.base_url
    return {
        "spec_version": "1_0",
        "issuer": t.issuer,
        "jwks_uri": f"{base}/jwks.json",
        "delivery_methods_supported": [PUSH, POLL],
        "configuration_endpoint": f"{base}/ssf/streams",
        "status_endpoint": f"{base}/ssf/status",
        "add_subject_endpoint": f"{base}/ssf/subjects:add",
        "remove_subject_endpoint": f"{base}/ssf/subjects:remove",
        "verification_endpoint": f"{base}/ssf/verify",
        "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6750"}],
        "default_subjects": t.settings.default_subjects,
    }


class TransmitterServer:
    def __init__(self, transmitter: Transmitter, bus: Bus, reader: Callable[[], Any]):
        self.t = transmitter
        self._bus = bus
        self._reader = reader  # a read connection to the workspace (for /control/deliveries)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> str:
        app = web.Application(client_max_size=1024 * 1024)
        r = app.router
        path = self.t.settings.issuer_path.rstrip("/")
        for name in ("ssf-configuration", "sse-configuration"):
            r.add_get(f"/.well-known/{name}{path}", self._metadata)
        r.add_get("/jwks.json", self._jwks)
        r.add_route("*", "/ssf/streams", self._guard(self._streams))
        r.add_route("*", "/ssf/status", self._guard(self._status))
        r.add_post("/ssf/subjects:add", self._guard(self._add_subject))
        r.add_post("/ssf/subjects:remove", self._guard(self._remove_subject))
        r.add_post("/ssf/verify", self._guard(self._verify))
        r.add_post("/ssf/poll/{stream_id}", self._guard(self._poll))
        r.add_post("/control/emit", self._guard(self._emit))
        r.add_post("/control/streams/{stream_id}", self._guard(self._configure))
        r.add_post("/control/status", self._guard(self._control_status))
        r.add_post("/control/keys:rotate", self._guard(self._rotate))
        r.add_get("/control/deliveries", self._guard(self._deliveries))
        r.add_get("/control/catalogue", self._guard(self._catalogue))
        r.add_route("*", "/control/transmitter", self._guard(self._transmitter_knobs))
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - no public accessor
        h = host if ":" not in host else f"[{host}]"
        return f"http://{h}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- plumbing -------------------------------------------------------------------
    def _guard(self, handler: Callable[[web.Request, Any], Awaitable[web.StreamResponse]]):
        async def guarded(request: web.Request) -> web.StreamResponse:
            notes: list[str] = []
            supplied = request.headers.get("Authorization", "")
            expected = f"Bearer {self.t.management_token}"
            if not hmac.compare_digest(supplied.encode("utf-8", "replace"), expected.encode()):
                challenge = 'Bearer realm="signalscope-transmitter"' + (', error="invalid_token"' if supplied else "")
                response = _error(401, "the management token is " + ("wrong" if supplied else "missing"),
                                  headers={"WWW-Authenticate": challenge})
            else:
                try:
                    body = await _json_body(request)
                    response = await handler(request, body, notes)
                    if request.path.startswith("/ssf/") and response.status < 400:
                        self.t.touch(_stream_named(request, body))  # receiver activity (inactivity_timeout)
                except StreamError as exc:
                    response = _error(exc.status, exc.message)
                except PollRequestError as exc:
                    response = _error(400, str(exc))
            self._bus.publish(TransmitterExchange(request.method, request.path_qs, response.status, tuple(notes)))
            return response
        return guarded

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response(metadata(self.t))

    async def _jwks(self, request: web.Request) -> web.Response:
        fault = self.t.settings.jwks_fault
        if fault == "unavailable":
            return _error(503, "the JWKS is unavailable (simulated outage: jwks_fault=unavailable)",
                          headers={"Retry-After": "30"})
        if fault == "malformed":
            return web.Response(status=200, content_type="text/html",
                                text="<html><body><h1>502 Bad Gateway</h1></body></html>")
        if fault == "slow":
            await asyncio.sleep(self.t.settings.jwks_delay)
        return web.json_response(self.t.published_jwks(), headers={"Cache-Control": "max-age=60"})

    # -- stream configuration -----------------------------------------------------------
    async def _streams(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        t = self.t
        if request.method == "GET":
            stream_id = request.query.get("stream_id")
            if stream_id is None:
                return _json([t.config_of(s) for s in t.streams.values()])
            return _json(t.config_of(t.get(stream_id)))
        if request.method == "POST":
            stream, more = await t.create(body)
            notes += more
            return _json(t.config_of(stream), status=201)
        if request.method in ("PATCH", "PUT"):
            if t.settings.defer_changes:
                await t.update_later(body, replace=request.method == "PUT")
                notes.append(f"answered 202: the change applies in {t.settings.defer_changes:g} s (defer_changes)")
                return web.Response(status=202, headers=NO_STORE)
            stream, more = await t.update(body, replace=request.method == "PUT")
            notes += more
            return _json(t.config_of(stream))
        if request.method == "DELETE":
            stream_id = request.query.get("stream_id")
            if not stream_id:
                raise StreamError(400, "DELETE needs the stream_id query parameter (SSF 8.1.1.5)")
            await t.delete(stream_id)
            return web.Response(status=204, headers=NO_STORE)
        raise StreamError(405, f"{request.method} is not a stream configuration operation")

    async def _status(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        if request.method == "GET":
            stream = self.t.get(request.query.get("stream_id"))
            return _json(_status_json(stream))
        if request.method == "POST":
            stream_id, status, reason = check_status_request(body)
            if self.t.settings.defer_changes:
                await self.t.set_status_later(stream_id, status, reason)
                notes.append(f"answered 202: the status changes in {self.t.settings.defer_changes:g} s, "
                             "announced by a stream-updated SET (defer_changes)")
                return web.Response(status=202, headers=NO_STORE)
            stream = await self.t.set_status(stream_id, status, reason)
            return _json(_status_json(stream))
        raise StreamError(405, f"{request.method} is not a status operation")

    async def _add_subject(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        await self.t.add_subject(body)
        return web.Response(status=200, headers=NO_STORE)

    async def _remove_subject(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        await self.t.remove_subject(body)
        return web.Response(status=204, headers=NO_STORE)

    async def _verify(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        wait = await self.t.verify(body)
        if wait is not None:
            return _error(429, f"verification was requested less than min_verification_interval ago; retry in {wait:.1f} s",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return web.Response(status=204, headers=NO_STORE)

    async def _poll(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        stream = self.t.get(request.match_info["stream_id"])
        if stream.method != POLL:
            raise StreamError(400, f"stream {stream.stream_id} delivers by push; it has no poll queue")
        req = parse_poll_request(body)
        notes += req.notes
        return _json(await self.t.poll.poll(stream.stream_id, req))

    # -- control -------------------------------------------------------------------------
    async def _emit(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        if not isinstance(body, dict) or not isinstance(body.get("event_type"), str):
            raise StreamError(400, "emit needs 'event_type' (a URI or a catalogue name) and 'subject'")
        if "subject" not in body:
            raise StreamError(400, "emit needs 'subject', a subject identifier such as "
                                   '{"format": "email", "email": "jane@example.com"}')
        result = await self.t.emit(event_type=body["event_type"], subject=body["subject"],
                                   stream_id=body.get("stream_id"), claims=body.get("claims"),
                                   faults=body.get("faults"), count=body.get("count", 1), txn=body.get("txn"),
                                   force=bool(body.get("force", False)))
        return _json(result.to_json(), status=200 if result.emitted else 409 if result.skipped else 200)

    async def _configure(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        body = body if isinstance(body, dict) else {}
        stream = await self.t.configure(request.match_info["stream_id"], policy=body.get("policy"),
                                        faults=body.get("faults"))
        return _json({"stream_id": stream.stream_id, "policy": stream.policy,
                      "faults": stream.faults.get("faults", []), "policies": sorted(PRESETS),
                      "known_faults": {k: v[0] for k, v in FAULTS.items()}})

    async def _control_status(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        stream_id, status, reason = check_status_request(body)
        stream = await self.t.set_status(stream_id, status, reason, by_transmitter=True)
        return _json(_status_json(stream))

    async def _rotate(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        body = body if isinstance(body, dict) else {}
        grace = body.get("grace_seconds", 86400)
        if not isinstance(grace, (int, float)) or isinstance(grace, bool) or grace < 0:
            raise StreamError(400, "'grace_seconds' must be a non-negative number")
        kid = await self.t.rotate_key(alg=body.get("alg"), grace=float(grace))
        return _json({"kid": kid, "jwks": self.t.keys.jwks()})

    async def _deliveries(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        conn = self._reader()
        lines = list(store.export_lines(conn, stream_id=request.query.get("stream_id")))
        return _json(lines)

    async def _transmitter_knobs(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        if request.method == "GET":
            return _json(self.t.transmitter_knobs())
        if request.method != "POST":
            raise StreamError(405, "use GET to read the transmitter knobs and POST to change them")
        return _json(self.t.configure_transmitter(body))

    async def _catalogue(self, request: web.Request, body: Any, notes: list[str]) -> web.Response:
        return _json([{"uri": e.uri, "name": e.name, "family": e.family, "title": e.title,
                       "description": e.description} for e in self.t.catalogue.events])


def _stream_named(request: web.Request, body: Any) -> str:
    named = request.match_info.get("stream_id") or request.query.get("stream_id")
    if named is None and isinstance(body, dict):
        named = body.get("stream_id")
    return named if isinstance(named, str) else ""


def _status_json(stream) -> dict[str, Any]:
    out = {"stream_id": stream.stream_id, "status": stream.status}
    if stream.reason:
        out["reason"] = stream.reason
    return out


async def _json_body(request: web.Request) -> Any:
    if request.method in ("GET", "DELETE", "HEAD"):
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StreamError(400, f"the body is not JSON: {exc}") from None


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=NO_STORE)


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": _reason(status), "description": message},
                             status=status, headers={**NO_STORE, **(headers or {})})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_")
    except ValueError:
        return "error"
