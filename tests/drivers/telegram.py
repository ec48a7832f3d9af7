"""Conversations through the real Telegram adapter: webhook updates over HTTP, replies read
back from the fake Bot API, so every conversation test runs on Telegram too."""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import ClientSession

from bot.adapter import Runtime
from bot.adapters.telegram import TelegramAdapter
from bot.app import App, make_deliverer
from bot.http_edge import edge_app
from bot.replies import Choice, Reply
from storage import identity
from storage.store import Actor, Store
from tests.fake_telegram import FakeTelegram
from tests.harness import Said
from tests.loopback import serve_edge

SECRET = "webhook-secret-123"
TOKEN = "123456:TEST-token-never-logged"
GROUP_CHAT = -100200300


def user_id(staff_no: str) -> int:
    return 10_000 + int(hashlib.sha1(staff_no.encode()).hexdigest()[:6], 16)


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@dataclass
class TelegramChat:
    app: App
    fake: FakeTelegram
    adapter: TelegramAdapter
    webhook: str
    _update: int = 0
    _linked: set[str] = field(default_factory=set)
    language: str = "zh-hans"

    async def link(self, staff_no: str) -> int:
        uid = user_id(staff_no)
        if staff_no not in self._linked:
            async with self.app.database.session() as session:
                store = Store(session, Actor(None, "cli"))
                view = await identity.staff_by_no(store, staff_no)
                assert view is not None, staff_no
                await identity.ensure_identity(store, "telegram", str(uid), view.id)
            self._linked.add(staff_no)
        return uid

    def update(
        self, uid: int, name: str, text: str, *, group: bool = False, update_id: int | None = None
    ) -> dict[str, Any]:
        self._update += 1
        chat = (
            {"id": GROUP_CHAT, "type": "supergroup", "title": "工会群"}
            if group
            else {"id": uid, "type": "private", "first_name": name}
        )
        message: dict[str, Any] = {
            "message_id": self._update,
            "date": int(time.time()),
            "chat": chat,
            "text": text,
            "from": {
                "id": uid,
                "is_bot": False,
                "first_name": name,
                "language_code": self.language,
            },
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"update_id": update_id or 500_000 + self._update, "message": message}

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            ClientSession() as client,
            client.post(self.webhook, json=update, headers=headers) as response,
        ):
            return response.status

    async def replies(self, calls: list[Any]) -> list[Reply]:
        out = []
        for call in calls:
            text = plain(str(call.params.get("text") or call.params.get("caption") or ""))
            choices = []
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = str(button["callback_data"])
                    command = (
                        data
                        if data.startswith("/")  # the command itself, when it fits
                        else await self.adapter.store.command_for(data[2:])
                    )
                    choices.append(Choice(button["text"], command or "?"))
            out.append(
                Reply(text=text.removeprefix("⚠️ "), choices=choices, error=text.startswith("⚠️"))
            )
        return out

    async def say(self, who: str, text: str, *, group: bool = False) -> Said:
        uid = await self.link(who)
        mark = len(self.fake.calls)
        status = await self.post(self.update(uid, who, text, group=group))
        assert status == 200
        return Said(await self.replies(self.fake.sent(since=mark)))

    async def inbox(self, who: str) -> list[Reply]:
        uid = await self.link(who)
        mark = len(self.fake.calls)
        deliverer = make_deliverer(self.app, {"telegram": self.adapter.send})
        await deliverer.run_once(platform_user_id=str(uid), platforms=["telegram"])
        return await self.replies(self.fake.sent(uid, since=mark))


def telegram_env(fake_url: str, *, webhook: bool = True) -> dict[str, str]:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake_url}
    if webhook:
        env |= {
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.edu.cn/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
    return env


@asynccontextmanager
async def running_adapter(
    app: App, fake: FakeTelegram, *, webhook: bool = True
) -> AsyncIterator[tuple[TelegramAdapter, str]]:
    """A Telegram adapter on the app's store and dispatcher, with its own HTTP server."""
    http = edge_app()
    settings = replace(app.settings, env=telegram_env(fake.url, webhook=webhook))
    runtime = Runtime(
        settings=settings,
        dispatcher=app.dispatcher,
        catalog=app.catalog,
        http=http,
        store=app.runtime.store,
    )
    adapter = TelegramAdapter(runtime)
    runner, base = await serve_edge(http)
    await adapter.start()
    try:
        yield adapter, f"{base}/telegram/webhook"
    finally:
        await adapter.stop()
        await runner.cleanup()


@asynccontextmanager
async def telegram_driver(app: App) -> AsyncIterator[TelegramChat]:
    fake = FakeTelegram()
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, url):
            yield TelegramChat(app, fake, adapter, url)
    finally:
        await fake.stop()
