"""PTB's Bot API calls over aiohttp (`bot/adapters/telegram/transport.py`): what PTB asks
of a request class, against a server on loopback."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.adapters.telegram.transport import AiohttpRequest
from tests.loopback import serve_edge


async def test_fields_files_timeouts_and_refusals() -> None:
    seen: list[dict[str, object]] = []

    async def method(request: web.Request) -> web.Response:
        form = await request.post()
        got: dict[str, object] = {}
        for key, value in form.items():
            got[key] = value if isinstance(value, str) else value.file.read()
        seen.append(got)
        if request.match_info["name"] == "slow":
            await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot/{name}", method)
    runner, base = await serve_edge(app)
    transport = AiohttpRequest(timeout=0.5)
    await transport.initialize()
    try:
        plain = RequestData(
            [
                RequestParameter.from_input("chat_id", 42),
                RequestParameter.from_input("text", "你好 <b>"),
            ]
        )
        status, body = await transport.do_request(f"{base}/bot/sendMessage", "POST", plain)
        assert status == 200 and b'"ok": true' in body.replace(b'"ok":true', b'"ok": true')
        assert seen[-1] == {"chat_id": "42", "text": "你好 <b>"}

        from telegram import InputFile

        photo = RequestParameter.from_input("photo", InputFile(b"\x89PNG-bytes", filename="c.png"))
        upload = RequestData([RequestParameter.from_input("chat_id", 42), photo])
        status, _ = await transport.do_request(f"{base}/bot/sendPhoto", "POST", upload)
        assert status == 200 and seen[-1]["chat_id"] == "42"
        assert b"\x89PNG-bytes" in [v for v in seen[-1].values() if isinstance(v, bytes)]

        with pytest.raises(TimedOut):
            await transport.do_request(f"{base}/bot/slow", "POST", plain)
    finally:
        await transport.shutdown()
        await runner.cleanup()
    with pytest.raises(NetworkError):
        closed = AiohttpRequest()
        await closed.initialize()
        try:
            await closed.do_request(f"{base}/bot/sendMessage", "POST", plain)
        finally:
            await closed.shutdown()
