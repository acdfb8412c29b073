"""The HTTP/1.1 client push deliveries are sent with: one request, one response, nothing else.

A push attempt needs very little of HTTP: POST a small body, read the status, the headers
and the start of the body, keep the connection for the next SET. General clients pay for
much more on every request (cookie jars, tracing hooks, header merging, redirect logic,
decompression). Measured with benchmarks/deliver.py on 2 cores against a local 202
server at 64 in flight: aiohttp's ClientSession costs about 80 us of CPU per exchange,
an httpx.AsyncClient far more, this client about a third of aiohttp's. That difference is
most of what the simulator can spend on signing and recording each SET.

What it does:
  - http and https (TLS verified with the system's trust store), IPv4/IPv6 literals and
    names (IDNA), user:password in the URL sent as Basic auth;
  - keep-alive per (scheme, host, port): an idle connection is reused for at most
    `keepalive` seconds (shorter than the 5 s idle limit of common servers such as
    uvicorn and Node's, so a reused connection is rarely one the server is closing), and
    dropped as soon as the server closes it or sends anything while it is idle;
  - responses framed by Content-Length, chunked transfer coding or the end of the
    connection; 1xx interim responses skipped; headers limited to 64 KiB; the body kept
    up to `excerpt` bytes and read to its end (up to `MAX_DRAIN`, then the connection is
    closed instead) so the connection can be reused;
  - a connect deadline and a whole-exchange deadline (one timer, no extra task);
  - never a redirect, never a proxy from the environment, never a retry: a failure is
    reported as a `PushError` whose text says what happened, for the attempt record.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from app.core.redaction import redact_url

MAX_HEAD = 64 * 1024  # status line + headers
MAX_DRAIN = 1024 * 1024  # body bytes read past the excerpt before the connection is given up instead
KEEPALIVE = 4.0
MAX_INTERIM = 10  # 1xx responses before the final one

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # used with fullmatch: `$` would allow a final "\n"
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_STATUS = re.compile(rb"^HTTP/1\.([01]) (\d{3})(?: .*)?$")
_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would also take "²", which int() refuses
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_FRAMING = {"content-length", "transfer-encoding", "connection", "keep-alive", "te", "upgrade"}
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~?[]"


class PushError(Exception):
    """An attempt that got no (complete) HTTP response; the text is what the attempt record says."""


class PushTimeout(PushError):
    pass


class PushClosed(PushError):
    pass


@dataclass
class PushResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # the first `excerpt` bytes


@dataclass(frozen=True)
class _Target:
    key: tuple[str, str, int]
    host: str  # for connecting
    port: int
    tls: bool
    server_hostname: str | None
    request_line: bytes  # "POST /path HTTP/1.1\r\nHost: ...\r\n"
    basic_auth: str | None


class PushClient:
    def __init__(self, *, user_agent: str, connect_timeout: float = 3.0, keepalive: float = KEEPALIVE,
                 excerpt: int = 4096, max_idle: int = 64, ssl_context: ssl.SSLContext | None = None):
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.excerpt = excerpt
        self.max_idle = max_idle
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._targets: dict[tuple[str, str], _Target] = {}
        self._heads: dict[tuple, bytes] = {}
        self._closed = False
        self.connections_made = 0

    # -- the one call ------------------------------------------------------------
    async def send(self, method: str, url: str, body: bytes, headers, timeout: float) -> PushResponse:
        """Send one request and return the response; raises PushError (with the reason) otherwise.
        `headers` is a sequence of (name, value) pairs (framing headers in it are ignored)."""
        if self._closed:
            raise PushError("the delivery client is closed")
        deadline = time.monotonic() + timeout
        target = self._target(method, url)
        head = self._head(target, method, url, headers)
        request = b"%s%d\r\n\r\n%s" % (head, len(body), body) if body or method not in ("GET", "HEAD") \
            else head.rsplit(b"Content-Length: ", 1)[0] + b"\r\n"
        conn = self._reuse(target.key)
        if conn is None:
            conn = await self._connect(target, deadline, timeout)
        try:
            response = await conn.exchange(request, max(deadline - time.monotonic(), 0.001), timeout,
                                           head_only=method == "HEAD")
        except BaseException:
            conn.close()
            raise
        if conn.reusable and not self._closed:
            self._park(conn)
        else:
            conn.close()
        return response

    async def close(self) -> None:
        self._closed = True
        for conn in list(self._open):
            conn._fail(PushClosed("the delivery client was closed during the exchange"))  # if one is running
            conn.close()
        self._open.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    # -- requests ------------------------------------------------------------------
    def _target(self, method: str, url: str) -> _Target:
        cache_key = (method, url)
        target = self._targets.get(cache_key)
        if target is None:
            if len(self._targets) > 1024:
                self._targets.clear()
            target = self._targets[cache_key] = parse_target(method, url)
        return target

    def _head(self, target: _Target, method: str, url: str, headers) -> bytes:
        """The request up to the Content-Length value, cached: a stream's SETs share it."""
        key = (method, url, headers if isinstance(headers, tuple) else tuple(map(tuple, headers)))
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) > 1024:
                self._heads.clear()
            lines = [target.request_line]
            names = set()
            for name, value in key[2]:
                if not _TOKEN.fullmatch(name):
                    raise PushError(f"invalid header name {name!r}")
                lower = name.lower()
                if lower in _FRAMING:
                    continue
                names.add(lower)
                lines.append(_header_line(name, value))
            if "host" not in names:
                lines.insert(1, f"Host: {target_host_header(target)}\r\n".encode("ascii"))
            if "user-agent" not in names:
                lines.append(_header_line("User-Agent", self.user_agent))
            if target.basic_auth and "authorization" not in names:
                lines.append(f"Authorization: Basic {target.basic_auth}\r\n".encode("ascii"))
            lines.append(b"Content-Length: ")
            head = self._heads[key] = b"".join(lines)
        return head

    # -- connections -----------------------------------------------------------------
    def _reuse(self, key) -> "_Connection | None":
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.reusable and now - conn.idle_since <= self.keepalive:
                return conn
            conn.close()
        return None

    def _park(self, conn: "_Connection") -> None:
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def _connect(self, target: _Target, deadline: float, timeout: float) -> "_Connection":
        loop = asyncio.get_running_loop()
        wait = min(self.connect_timeout, max(deadline - time.monotonic(), 0.001))
        ssl_context = None
        if target.tls:
            ssl_context = self._ssl or _default_ssl()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(target.key, self), target.host, target.port,
                                       ssl=ssl_context, server_hostname=target.server_hostname if target.tls else None),
                wait)
        except asyncio.TimeoutError:
            if wait < self.connect_timeout:
                raise PushTimeout(f"timeout: no answer within {timeout:g} s") from None
            raise PushError(f"connection failed: no connection within {self.connect_timeout:g} s") from None
        except ssl.SSLCertVerificationError as exc:
            raise PushError(f"TLS handshake failed: {exc.reason or 'CERTIFICATE_VERIFY_FAILED'}: "
                            f"{exc.verify_message or exc}; trust the endpoint's CA with --push-ca-file FILE (Settings: "
                            "Push CA file), or accept any certificate with --push-insecure") from None
        except ssl.SSLError as exc:
            raise PushError(f"TLS handshake failed: {exc.reason or exc}") from None
        except socket.gaierror as exc:
            raise PushError(f"connection failed: cannot resolve {target.host!r} ({exc.strerror})") from None
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's strerror is "Connect call failed"
            raise PushError(f"connection failed: {why} ({target.host} port {target.port})") from None
        self.connections_made += 1
        if self._closed:  # close() ran while this connection was being made
            conn.close()
            raise PushError("the delivery client is closed")
        self._open.add(conn)
        return conn

    def _forget(self, conn: "_Connection") -> None:
        self._open.discard(conn)


