"""A fake Telegram Bot API on loopback: records calls, serves getUpdates, answers 403 or 429."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

BOT = {
    "id": 999,
    "is_bot": True,
    "first_name": "UnionBot",
    "username": "unionbot_test",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart: its name and its bytes, read while the request lasted."""

    filename: str
    content: bytes


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    rate_limited: int = 0  # how many of the next sends answer 429
    refuse_html: int = 0  # how many of the next HTML sends answer 400 "can't parse entities"
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content, for getFile
    retry_after: int = 1
    next_message_id: int = 1000
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self.download)
        self.runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                params[key] = (
                    Upload(value.filename, value.file.read())
                    if not isinstance(value, str)
                    else _maybe_json(value)
                )
        self.calls.append(Call(method, params))
        handler = getattr(self, "m_" + method, None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return await handler(params)

    def _ok(self, result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        self.next_message_id += 1
        chat_id = int(params["chat_id"])
        return {
            "message_id": self.next_message_id,
            "date": int(time.time()),
            "from": BOT,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "text": str(params.get("text") or params.get("caption") or ""),
        }

    async def _send(self, params: dict[str, Any]) -> web.Response:
        if str(params["chat_id"]) in self.blocked:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        if self.refuse_html > 0 and params.get("parse_mode") == "HTML":
            self.refuse_html -= 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: can't parse entities: can't find end tag",
                },
                status=400,
            )
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": self.retry_after},
                },
                status=429,
            )
        return self._ok(self._message(params))

    async def m_getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params["file_id"])
        content = self.files[file_id]
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "file_size": len(content),
                "file_path": f"documents/{file_id}",
            }
        )

    async def download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        return web.Response(body=self.files[file_id])

    async def m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._ok(BOT)

    async def m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        return await self._send(params)

    async def m_sendDocument(self, params: dict[str, Any]) -> web.Response:
        return await self._send(params)

    async def m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        return await self._send(params)

    async def m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        return self._ok(self._message(params))

    async def m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while not self.updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self._ok(list(self.updates))

    # ------------------------------------------------------------ reading what happened

    def sent(self, chat_id: int | None = None, since: int = 0) -> list[Call]:
        return [
            c
            for c in self.calls[since:]
            if c.method in ("sendMessage", "sendDocument", "sendPhoto")
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
