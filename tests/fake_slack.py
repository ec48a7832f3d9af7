"""A fake Slack Web API on loopback: records calls, answers like Slack, can answer 429 or errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # channel -> error for chat.postMessage
    rate_limited: int = 0
    retry_after: int = 1
    auth_error: str | None = None
    ts: int = 0
    runner: web.AppRunner | None = None
    url: str = ""
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # file id -> content, for downloads
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> what the bot uploaded

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.handle)
        app.router.add_post("/respond/{id}", self.respond)
        app.router.add_get("/socket", self.socket)
        app.router.add_get("/files/{id}", self.download)
        app.router.add_post("/upload/{id}", self.upload)
        self.runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def download(self, request: web.Request) -> web.Response:
        """url_private_download: only with the bot token, as Slack's file host does."""
        if not request.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            return web.Response(status=403)
        return web.Response(body=self.files[request.match_info["id"]])

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: the file's bytes, posted."""
        self.uploads[request.match_info["id"]] = await request.read()
        return web.Response(text="OK - uploaded")

    async def respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                params[key] = (
                    json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value
                )
        self.calls.append(Call(method, params))
        if method == "auth.test":
            if self.auth_error:
                return web.json_response({"ok": False, "error": self.auth_error})
            return web.json_response(
                {
                    "ok": True,
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                    "team_id": "T1",
                    "user": "unionbot",
                }
            )
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return web.json_response({"ok": False, "error": "user_not_found"})
            return web.json_response({"ok": True, "user": user})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D" + str(params["users"])}})
        if method == "chat.postMessage":
            if self.rate_limited > 0:
                self.rate_limited -= 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(self.retry_after)},
                )
            error = self.errors.get(str(params.get("channel")))
            if error:
                return web.json_response({"ok": False, "error": error})
            self.ts += 1
            return web.json_response(
                {"ok": True, "channel": params.get("channel"), "ts": f"{self.ts}.000100"}
            )
        if method == "apps.connections.open":
            return web.json_response(
                {"ok": True, "url": self.url.replace("http", "ws") + "/socket"}
            )
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + len(self.called(method))}"
            return web.json_response(
                {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
            )
        if method == "files.completeUploadExternal":
            return web.json_response({"ok": True, "files": params.get("files") or []})
        if method == "views.open":
            return web.json_response({"ok": True, "view": {"id": "V1"}})
        return web.json_response({"ok": True})

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then read the app's acks until it goes away."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
        )
        async for message in ws:
            if message.type.name == "TEXT":
                self.acks.append(json.loads(message.data).get("envelope_id", ""))
        return ws

    async def push(self, envelope_id: str, payload: dict[str, Any]) -> None:
        for ws in self.sockets:
            if not ws.closed:
                await ws.send_json(
                    {
                        "envelope_id": envelope_id,
                        "type": "events_api",
                        "accepts_response_payload": False,
                        "payload": payload,
                    }
                )
                return
        raise AssertionError("no Socket Mode connection")

    def messages(self, since: int = 0, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls[since:]
            if c.method in ("chat.postMessage", "chat.postEphemeral", "response_url")
            and (channel is None or c.params.get("channel") == channel)
        ]

    def called(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]