def _header_line(name: str, value: str) -> bytes:
    """`name: value` CRLF; a non-ASCII value is sent as UTF-8; PushError if it cannot be sent."""
    if _BAD_VALUE.search(value):
        raise PushError(f"invalid value for header {name!r}: line breaks are not allowed")
    try:
        return f"{name}: {value}\r\n".encode("ascii" if value.isascii() else "utf-8")
    except UnicodeEncodeError:
        raise PushError(f"invalid value for header {name!r}: it cannot be encoded") from None


_SSL: ssl.SSLContext | None = None


def _default_ssl() -> ssl.SSLContext:
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context()
    return _SSL


def parse_target(method: str, url: str) -> _Target:
    """Where to connect and the request line, from a push endpoint URL; PushError if it is unusable."""
    if not _TOKEN.fullmatch(method):
        raise PushError(f"invalid HTTP method {method!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise PushError(f"invalid URL {redact_url(url)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise PushError(f"invalid URL {redact_url(url)!r}: push endpoints are http:// or https:// URLs with a host")
    tls = scheme == "https"
    host = parts.hostname
    try:
        wire_host = host.encode("idna").decode("ascii")  # also checks ASCII labels, as getaddrinfo would
    except UnicodeError:
        raise PushError(f"invalid URL {redact_url(url)!r}: the host name cannot be encoded") from None
    if _BAD_VALUE.search(url) or " " in wire_host:
        raise PushError(f"invalid URL {redact_url(url)!r}")
    port = (443 if tls else 80) if port is None else port
    path = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_TARGET_SAFE)
    basic = None
    if parts.username is not None:
        basic = base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                                 .encode("utf-8")).decode("ascii")
    return _Target((scheme, wire_host, port), wire_host, port, tls, wire_host if tls else None,
                   f"{method} {path} HTTP/1.1\r\n".encode("ascii"), basic)


