"""A one-handler aiohttp server on 127.0.0.1 for tests that need a hostile or scripted peer."""

from __future__ import annotations

from aiohttp import web


async def serve_handler(handler) -> tuple[web.AppRunner, str, int]:
    """Serve `handler` for every method and path; returns (runner to clean up, base URL, port)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - no public accessor
    return runner, f"http://127.0.0.1:{port}", port
