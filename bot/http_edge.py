"""The bot's HTTP edge: what a stranger on the internet can reach, bounded and quiet.

Platform webhooks (`/slack/events`, `/telegram/webhook`, ...) are public URLs. Anyone
who knows one can send anything, so everything here is about what happens *before* a
request is known to come from the platform:

- a header timeout closes connections that trickle their request line and headers
  (aiohttp alone keeps them open for an hour), and a body timeout closes those whose
  body is slower than it claims (a lying Content-Length);
- each endpoint reads its body through `read_body` with its own size bound: a declared
  Content-Length over the bound is refused before one byte of the body is read, and a
  body without one is read up to the bound and no further;
- a refusal is a `Refused` exception, which the edge's middleware answers with its 4xx
  status and exactly one WARNING line (peer, endpoint, reason): no traceback, no 500;
- protocol junk refused by aiohttp's parser (bad chunks, a 100 kB header) is logged the
  same way, and a client that hangs up is not an error at all.

Adapters authenticate on the raw bytes `read_body` returns (a signature, a secret
header) and only then parse them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from bot.streams import read_at_most

log = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """Timeouts of the HTTP edge, in seconds (settings `UNIONBOT_HTTP_*_TIMEOUT`)."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    idle_timeout: float = 75.0
    # The largest body any endpoint accepts; each endpoint passes its own, smaller bound.
    max_body: int = 1 * MiB


LIMITS = web.AppKey("unionbot_edge_limits", EdgeLimits)


class Refused(Exception):
    """A request the edge will not serve; answered with `status`, logged once with `reason`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refuse(request: web.Request, status: int, reason: str) -> web.Response:
    """The one WARNING line a refused request is worth."""
    log.warning(
        "HTTP %s %s from %s refused (%s): %s",
        request.method,
        request.path,
        request.remote,
        status,
        reason,
    )
    response = web.Response(status=status, text=f"{status} {reason}\n")
    if status in (408, 413):
        response.force_close()  # the unread rest of the body is not worth reading
    return response


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except Refused as exc:
        return refuse(request, exc.status, exc.reason)
    except ConnectionError:
        log.debug("client %s hung up during %s", request.remote, request.path)
        raise
    return response


def edge_app(limits: EdgeLimits | None = None) -> web.Application:
    """The bot's web application: adapters add their routes to it."""
    chosen = limits or EdgeLimits()
    app = web.Application(client_max_size=chosen.max_body, middlewares=[_refusals])
    app[LIMITS] = chosen
    return app


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, at most `limit` bytes, within the body timeout; else `Refused`."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Refused(413, f"body of {declared} bytes declared, this endpoint takes {limit}")
    timeout = request.app[LIMITS].body_timeout if LIMITS in request.app else 10.0
    try:
        async with asyncio.timeout(timeout):
            body = await read_at_most(request.content, limit)
    except TimeoutError:
        raise Refused(408, f"body not received within {timeout:g} s") from None
    except (HttpProcessingError, RequestPayloadError) as exc:  # a malformed chunked body
        text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
        reason = (str(text).splitlines() or ["?"])[0][:200]
        raise Refused(400, f"malformed body: {reason}") from None
    if len(body) > limit:
        raise Refused(413, f"body over {limit} bytes")
    if declared is not None and len(body) != declared:
        raise Refused(400, f"body of {len(body)} bytes, {declared} declared")
    return body


class _EdgeProtocol(RequestHandler):
    """aiohttp's request handler with a header timeout and one-line logs for junk.

    The timer starts with the first bytes of a request and is cancelled once its headers
    are parsed; if it fires while the connection still waits for a whole request, the
    connection is closed. An idle keep-alive connection (no bytes) is left to
    `idle_timeout`.
    """

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        waiting = self._current_request is None and not self._messages
        super().data_received(data)
        if self._messages or not waiting:
            if self._header_timer is not None:  # the headers are in: the timer is done
                self._header_timer.cancel()
                self._header_timer = None
        elif self._header_timer is None and self.header_timeout > 0:
            # Only a request whose headers are still incomplete gets a timer: a cancelled
            # one would keep this connection (and its buffers) alive until it was due.
            self._header_timer = self._loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._waiter is not None and not self._waiter.done():
            peer = self.transport.get_extra_info("peername") if self.transport else None
            log.warning(
                "HTTP connection from %s closed: no complete request within %g s",
                peer[0] if peer else "?",
                self.header_timeout,
            )
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp logs every parser refusal with a traceback; here it is one line."""
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            peer = args[1] if len(args) > 1 else "?"
            reason = (str(exc.message).splitlines() or ["malformed request"])[0][:200]
            log.warning("HTTP request from %s refused (400): %s", peer, reason.rstrip(": "))
        elif isinstance(exc, ConnectionError):
            log.debug("client hung up: %s", exc)
        else:
            super().log_exception(*args, **kw)


class _EdgeServer(web.Server):
    def __init__(self, plain: web.Server, header_timeout: float) -> None:
        # aiohttp builds its Server inside AppRunner; this keeps everything it chose
        # (request factory, handler, keyword arguments) and changes only the protocol.
        super().__init__(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
        self.header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        handler = _EdgeProtocol(self, loop=self._loop, **self._kwargs)
        handler.header_timeout = self.header_timeout
        return handler


class EdgeRunner(web.AppRunner):
    """`web.AppRunner` for an `edge_app`: its timeouts, and aiohttp's loggers set by the bot."""

    def __init__(self, app: web.Application) -> None:
        limits = app[LIMITS] if LIMITS in app else EdgeLimits()
        super().__init__(
            app,
            access_log=None,  # the bot logs what matters; an access log is the proxy's job
            logger=log,
            keepalive_timeout=limits.idle_timeout,
            lingering_time=1.0,
            max_line_size=8190,
            max_field_size=8190,
            max_headers=64,
        )
        self.limits = limits

    async def _make_server(self) -> web.Server:
        return _EdgeServer(await super()._make_server(), self.limits.header_timeout)


async def serve(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[EdgeRunner, web.TCPSite]:
    """Start `app` behind the edge on host:port (0: a free port; see `bound_port`)."""
    runner = EdgeRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site


def bound_port(site: web.TCPSite) -> int:
    server = site._server
    assert server is not None
    return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