def target_host_header(target: _Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.tls else 80
    return host if target.port == default else f"{host}:{target.port}"


# Body framing of the response being read.
_LENGTH, _CHUNKED, _UNTIL_CLOSE, _NONE = range(4)


class _Connection(asyncio.Protocol):
    """One connection: at most one exchange at a time; parses the response as it arrives."""

    def __init__(self, key, client: PushClient):
        self.key = key
        self._client = client
        self.transport: asyncio.Transport | None = None
        self.reusable = True
        self.idle_since = 0.0
        self._waiter: asyncio.Future | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timeout = 0.0
        self._buf = bytearray()

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes while idle: the server is not speaking HTTP/1.1 keep-alive
            self.reusable = False
            self.close()
            return
        self._buf += data
        try:
            self._parse()
        except PushError as exc:
            self._fail(exc)

    def eof_received(self):
        self.reusable = False
        if self._waiter is not None:
            if self._framing == _UNTIL_CLOSE and self._status is not None:
                self._done()
            else:
                self._fail(PushClosed(self._closed_reason()))
        return False  # close the transport

    def connection_lost(self, exc) -> None:
        self.reusable = False
        self._client._forget(self)
        if self._waiter is not None:
            if self._framing == _UNTIL_CLOSE and self._status is not None and exc is None:
                self._done()
            else:
                reason = self._closed_reason()
                if exc is not None and self._status is None and not self._got_bytes:
                    reason = f"connection lost: {getattr(exc, 'strerror', None) or exc}"
                self._fail(PushClosed(reason))

    # the exchange
    def exchange(self, request: bytes, wait: float, timeout: float, *, head_only: bool = False) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._timeout = timeout
        self._head_only = head_only
        self._status = None
        self._headers: list[tuple[str, str]] = []
        self._framing = _NONE
        self._remaining = 0
        self._body = bytearray()
        self._drained = 0
        self._chunk_state = 0  # 0: size line, 1: data, 2: CRLF after data, 3: trailers
        self._got_bytes = False
        self._interim = 0
        self._trailer_bytes = 0
        self._keep_alive = True
        self._timer = loop.call_later(wait, self._on_timeout)
        if self.transport is None or self.transport.is_closing():
            self._fail(PushClosed("connection closed without an answer"))
        else:
            self.transport.write(request)
        return waiter

    def close(self) -> None:
        self.reusable = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._client._forget(self)

    def _closed_reason(self) -> str:
        if self._status is None:
            return "connection closed without an answer" if not self._got_bytes \
                else "connection closed in the middle of the response headers"
        return f"connection closed in the middle of the response body (HTTP {self._status})"

    def _on_timeout(self) -> None:
        self._timer = None
        self._fail(PushTimeout(f"timeout: no answer within {self._timeout:g} s" if self._status is None
                               else f"timeout: HTTP {self._status} but the body did not end within "
                                    f"{self._timeout:g} s"))
        self.close()

    def _fail(self, exc: PushError) -> None:
        self.reusable = False
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _done(self) -> None:
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buf or not self._keep_alive or self._framing == _UNTIL_CLOSE:
            self.reusable = False  # bytes past the response, or the server said it closes
        if waiter is not None and not waiter.done():
            waiter.set_result(PushResponse(self._status, self._headers, bytes(self._body)))

    # parsing
    def _parse(self) -> None:
        self._got_bytes = True
        while self._waiter is not None:
            if self._status is None:
                if not self._parse_head():
                    return
                continue
            if self._framing == _LENGTH:
                take = min(self._remaining, len(self._buf))
                self._keep(self._buf[:take])
                del self._buf[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._done()
                return
            if self._framing == _UNTIL_CLOSE:
                self._keep(self._buf)
                self._buf.clear()
                return
            if self._framing == _CHUNKED:
                if not self._parse_chunk():
                    return
                continue
            self._done()  # _NONE
            return

    def _parse_head(self) -> bool:
        end, sep = self._buf.find(b"\r\n\r\n"), 4
        bare = self._buf.find(b"\n\n")  # lines ended by LF alone, which RFC 9112 lets a client accept
        if bare >= 0 and (end < 0 or bare < end):
            end, sep = bare, 2
        if end < 0:
            if len(self._buf) > MAX_HEAD:
                raise PushError(f"malformed response: headers longer than {MAX_HEAD // 1024} KiB")
            return False
        if end > MAX_HEAD:
            raise PushError(f"malformed response: headers longer than {MAX_HEAD // 1024} KiB")
        lines = [line.rstrip(b"\r") for line in bytes(self._buf[:end]).split(b"\n")]
        del self._buf[:end + sep]
        match = _STATUS.match(lines[0])
        if match is None:
            raise PushError(f"malformed response: status line {lines[0][:80]!r}")
        status = int(match.group(2))
        headers = []
        length = None
        chunked = False
        other_coding = False
        connection = ""
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name[-1:] in (b" ", b"\t") or line[:1] in (b" ", b"\t"):
                raise PushError(f"malformed response: header line {line[:80]!r}")
            text_name = name.decode("latin-1")
            text_value = value.strip(b" \t").decode("latin-1")
            headers.append((text_name, text_value))
            lower = text_name.lower()
            if lower == "content-length":
                if not _DIGITS.fullmatch(text_value) or (length is not None and int(text_value) != length):
                    raise PushError(f"malformed response: Content-Length {text_value!r}")
                length = int(text_value)
            elif lower == "transfer-encoding":
                codings = [c.strip().lower() for c in text_value.split(",") if c.strip()]
                chunked = bool(codings) and codings[-1] == "chunked"
                other_coding = not chunked
            elif lower == "connection":
                connection += "," + text_value.lower()
        if 100 <= status < 200:
            if status == 101:
                raise PushError("malformed response: HTTP 101 Switching Protocols to a push")
            self._interim += 1
            if self._interim > MAX_INTERIM:
                raise PushError(f"malformed response: more than {MAX_INTERIM} interim (1xx) responses")
            return True  # an interim response: the real one follows
        self._status = status
        self._headers = headers
        tokens = {t.strip() for t in connection.split(",")}
        self._keep_alive = ("close" not in tokens) and (match.group(1) == b"1" or "keep-alive" in tokens)
        if self._head_only or status in (204, 304):
            self._framing = _NONE
        elif chunked:
            self._framing = _CHUNKED
            if length is not None:
                self._keep_alive = False  # both framings: read it chunked, do not trust the connection after
        elif other_coding:
            self._framing = _UNTIL_CLOSE
        elif length is not None:
            self._framing, self._remaining = _LENGTH, length
            if length == 0:
                self._framing = _NONE
        else:
            self._framing = _UNTIL_CLOSE
        return True

    def _parse_chunk(self) -> bool:
        """Advance through the chunked body; False when more bytes are needed."""
        buf = self._buf
        if self._chunk_state == 0:
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    raise PushError("malformed response: chunk size line too long")
                return False
            size_text = bytes(buf[:end]).split(b";", 1)[0].strip()
            del buf[:end + 2]
            if not _HEX.fullmatch(size_text):  # int() would also take "0x1a", "+1a", "1_a"
                raise PushError(f"malformed response: chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            self._remaining = size
            self._chunk_state = 1 if size else 3
            return True
        if self._chunk_state == 1:
            take = min(self._remaining, len(buf))
            self._keep(buf[:take])
            del buf[:take]
            self._remaining -= take
            if self._remaining:
                return False
            self._chunk_state = 2
            return True
        if self._chunk_state == 2:
            if len(buf) < 2:
                return False
            if buf[:2] != b"\r\n":
                raise PushError("malformed response: chunk not followed by CRLF")
            del buf[:2]
            self._chunk_state = 0
            return True
        # trailers: lines until an empty one
        end = buf.find(b"\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise PushError("malformed response: trailers too long")
            return False
        del buf[:end + 2]
        self._trailer_bytes += end + 2
        if self._trailer_bytes > MAX_HEAD:
            raise PushError("malformed response: trailers too long")
        if end == 0:
            self._done()
        return True

    def _keep(self, data) -> None:
        room = self._client.excerpt - len(self._body)
        if room > 0:
            self._body += data[:room]
        self._drained += len(data)
        if self._drained > MAX_DRAIN + self._client.excerpt:
            # A huge body: stop reading it, answer with the excerpt, give the connection up.
            self._keep_alive = False
            self._framing = _NONE
            self._buf.clear()
            self._done()
