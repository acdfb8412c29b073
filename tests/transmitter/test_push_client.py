"""The push client against a raw socket server that answers with scripted bytes: framing,
keep-alive, deadlines, TLS and the errors an attempt record shows."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.transmitter.push_client import PushClient, PushClosed, PushError, PushTimeout

SET = (("Content-Type", "application/secevent+jwt"), ("Accept", "application/json"))


class RawServer:
    """Reads each request (head + Content-Length body) and writes the next scripted answer."""

    def __init__(self, answers, *, ssl_context=None):
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.ssl_context = ssl_context

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/events"
        return self

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.answers.pop(0) if self.answers else b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                if callable(answer):
                    await answer(writer)
                    return
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def client():
    c = PushClient(user_agent="test-agent", connect_timeout=2.0)
    yield c
    await c.close()


async def serve(*answers, ssl_context=None) -> RawServer:
    return await RawServer(answers, ssl_context=ssl_context).start()


async def test_request_carries_host_user_agent_length_and_body(client):
    server = await serve()
    resp = await client.send("POST", server.url + "?a=1", b"token", SET, 5)
    head = server.requests[0].decode()
    assert resp.status == 202
    assert head.startswith("POST /events?a=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in head
    assert "User-Agent: test-agent\r\n" in head and "Content-Length: 5\r\n" in head
    assert "Content-Type: application/secevent+jwt\r\n" in head
    assert head.endswith("\r\n\r\ntoken")
    await server.stop()


async def test_keep_alive_reuses_one_connection(client):
    server = await serve()
    for _ in range(5):
        assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    assert server.connections == 1 and client.connections_made == 1
    await server.stop()


async def test_connection_close_header_gets_a_new_connection_next_time(client):
    server = await serve(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    await client.send("POST", server.url, b"x", SET, 5)
    await client.send("POST", server.url, b"x", SET, 5)
    assert client.connections_made == 2
    await server.stop()


async def test_chunked_body_is_read_and_the_connection_kept(client):
    answer = (b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
              b"7\r\n{\"err\":\r\n1a;ext=1\r\n\"invalid_request\",\"x\":\"y\"}\r\n0\r\nX-Trailer: 1\r\n\r\n")
    server = await serve(answer)
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 400 and resp.body == b'{"err":"invalid_request","x":"y"}'
    assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    assert client.connections_made == 1
    await server.stop()


async def test_body_delimited_by_close(client):
    async def answer(writer):
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n\r\ndown for ")
        await writer.drain()
        writer.write(b"maintenance")
        await writer.drain()

    server = await serve(answer)
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 503 and resp.body == b"down for maintenance"
    assert ("Retry-After", "7") in resp.headers
    await server.stop()


async def test_interim_100_continue_is_skipped(client):
    server = await serve(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 202 and resp.body == b"ok"
    await server.stop()


async def test_body_is_kept_up_to_the_excerpt_and_drained(client):
    client.excerpt = 10
    server = await serve(b"HTTP/1.1 500 Oops\r\nContent-Length: 5000\r\n\r\n" + b"e" * 5000)
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 500 and resp.body == b"e" * 10
    assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    assert client.connections_made == 1  # drained to its end, so reusable
    await server.stop()


async def test_redirect_is_returned_not_followed(client):
    server = await serve(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n")
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 302 and ("Location", "http://127.0.0.1:9/elsewhere") in resp.headers
    assert len(server.requests) == 1
    await server.stop()


async def test_close_without_an_answer(client):
    async def hang_up(writer):
        writer.close()

    server = await serve(hang_up)
    with pytest.raises(PushClosed, match="connection closed without an answer"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def test_close_in_the_middle_of_the_body(client):
    server = await serve(lambda w: _write_and_close(w, b"HTTP/1.1 202 Accepted\r\nContent-Length: 50\r\n\r\nshort"))
    with pytest.raises(PushClosed, match="middle of the response body"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def _write_and_close(writer, data):
    writer.write(data)
    await writer.drain()
    writer.close()


async def test_malformed_status_line(client):
    server = await serve(b"SPDY/3 200 OK\r\n\r\n")
    with pytest.raises(PushError, match="malformed response: status line"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def test_conflicting_content_lengths_are_refused(client):
    server = await serve(b"HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
    with pytest.raises(PushError, match="Content-Length"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def test_slow_answer_times_out_and_says_after_how_long(client):
    async def never(writer):
        await asyncio.sleep(5)

    server = await serve(never)
    with pytest.raises(PushTimeout, match=r"timeout: no answer within 0.2 s"):
        await client.send("POST", server.url, b"x", SET, 0.2)
    await server.stop()


async def test_refused_connection(client):
    server = await serve()
    url = server.url
    await server.stop()
    with pytest.raises(PushError, match="connection failed: .*refused"):
        await client.send("POST", url, b"x", SET, 5)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///nohost", "http://127.0.0.1:99999/x", "not a url"])
async def test_unusable_url_is_an_error_not_a_crash(client, url):
    with pytest.raises(PushError, match="invalid URL"):
        await client.send("POST", url, b"x", SET, 5)


async def test_header_injection_is_refused(client):
    server = await serve()
    with pytest.raises(PushError, match="line breaks"):
        await client.send("POST", server.url, b"x", (("X-Evil", "a\r\nHost: other"),), 5)
    with pytest.raises(PushError, match="invalid header name"):
        await client.send("POST", server.url, b"x", (("Bad Name", "v"),), 5)
    assert server.requests == []
    await server.stop()


async def test_framing_headers_from_the_caller_are_replaced(client):
    server = await serve()
    await client.send("POST", server.url, b"abc", (("Content-Length", "999"), ("Transfer-Encoding", "chunked")), 5)
    head = server.requests[0].decode().lower()
    assert "content-length: 3\r\n" in head and "999" not in head and "transfer-encoding" not in head
    await server.stop()


async def test_credentials_in_the_url_become_basic_auth(client):
    server = await serve()
    await client.send("POST", f"http://jane:s%40cret@127.0.0.1:{server.port}/events", b"x", SET, 5)
    assert b"Authorization: Basic amFuZTpzQGNyZXQ=\r\n" in server.requests[0]  # base64 of jane:s@cret
    await server.stop()


async def test_data_while_idle_drops_the_connection(client):
    async def extra(writer):
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    server = await serve(extra)
    assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    await asyncio.sleep(0.2)
    assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    assert client.connections_made == 2
    await server.stop()


async def test_idle_connection_older_than_keepalive_is_not_reused():
    c = PushClient(user_agent="t", keepalive=0.05)
    server = await serve()
    await c.send("POST", server.url, b"x", SET, 5)
    await asyncio.sleep(0.1)
    await c.send("POST", server.url, b"x", SET, 5)
    assert c.connections_made == 2
    await c.close()
    await server.stop()


async def test_against_aiohttp_server_chunked_and_length_answers(client):
    async def chunked(request):
        resp = web.StreamResponse(status=503, headers={"Retry-After": "3"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"err":')
        await resp.write(b'"x"}')
        await resp.write_eof()
        return resp

    async def plain(request):
        return web.Response(status=202, text=str(len(await request.read())))

    app = web.Application()
    app.router.add_post("/chunked", chunked)
    app.router.add_post("/plain", plain)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    r1 = await client.send("POST", base + "/chunked", b"x", SET, 5)
    r2 = await client.send("POST", base + "/plain", b"x" * 3000, SET, 5)
    assert (r1.status, r1.body) == (503, b'{"err":"x"}')
    assert (r2.status, r2.body) == (202, b"3000")
    assert client.connections_made == 1
    await runner.cleanup()


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


@pytest.fixture
def tls_files(tmp_path):
    cert, key = _self_signed()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server_ctx, tmp_path / "cert.pem"


async def test_https_with_a_trusted_certificate(tls_files):
    server_ctx, cert = tls_files
    trusting = ssl.create_default_context(cafile=str(cert))
    c = PushClient(user_agent="t", ssl_context=trusting)
    server = await serve(ssl_context=server_ctx)
    assert (await c.send("POST", server.url, b"x", SET, 5)).status == 202
    assert (await c.send("POST", server.url, b"x", SET, 5)).status == 202
    assert c.connections_made == 1
    await c.close()
    await server.stop()


async def test_https_with_an_untrusted_certificate_is_refused(tls_files, client):
    server_ctx, _ = tls_files
    server = await serve(ssl_context=server_ctx)
    with pytest.raises(PushError, match="TLS handshake failed: .*CERTIFICATE_VERIFY_FAILED"):
        await client.send("POST", server.url, b"x", SET, 5)
    assert server.requests == []
    await server.stop()


# -- found in review ----------------------------------------------------------------------

@pytest.mark.parametrize("method, headers", [("POST\n", SET), ("POST", (("X-A\n", "v"),))])
async def test_a_trailing_newline_in_the_method_or_a_header_name_is_refused(client, method, headers):
    server = await serve()
    with pytest.raises(PushError, match="invalid (HTTP method|header name)"):
        await client.send(method, server.url, b"x", headers, 5)
    assert server.requests == []
    await server.stop()


async def test_non_ascii_digits_in_content_length_are_malformed_not_a_crash(client):
    server = await serve(b"HTTP/1.1 202 Accepted\r\nContent-Length: \xb2\r\n\r\nab")
    with pytest.raises(PushError, match="malformed response: Content-Length"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


@pytest.mark.parametrize("size", [b"0x2", b"+2", b"0_2", b""])
async def test_chunk_size_that_is_not_hex_digits_is_malformed(client, size):
    server = await serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\nok\r\n0\r\n\r\n")
    with pytest.raises(PushError, match="malformed response: chunk size"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example"])
async def test_host_name_with_an_empty_or_too_long_label_is_an_invalid_url(client, host):
    with pytest.raises(PushError, match="invalid URL"):
        await client.send("POST", f"http://{host}/events", b"x", SET, 5)


async def test_unencodable_header_value_is_an_error_not_a_crash(client):
    server = await serve()
    with pytest.raises(PushError, match="invalid value for header 'X-A'"):
        await client.send("POST", server.url, b"x", (("X-A", "bad \udc80"),), 5)
    assert server.requests == []
    await server.stop()


async def test_non_ascii_user_agent_is_sent_as_utf8():
    c = PushClient(user_agent="signalscope/1 (café)")
    server = await serve()
    assert (await c.send("POST", server.url, b"x", SET, 5)).status == 202
    assert "User-Agent: signalscope/1 (café)\r\n".encode() in server.requests[0]
    await c.close()
    await server.stop()


async def test_client_closed_while_connecting_sends_nothing(client):
    server = await serve()
    task = asyncio.create_task(client.send("POST", server.url, b"x", SET, 5))
    await asyncio.sleep(0)  # the send is now waiting for its connection
    await client.close()
    with pytest.raises(PushError, match="closed"):
        await task
    await asyncio.sleep(0.05)
    assert server.requests == []
    await server.stop()


async def test_get_and_head_send_no_content_length_and_head_reads_no_body(client):
    server = await serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                         b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
    assert (await client.send("GET", server.url, b"", SET, 5)).body == b"ok"
    resp = await client.send("HEAD", server.url, b"", SET, 5)
    assert (resp.status, resp.body) == (200, b"")
    assert (await client.send("POST", server.url, b"", SET, 5)).status == 202
    assert [r.split(b" ", 1)[0] for r in server.requests] == [b"GET", b"HEAD", b"POST"]
    assert b"content-length" not in server.requests[0].lower() and b"content-length" not in server.requests[1].lower()
    assert b"Content-Length: 0\r\n" in server.requests[2]
    assert client.connections_made == 1
    await server.stop()


async def test_body_past_the_drain_limit_answers_with_the_excerpt_and_drops_the_connection(client, monkeypatch):
    from app.core.transmitter import push_client
    monkeypatch.setattr(push_client, "MAX_DRAIN", 1000)
    client.excerpt = 10
    server = await serve(b"HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\n" + b"e" * 100000)
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert resp.status == 500 and resp.body == b"e" * 10
    assert (await client.send("POST", server.url, b"x", SET, 5)).status == 202
    assert client.connections_made == 2
    await server.stop()


async def test_exchange_in_flight_when_the_client_closes_says_so(client):
    async def never(writer):
        await asyncio.sleep(1)

    server = await serve(never)
    task = asyncio.create_task(client.send("POST", server.url, b"x", SET, 5))
    while not server.requests:
        await asyncio.sleep(0.01)
    await client.close()
    with pytest.raises(PushClosed, match="the delivery client was closed during the exchange"):
        await asyncio.wait_for(task, 1)
    await server.stop()


async def test_explicit_port_0_is_not_replaced_by_the_default_port(client):
    with pytest.raises(PushError, match="port 0"):
        await client.send("POST", "http://127.0.0.1:0/events", b"x", SET, 5)


async def test_headers_ended_by_bare_lf_are_accepted(client):
    server = await serve(b"HTTP/1.1 503 Busy\nRetry-After: 5\nContent-Length: 4\n\nbusy")
    resp = await client.send("POST", server.url, b"x", SET, 5)
    assert (resp.status, resp.body) == (503, b"busy") and ("Retry-After", "5") in resp.headers
    await server.stop()


async def test_an_endless_run_of_interim_responses_is_malformed(client):
    server = await serve(b"HTTP/1.1 102 Processing\r\n\r\n" * 11 + b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(PushError, match="interim"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def test_endless_trailers_are_malformed(client):
    trailers = b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 100) for i in range(700))
    server = await serve(b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers + b"\r\n")
    with pytest.raises(PushError, match="trailers too long"):
        await client.send("POST", server.url, b"x", SET, 5)
    await server.stop()


async def test_a_password_in_an_unusable_url_is_not_repeated_in_the_error(client):
    with pytest.raises(PushError) as refused:
        await client.send("POST", "ftp://jane:s3cret@127.0.0.1/x", b"x", SET, 5)
    assert "s3cret" not in str(refused.value) and "jane:[redacted]@127.0.0.1" in str(refused.value)
