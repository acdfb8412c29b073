"""Reading an httpx response with a size cap and a whole-exchange deadline.

httpx's timeouts apply to each network operation: a peer that sends one byte every few
seconds never trips them, and `response.content` holds whatever the peer sends. Every
response Signalscope reads from a peer it does not control (JWKS and SSF metadata, the
management API, poll responses, token endpoints) goes through `send_limited` instead,
which streams the body, refuses it past `max_bytes` (as declared by Content-Length, or
as received) and gives up when the whole exchange outlasts `deadline` seconds.

The errors are `httpx.HTTPError`s, so callers that already report transport failures
report these too.
"""

from __future__ import annotations

import asyncio

import httpx


class ResponseTooLarge(httpx.HTTPError):
    """The response body is larger than the caller accepts."""


class ExchangeDeadline(httpx.TimeoutException):
    """The whole exchange (connect, headers and body) took longer than allowed."""


async def send_limited(http: httpx.AsyncClient, request: httpx.Request, *, max_bytes: int,
                       deadline: float) -> httpx.Response:
    """Send `request` (redirects never followed) and return the response with its body read."""

    async def exchange() -> httpx.Response:
        response = await http.send(request, stream=True, follow_redirects=False)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLarge(f"the response is larger than {max_bytes} bytes "
                                       f"(Content-Length {declared}); not read")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ResponseTooLarge(f"the response is larger than {max_bytes} bytes; reading stopped")
                chunks.append(chunk)
            response._content = b"".join(chunks)  # noqa: SLF001 - what Response.aread() sets
        finally:
            await response.aclose()
        return response

    try:
        return await asyncio.wait_for(exchange(), deadline)
    except asyncio.TimeoutError:
        raise ExchangeDeadline(f"no complete response within {deadline:g} s", request=request) from None
