"""Serving an aiohttp application on loopback port 0, for fake platforms and the bot's server."""

from __future__ import annotations

import asyncio

from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on 127.0.0.1 with a free port; returns the runner and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def serve_edge(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start the bot's own `edge_app` behind its edge runner, as `unionbot run` does."""
    from bot.http_edge import bound_port
    from bot.http_edge import serve as serve_behind_edge

    runner, site = await serve_behind_edge(app)
    return runner, f"http://127.0.0.1:{bound_port(site)}"


async def wait_for_port(port: int) -> None:
    """Wait until a server (a `unionbot run` started by a test) accepts on its port."""
    for _ in range(600):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("unionbot run did not start")
