"""Conversations through the real Slack adapter: signed requests over HTTP to the running app,
replies read back from the fake Web API, so every conversation test runs on Slack too."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession

from bot.adapter import Runtime
from bot.adapters.slack import SlackAdapter
from bot.app import App, make_deliverer
from bot.http_edge import edge_app
from bot.replies import Choice, Reply
from storage import identity
from storage.store import Actor, Store
from tests.fake_slack import Call, FakeSlack
from tests.harness import Said
from tests.loopback import serve_edge

SIGNING_SECRET = "slack-signing-secret-for-tests"
TOKEN = "xoxb-slack-token-never-logged"
CHANNEL = "C0GENERAL"


def user_id(staff_no: str) -> str:
    return "U" + staff_no


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def reply_from(call: Call) -> Reply:
    texts: list[str] = []
    choices: list[Choice] = []
    for block in call.params.get("blocks") or []:
        if block["type"] in ("header", "section") and "text" in block:
            texts.append(block["text"]["text"])
        for item in block.get("fields", []):
            texts.append(item["text"])
        if block["type"] == "context":
            texts.extend(e["text"] for e in block["elements"])
        if block["type"] == "actions":
            choices.extend(Choice(e["text"]["text"], e["value"]) for e in block["elements"])
    text = html.unescape("\n".join(texts))
    return Reply(
        text=text.removeprefix(":warning: "), choices=choices, error=text.startswith(":warning:")
    )


@dataclass
class SlackChat:
    app: App
    fake: FakeSlack
    adapter: SlackAdapter
    url: str
    _n: int = 0
    _linked: set[str] = field(default_factory=set)

    async def link(self, staff_no: str) -> str:
        uid = user_id(staff_no)
        if staff_no not in self._linked:
            async with self.app.database.session() as session:
                store = Store(session, Actor(None, "cli"))
                view = await identity.staff_by_no(store, staff_no)
                assert view is not None, staff_no
                await identity.ensure_identity(store, "slack", uid, view.id)
            self._linked.add(staff_no)
        return uid

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> tuple[int, str]:
        all_headers = {
            "Content-Type": content_type,
            **(sign(body) if signed else {}),
            **(headers or {}),
        }
        async with (
            ClientSession() as client,
            client.post(self.url, data=body.encode(), headers=all_headers) as response,
        ):
            text = await response.text()
        await self.adapter.settled()
        return response.status, text

    def event(
        self, uid: str, text: str, *, group: bool = False, event_id: str | None = None
    ) -> str:
        self._n += 1
        inner: dict[str, Any] = (
            {
                "type": "app_mention",
                "user": uid,
                "text": f"<@UBOT> {text}",
                "channel": CHANNEL,
                "ts": f"{self._n}.0",
            }
            if group
            else {
                "type": "message",
                "channel_type": "im",
                "user": uid,
                "text": text,
                "channel": "D" + uid,
                "ts": f"{self._n}.0",
                "client_msg_id": f"m{self._n}",
            }
        )
        return json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": inner,
                "event_id": event_id or f"Ev{self._n:06d}",
                "event_time": int(time.time()),
            }
        )

    def form(self, payload: dict[str, Any]) -> str:
        return urlencode({"payload": json.dumps(payload)})

    def slash(self, uid: str, text: str, channel: str = CHANNEL) -> str:
        self._n += 1
        return urlencode(
            {
                "command": "/union",
                "text": text,
                "user_id": uid,
                "channel_id": channel,
                "channel_name": "directmessage" if channel.startswith("D") else "general",
                "team_id": "T1",
                "trigger_id": f"trig{self._n}",
                "response_url": f"{self.fake.url}/respond/{self._n}",
            }
        )

    async def say(self, who: str, text: str, *, group: bool = False) -> Said:
        uid = await self.link(who)
        mark = len(self.fake.calls)
        status, _ = await self.post(self.event(uid, text, group=group))
        assert status == 200
        return Said([reply_from(c) for c in self.fake.messages(mark)])

    async def inbox(self, who: str) -> list[Reply]:
        uid = await self.link(who)
        mark = len(self.fake.calls)
        deliverer = make_deliverer(self.app, {"slack": self.adapter.send})
        await deliverer.run_once(platform_user_id=uid, platforms=["slack"])
        return [reply_from(c) for c in self.fake.messages(mark, channel="D" + uid)]


def slack_env(fake_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_url + "/api/",
    }


@asynccontextmanager
async def running_slack(app: App, fake: FakeSlack) -> AsyncIterator[tuple[SlackAdapter, str]]:
    http = edge_app()
    settings = replace(app.settings, env=slack_env(fake.url))
    runtime = Runtime(
        settings=settings,
        dispatcher=app.dispatcher,
        catalog=app.catalog,
        http=http,
        store=app.runtime.store,
    )
    adapter = SlackAdapter(runtime)
    runner, base = await serve_edge(http)
    await adapter.start()
    try:
        yield adapter, f"{base}/slack/events"
    finally:
        await adapter.stop()
        await runner.cleanup()


@asynccontextmanager
async def slack_driver(app: App) -> AsyncIterator[SlackChat]:
    fake = FakeSlack()
    await fake.start()
    try:
        async with running_slack(app, fake) as (adapter, url):
            yield SlackChat(app, fake, adapter, url)
    finally:
        await fake.stop()
