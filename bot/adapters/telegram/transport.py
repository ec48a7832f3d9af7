"""python-telegram-bot's requests sent through aiohttp instead of httpx.

PTB lets an application choose how its Bot API calls travel (`ApplicationBuilder.request`,
any `BaseRequest`). Its default, httpx, stalls when many calls are under way at once:
with 64 people writing at once to a bare PTB application (`benchmarks/e2e.py`), replies
fell from 275 to 51 a second, with a p99 of 0.7 s and some lost, while the same burst
through bolt's aiohttp client kept its pace. The process already runs aiohttp (the HTTP
edge, Slack, WeCom); one session here keeps a pool of connections to the Bot API.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

POOL = 256  # connections kept to the Bot API (PTB's own default for its bot)
TIMEOUT = 5.0  # seconds for connecting, writing and reading, as PTB's default
MEDIA_TIMEOUT = 20.0  # a file upload may take longer


class AiohttpRequest(BaseRequest):
    """`BaseRequest` over one aiohttp session: made in `initialize`, closed in `shutdown`."""

    def __init__(self, pool: int = POOL, timeout: float = TIMEOUT) -> None:
        self._pool = pool
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: Any = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, part in files.items():
                # (file name, content) or (file name, content, MIME type), as PTB gives them
                form.add_field(
                    name, part[1], filename=part[0], content_type=part[2] if len(part) > 2 else None
                )
            body = form
        total = read_timeout if isinstance(read_timeout, int | float) else None
        limit = total or (MEDIA_TIMEOUT if files else self._timeout)
        try:
            async with self._session.request(
                method, url, data=body, timeout=aiohttp.ClientTimeout(total=limit)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
