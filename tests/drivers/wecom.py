"""Conversations through the real WeCom adapter: encrypted callbacks posted over HTTP,
replies read back from the fake WeCom server, so every conversation test runs on WeCom.

Members are WeCom users whose userid is their staff number, as in most universities, so
the adapter links them itself on first contact (`WECOM_LINK_BY=staff_no`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from aiohttp import ClientSession

from bot.adapter import Runtime
from bot.adapters.wecom import WeComAdapter
from bot.app import App, make_deliverer
from bot.http_edge import edge_app
from bot.replies import Choice, Reply
from tests.fake_wecom import FakeWeCom, Send, Signed, card_event, env, sign, text_message
from tests.harness import Said
from tests.loopback import serve_edge

_MARKUP = re.compile(r"\*\*|</?font[^>]*>|\u200b")
_ids = itertools.count(7_000_000_000)


def plain(markdown: str) -> str:
    return _MARKUP.sub("", markdown)


async def replies(adapter: WeComAdapter, sends: list[Send]) -> list[Reply]:
    """What a member sees: a card that only carries the buttons of the text before it
    belongs to that text's reply."""
    out: list[Reply] = []
    for send in sends:
        body = send.body
        if send.msgtype == "template_card":
            card = body["template_card"]
            choices = []
            for button in card["button_list"]:
                key = str(button["key"])
                command = await adapter.store.command_for(key[2:]) if key.startswith("t:") else key
                choices.append(Choice(button["text"], command or "?"))
            if "sub_title_text" not in card and out and not out[-1].choices:
                out[-1].choices = choices
                continue
            text = card["main_title"]["title"] + "\n" + card.get("sub_title_text", "")
            out.append(Reply(text=text.strip(), choices=choices))
            continue
        if send.msgtype in ("image", "file"):
            continue
        content = plain(str(body[send.msgtype]["content"]))
        out.append(Reply(text=content.removeprefix("⚠️ "), error=content.startswith("⚠️")))
    return out


@dataclass
class WeComChat:
    app: App
    fake: FakeWeCom
    adapter: WeComAdapter
    url: str

    async def post(self, signed: Signed) -> int:
        async with (
            ClientSession() as client,
            client.post(self.url, params=signed.query, data=signed.body) as response,
        ):
            return response.status

    async def say(self, who: str, text: str, *, group: bool = False) -> Said:
        assert not group, "a WeCom self-built app receives private messages only"
        mark = len(self.fake.sends)
        status = await self.post(sign(text_message(who, text, str(next(_ids)))))
        assert status == 200
        await self.adapter.settled()
        return Said(await replies(self.adapter, self.fake.sent_to(who, since=mark)))

    async def press(self, who: str, command: str) -> Said:
        """Press the button of `command` on the last card `who` got."""
        cards = [s for s in self.fake.sent_to(who) if s.msgtype == "template_card"]
        card = cards[-1].body["template_card"]
        keys = [b["key"] for b in card["button_list"]]
        key = next(k for k in keys if k == command or k.startswith("t:"))
        mark = len(self.fake.sends)
        event = card_event(who, key, card["task_id"], self.fake.press_code())
        assert await self.post(sign(event)) == 200
        await self.adapter.settled()
        return Said(await replies(self.adapter, self.fake.sent_to(who, since=mark)))

    async def inbox(self, who: str) -> list[Reply]:
        await self.adapter._sender(who)  # linked as on first contact, if not yet
        mark = len(self.fake.sends)
        deliverer = make_deliverer(
            self.app,
            {"wecom": self.adapter.send},
            batchers={"wecom": (self.adapter.send_many, self.adapter.batch_size)},
        )
        await deliverer.run_once(platform_user_id=who, platforms=["wecom"])
        return await replies(self.adapter, self.fake.sent_to(who, since=mark))


@asynccontextmanager
async def running_adapter(
    app: App, fake: FakeWeCom, **settings: str
) -> AsyncIterator[tuple[WeComAdapter, str]]:
    """A WeCom adapter on the app's store and dispatcher, with its own HTTP server."""
    http = edge_app()
    runtime = Runtime(
        settings=replace(app.settings, env=env(fake.url, **settings)),
        dispatcher=app.dispatcher,
        catalog=app.catalog,
        http=http,
        store=app.runtime.store,
    )
    adapter = WeComAdapter(runtime)
    runner, base = await serve_edge(http)
    await adapter.start()
    try:
        yield adapter, f"{base}/wecom/callback"
    finally:
        await adapter.stop()
        await runner.cleanup()


@asynccontextmanager
async def wecom_driver(app: App) -> AsyncIterator[WeComChat]:
    fake = FakeWeCom()
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, url):
            yield WeComChat(app, fake, adapter, url)
    finally:
        await fake.stop()
