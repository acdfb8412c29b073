"""Peers for the subscription tests: a small transmitter that answers the way older or looser
SSF implementations do (SSF-NOTES 11), and an OAuth 2.0 token endpoint (client credentials)."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import unquote

import asyncio

from aiohttp import web
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

AUDIENCE = "https://receiver.example.com"
RISC_PUSH = "https://schemas.openid.net/secevent/risc/delivery-method/push"


class VariantTransmitter:
    """Legacy `delivery_method`/`url` in answers, a single object for the list, 204 for add-subject,
    200 for remove-subject and delete, 202 for PATCH, status and verify; metadata only at `metadata_at`
    ("appended" or "sse"); management calls need one of `tokens` (what the token endpoint issued)."""

    def __init__(self, *, metadata_at: str = "appended", client_id: str = "ci-client",
                 client_secret: str = "s3cret-value", scopes: tuple[str, ...] = ("ssf.manage",), expires_in: int = 60):
        self.metadata_at = metadata_at
        self.client_id, self.client_secret, self.scopes, self.expires_in = client_id, client_secret, scopes, expires_in
        self.tokens: set[str] = {"pasted-token"}
        self.token_requests: list[dict] = []
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        self.streams: dict[str, dict] = {}
        self.key = JWK.generate(kty="EC", crv="P-256", kid="variant-1", use="sig", alg="ES256")
        self.base = self.issuer = ""
        self.runner = None

    async def start(self) -> "VariantTransmitter":
        app = web.Application()
        r = app.router
        r.add_get("/.well-known/{tail:.*}", self.metadata)
        r.add_get("/tenant/.well-known/{tail:.*}", self.metadata)
        r.add_get("/keys", self.keys)
        r.add_post("/oauth/token", self.token)
        r.add_route("*", "/mgmt/stream", self.guard(self.stream))
        r.add_route("*", "/mgmt/status", self.guard(self.status))
        r.add_post("/mgmt/subject:add", self.guard(lambda req, body: web.Response(status=204)))
        r.add_post("/mgmt/subject:remove", self.guard(lambda req, body: web.Response(status=200)))
        r.add_post("/mgmt/verify", self.guard(lambda req, body: web.Response(status=202)))
        # a poll endpoint that never holds a long poll (answers at once, with nothing)
        r.add_post("/mgmt/poll", self.guard(lambda req, body: web.json_response({"sets": {}})))
        # a poll endpoint handing out one SET signed with our key, keyed by a jti that is not its own
        r.add_post("/mgmt/poll-misKeyed", self.guard(
            lambda req, body: web.json_response({"sets": {"not-its-jti": self.sign_set("its-jti")}})))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.issuer = self.base + "/tenant"
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [json.loads(self.key.export_public())]})

    def sign_set(self, jti: str) -> str:
        claims = {"iss": self.issuer, "jti": jti, "iat": int(time.time()), "aud": AUDIENCE,
                  "sub_id": {"format": "email", "email": "jane@example.com"},
                  "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {
                      "event_timestamp": int(time.time())}}}
        token = JWS(json.dumps(claims).encode())
        token.add_signature(self.key, alg="ES256", protected={"typ": "secevent+jwt", "alg": "ES256", "kid": "variant-1"})
        return token.serialize(compact=True)

    def meta(self) -> dict:
        b = self.base
        return {"issuer": self.issuer, "jwks_uri": f"{b}/keys",
                "delivery_methods_supported": [RISC_PUSH], "configuration_endpoint": f"{b}/mgmt/stream",
                "status_endpoint": f"{b}/mgmt/status", "add_subject_endpoint": f"{b}/mgmt/subject:add",
                "remove_subject_endpoint": f"{b}/mgmt/subject:remove", "verification_endpoint": f"{b}/mgmt/verify"}

    async def metadata(self, request: web.Request) -> web.Response:
        wanted = {"appended": "/tenant/.well-known/ssf-configuration",
                  "sse": "/.well-known/sse-configuration/tenant"}[self.metadata_at]
        if request.path != wanted:
            return web.Response(status=404)
        return web.json_response(self.meta())

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({"form": form, "authorization": request.headers.get("Authorization")})
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (client_id, secret) != (self.client_id, self.client_secret):
            return web.json_response({"error": "invalid_client", "error_description": "unknown client"}, status=401)
        scope = form.get("scope", "")
        if any(s not in self.scopes for s in scope.split()):
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = f"at-{len(self.token_requests)}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in,
                                  "scope": scope}, headers={"Cache-Control": "no-store"})

    def guard(self, handler):
        async def guarded(request: web.Request):
            supplied = request.headers.get("Authorization")
            self.requests.append((request.method, request.path, supplied))
            if not supplied or supplied.removeprefix("Bearer ") not in self.tokens:
                return web.json_response({"error": "invalid_token"}, status=401,
                                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            raw = await request.read()
            return await _maybe_await(handler(request, json.loads(raw) if raw else None))
        return guarded

    def legacy(self, stream: dict) -> dict:
        """Answer with the SSE ID1 shape: delivery_method/url and the RISC push URI."""
        return {**stream, "delivery": {"delivery_method": RISC_PUSH, "url": stream["delivery"]["endpoint_url"]}}

    async def stream(self, request: web.Request, body):
        if request.method == "POST":
            stream_id = f"s{len(self.streams) + 1}"
            self.streams[stream_id] = {"stream_id": stream_id, "iss": self.issuer, "aud": "variant-aud",
                                       "delivery": body["delivery"], "events_requested": body.get("events_requested", []),
                                       "events_delivered": body.get("events_requested", [])}
            return web.json_response(self.legacy(self.streams[stream_id]), status=201)
        if request.method == "GET":
            if "stream_id" in request.query:
                return web.json_response(self.legacy(self.streams[request.query["stream_id"]]))
            [only] = self.streams.values()
            return web.json_response(self.legacy(only))  # one object, not an array (SSE ID1)
        if request.method == "PATCH":
            return web.Response(status=202)
        if request.method == "PUT":
            self.streams[body["stream_id"]].update(body)
            return web.json_response(self.legacy(self.streams[body["stream_id"]]))
        if request.method == "DELETE":
            self.streams.pop(request.query["stream_id"])
            return web.Response(status=200)
        return web.Response(status=405)

    async def status(self, request: web.Request, body):
        if request.method == "GET":
            return web.json_response({"status": "enabled"})  # no stream_id (before SSF ID3)
        return web.Response(status=202)


async def _maybe_await(value):
    if hasattr(value, "__await__"):
        return await value
    return value


async def wait_for(predicate, *, timeout: float = 5.0, what: str = "the condition"):
    """Poll `predicate` (sync or async) until it is truthy; bounded."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Sink:
    """A push endpoint that is not our receiver: answers 202 to everything."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.url = ""
        self.runner = None

    async def start(self) -> "Sink":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
        return self

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(status=202)
