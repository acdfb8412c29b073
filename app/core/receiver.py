"""The receiver: an aiohttp server on loopback that captures every request.

POSTs of `application/secevent+jwt` (or `application/jwt`, flagged) are SETs,
decoded and verified, and answered per RFC 8935: 202 with an empty body, or 400
with `{"err", "description"}` and `Content-Language: en`. Other POSTs are plain
webhooks, answered 200. Everything else gets a clear HTTP error. Whatever the
answer, the request is committed to the workspace *before* the answer is sent.

Any path is a delivery path (point several senders at /stripe, /github, ...);
`/events` is the one the ready line advertises.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import HttpVersion11, web

from app.core.bus import Bus, CaptureStored
from app.core.faults import FaultRules, RequestFacts
from app.core.runtime import tune_gc
from app.core.store.captures import CaptureRecord, insert_capture
from app.core.store.writer import StoreWriter
from app.core.trust import TrustStore
from app.core.webhooks import delivery_key
from app.core.set_verification import (
    LENIENT_SET_MEDIA_TYPES,
    SET_MEDIA_TYPES,
    VerificationSettings,
    is_set_media_type,
    verify_set_body,
)
from app.core.verify import SKIP, UNVERIFIED, VerificationReport

log = logging.getLogger(__name__)

DEFAULT_PATH = "/events"


@dataclass
class ReceiverConfig:
    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    audiences: tuple[str, ...] = ()
    body_limit: int = 1024 * 1024
    body_timeout: float = 30.0  # seconds for the whole body to arrive (a trickling sender gets 408)
    max_skew: float = 300.0


@dataclass
class ReceiverStats:
    requests: int = 0
    failures: int = 0  # answered with a non-2xx status
    by_status: dict[int, int] = field(default_factory=dict)


class Receiver:
    def __init__(
        self,
        config: ReceiverConfig,
        writer: StoreWriter,
        trust: TrustStore,
        bus: Bus,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self._writer = writer
        self._trust = trust
        self._bus = bus
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.stats = ReceiverStats()
        self.faults = FaultRules()
        self.port: int | None = None
        # stream_id -> states of verification requests still awaiting their SET
        self.expected_states: dict[str, set[str]] = {}

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> str:
        # aiohttp's low-level server: every path is a delivery path, so an Application
        # would only add a router lookup (a regex over the path) and a middleware chain
        # to every request (measured with benchmarks/ingest.py). The body limit is
        # enforced by _read_body; Expect: 100-continue is answered in _handle.
        tune_gc()  # see runtime.py: ~15 us of CPU per SET spent in collections that find nothing
        server = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp exposes no public accessor
        return self.url

    @property
    def base_url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + DEFAULT_PATH

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the handler -----------------------------------------------------------
    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        received_at = self._clock()
        if request.headers.get("Expect"):  # as aiohttp's Application: an empty one is ignored
            refused = await _expect_continue(request)
            if refused is not None:
                return refused
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        content_type = request.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        body, size, truncated, timed_out = await self._read_body(request)
        record = CaptureRecord(
            received_at=received_at,
            method=request.method,
            path=request.path,  # decoded (filters, search, fault rules); `target` keeps it as sent
            query=request.query_string,
            target=request.raw_path,  # the request target exactly as on the request line, ?query included
            headers=headers,
            body=body,
            body_size=size,
            body_truncated=truncated,
            peer=request.remote,
            content_type=content_type or None,
            kind="webhook",
            verdict=UNVERIFIED,
            report={"verdict": UNVERIFIED, "checks": [], "err": None, "description": None},
            response_status=200,
        )
        is_set = is_set_media_type(media_type)
        if is_set:
            record.kind = "set"
        status, answer = self._gate(request, record, media_type, timed_out)
        decision = None
        if status is None:
            if is_set:
                status, answer = await self._verify(record, media_type)
            else:
                status, answer = 200, b""
                record.delivery_key = delivery_key({k.lower(): v for k, v in headers}, body, media_type)
            if self.faults.rules:
                decision = self.faults.decide(_facts(request, record, media_type))
        record.response_status = status
        record.response_body = answer
        record.response_headers = answer_headers = _answer_headers(status, answer)
        if decision is not None:
            record.rule = decision.rule
            if decision.close:
                record.response_status, record.response_body, record.response_headers = None, b"", []
            elif decision.status is not None:
                record.response_status = decision.status
                record.response_body = decision.body
                record.response_headers = list(decision.headers)
        record.duration_ms = (time.perf_counter() - started) * 1000
        try:
            stored = await self._writer.run(insert_capture(record))
        except Exception as exc:  # noqa: BLE001 - never acknowledge what is not stored
            log.error("could not store a capture: %s", exc)
            self._count(503)
            return web.json_response(
                {"err": "temporarily_unavailable", "description": "the receiver could not store the request"},
                status=503,
            )
        self._count(stored.response_status)
        if self._bus.has_subscribers:  # headless without a listener: no event object per request
            self._bus.publish(
                CaptureStored(stored.id, record.kind, record.verdict, stored.response_status, tuple(record.event_types))
            )
        if decision is not None:
            if decision.delay_ms:
                await asyncio.sleep(decision.delay_ms / 1000)
            if decision.close:
                request.transport.close()  # the sender sees the connection drop, no answer
                return web.Response(status=204)  # never reaches the wire
            if decision.status is not None:
                response = web.Response(status=decision.status, body=decision.body or None)
                for name, value in decision.headers:
                    response.headers[name] = value
                response.headers[CAPTURE_HEADER] = str(stored.id)
                return response
        if stored.response_status == status and stored.response_body is answer:
            response = _response(status, answer, answer_headers)
        else:
            response = _response(stored.response_status, stored.response_body)  # a repeat, answered as the first was
        response.headers[CAPTURE_HEADER] = str(stored.id)
        if timed_out:
            response.force_close()  # the rest of the body is not waited for
        return response

    async def _read_body(self, request: web.Request) -> tuple[bytes, int, bool, bool]:
        """(body kept, bytes received, truncated, timed out): at most body_limit bytes are kept,
        and the body must arrive within body_timeout seconds."""
        limit = self.config.body_limit
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.config.body_timeout):
                while True:
                    chunk = await request.content.read(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size <= limit:
                        chunks.append(chunk)
                    else:
                        kept = limit - sum(len(c) for c in chunks)
                        if kept > 0:
                            chunks.append(chunk[:kept])
                        return b"".join(chunks), size, True, False
                    if request.content.at_eof():
                        break  # the whole body is in: spare the read that would only return b""
        except TimeoutError:
            return b"".join(chunks), size, True, True
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception as exc:  # noqa: BLE001 - a broken chunked body is still captured
            log.info("body read failed: %s", exc)
            return b"".join(chunks), size, True, False
        return b"".join(chunks), size, False, False

    def _gate(self, request: web.Request, record: CaptureRecord, media_type: str,
              timed_out: bool = False) -> tuple[int | None, bytes]:
        """HTTP-level refusals that come before any verification."""
        token = self.config.token
        if token is not None:
            supplied = request.headers.get("Authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(supplied.encode("utf-8", "replace"), expected.encode("utf-8")):
                why = "missing" if not supplied else "wrong"
                return 401, _err("authentication_failed", f"the Authorization bearer token is {why}")
        if request.method != "POST":
            return 405, _err("invalid_request", f"{request.method} is not a delivery; deliveries are POSTs")
        if timed_out:
            return 408, _err("invalid_request", f"the body did not arrive within {self.config.body_timeout:g} s "
                                                f"({record.body_size} bytes received)")
        if record.body_truncated:
            return 413, _err("invalid_request", f"the body has {record.body_size} bytes; the limit is {self.config.body_limit}")
        if not record.body:
            return 400, _err("invalid_request", "the body is empty; a push delivery carries one SET")
        return None, b""

    async def _verify(self, record: CaptureRecord, media_type: str) -> tuple[int, bytes]:
        settings = VerificationSettings(self.config.audiences, self.config.max_skew, self.expected_states)
        report = await verify_set_body(record, media_type, self._trust, settings)
        if report.err is None:
            return 202, b""
        return 400, _err(report.err, report.description or report.err)

    def _count(self, status: int | None) -> None:
        self.stats.requests += 1
        if status is None or status >= 300:
            self.stats.failures += 1
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1

    async def verify_record(self, record: CaptureRecord, media_type: str = SET_MEDIA_TYPES[0]) -> tuple[int, bytes]:
        """Decode and verify a SET that did not come by push (a poll response) exactly as a pushed
        one, filling `record`; returns what a push would have been answered (202, or 400 + err)."""
        return await self._verify(record, media_type)


def _facts(request: web.Request, record: CaptureRecord, media_type: str) -> RequestFacts:
    event_types = tuple(record.event_types)
    if not event_types and media_type == "application/json" and len(record.body) < 65536:
        try:  # Stripe/Svix-style webhooks name their event in a top-level "type"
            kind = json.loads(record.body).get("type")
            event_types = (kind,) if isinstance(kind, str) else ()
        except (ValueError, AttributeError):
            pass
    return RequestFacts(
        method=request.method,
        path=request.path,
        headers={k.lower(): v for k, v in record.headers},
        event_types=event_types,
        issuer=record.issuer,
    )


def _err(code: str, description: str) -> bytes:
    return json.dumps({"err": code, "description": description}).encode()


# Every stored request's answer names its capture, so a sender (our own simulator, a replay, a
# developer reading their logs) can point at it. The capture's recorded response omits it: it is
# known only once the capture is committed.
CAPTURE_HEADER = "Signalscope-Capture"


def _answer_headers(status: int, body: bytes) -> list[tuple[str, str]]:
    headers = []
    if body:
        headers += [("Content-Type", "application/json"), ("Content-Language", "en")]
    if status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="signalscope"'))
    if status == 405:
        headers.append(("Allow", "POST"))
    return headers


def _response(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> web.Response:
    response = web.Response(status=status, body=body or None)
    for name, value in _answer_headers(status, body) if headers is None else headers:
        response.headers[name] = value
    return response


async def _expect_continue(request: web.BaseRequest) -> web.Response | None:
    """What aiohttp's Application does for `Expect` (its _default_expect_handler):
    HTTP/1.1 `100-continue` gets an interim 100 so the sender goes on with the body;
    any other expectation is refused with 417 before the body is read."""
    if request.version != HttpVersion11:
        return None
    expect = request.headers.get("Expect", "")
    if expect.lower() != "100-continue":
        return web.Response(status=417, text=f"Unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the interim answer is not part of the response body
    await request.writer.drain()
    return None


__all__ = ["Receiver", "ReceiverConfig", "DEFAULT_PATH", "VerificationReport", "SKIP", "SET_MEDIA_TYPES",
           "LENIENT_SET_MEDIA_TYPES"]
