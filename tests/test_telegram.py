"""The Telegram adapter against a fake Bot API: webhook, polling, groups, buttons, forms, delivery."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.app import App, make_deliverer
from storage import identity, outbox
from storage.clock import utcnow
from storage.models import Delivery
from storage.store import SYSTEM, Store
from tests.drivers.telegram import (
    GROUP_CHAT,
    TOKEN,
    TelegramChat,
    plain,
    running_adapter,
    telegram_driver,
    telegram_env,
)
from tests.fake_telegram import FakeTelegram
from tests.harness import queue_notice


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramChat]:
    async with telegram_driver(app) as chat:
        yield chat


async def test_webhook_secret_is_checked(tg: TelegramChat) -> None:
    uid = await tg.link("T1001")
    mark = len(tg.fake.calls)
    assert await tg.post(tg.update(uid, "T1001", "/whoami"), secret=None) == 403
    assert await tg.post(tg.update(uid, "T1001", "/whoami"), secret="wrong") == 403
    assert tg.fake.sent(since=mark) == [], "nothing handled without the right secret"
    assert await tg.post(tg.update(uid, "T1001", "/whoami")) == 200
    assert "张伟" in plain(tg.fake.sent(uid, since=mark)[0].params["text"])
    webhook = tg.fake.called("setWebhook")[0].params
    assert webhook["secret_token"] == "webhook-secret-123"
    assert webhook["url"].endswith("/telegram/webhook")


async def test_command_menu_in_both_languages(tg: TelegramChat) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in tg.fake.called("setMyCommands")
    }
    assert {"zh", "en", None} <= set(menus)
    zh = {c["command"]: c["description"] for c in menus["zh"]}
    en = {c["command"]: c["description"] for c in menus["en"]}
    assert "whoami" in zh and "proposal" in zh and "我的身份" in zh["whoami"]
    assert "Show who I am" in en["whoami"]
    assert all(name.islower() for name in zh)


async def test_group_keeps_personal_data_private(tg: TelegramChat) -> None:
    uid = await tg.link("D2001")
    mark = len(tg.fake.calls)
    await tg.post(tg.update(uid, "D2001", "/whoami@unionbot_test", group=True))
    to_group = [plain(c.params["text"]) for c in tg.fake.sent(GROUP_CHAT, since=mark)]
    to_person = [plain(c.params["text"]) for c in tg.fake.sent(uid, since=mark)]
    assert len(to_group) == 1 and "私信" in to_group[0]
    assert "13800002001" not in " ".join(to_group)
    assert any("13800002001" in text for text in to_person)

    mark = len(tg.fake.calls)
    await tg.post(tg.update(uid, "D2001", "随便聊聊", group=True))
    await tg.post(tg.update(uid, "D2001", "/whoami@someotherbot", group=True))
    assert tg.fake.sent(since=mark) == [], "only what is addressed to this bot is answered"

    tg.fake.blocked.add(str(uid))  # never opened a private chat with the bot
    mark = len(tg.fake.calls)
    await tg.post(tg.update(uid, "D2001", "/whoami", group=True))
    texts = [plain(c.params["text"]) for c in tg.fake.sent(GROUP_CHAT, since=mark)]
    assert any("/start" in t for t in texts) and "13800002001" not in " ".join(texts)


async def test_officer_registers_a_group(tg: TelegramChat) -> None:
    said = await tg.say("O4101", "/group register sub_union 计算机学院分工会", group=True)
    assert "计算机学院分工会" in said and not said.error
    denied = await tg.say("O4102", "/group register sub_union 计算机学院分工会", group=True)
    assert denied.error, "an officer of another sub-union may not"
    private = await tg.say("O4101", "/group register sub_union 计算机学院分工会")
    assert private.error and "群" in private
    listed = await tg.say("O4001", "/group list")
    assert str(GROUP_CHAT) in listed


async def test_button_runs_the_command_and_edits_the_message(tg: TelegramChat) -> None:
    await tg.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    await tg.say("D2001", "/proposal new")
    for answer in ("<b>食堂</b> & 价格", "理由", "办法", "3", "-"):
        await tg.say("D2001", answer)
    await tg.say("D2001", "/proposal invite 1 D2002 D2003")
    uid = await tg.link("D2002")
    mark = len(tg.fake.calls)
    invitation = await tg.inbox("D2002")
    raw = tg.fake.sent(uid, since=mark)[0].params
    assert "&lt;b&gt;食堂&lt;/b&gt; &amp; 价格" in raw["text"], "user text is escaped"
    token = raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(token.encode()) <= 64 and invitation[0].choices[0].command == "/proposal second 1"
    press = {
        "update_id": 900_001,
        "callback_query": {
            "id": "cbq-1",
            "chat_instance": "x",
            "data": token,
            "from": {"id": uid, "is_bot": False, "first_name": "D2002", "language_code": "zh-hans"},
            "message": {
                "message_id": 77,
                "date": 0,
                "chat": {"id": uid, "type": "private"},
                "text": "邀请你附议",
                "from": {"id": 999, "is_bot": True, "first_name": "UnionBot"},
            },
        },
    }
    mark = len(tg.fake.calls)
    assert await tg.post(press) == 200
    methods = [c.method for c in tg.fake.calls[mark:]]
    assert "answerCallbackQuery" in methods and "editMessageText" in methods
    assert any("你已附议" in plain(c.params["text"]) for c in tg.fake.sent(uid, since=mark))
    edited = next(c for c in tg.fake.calls[mark:] if c.method == "editMessageText").params
    assert "reply_markup" not in edited or not edited["reply_markup"]
    assert "还差 1 位" in await tg.say("D2001", "/proposal submit 1")


async def test_duplicate_update_is_handled_once(tg: TelegramChat) -> None:
    uid = await tg.link("T1001")
    update = tg.update(uid, "T1001", "/lang en", update_id=777)
    mark = len(tg.fake.calls)
    assert await tg.post(update) == 200
    assert await tg.post(update) == 200
    assert len(tg.fake.sent(uid, since=mark)) == 1


async def test_a_duplicate_arriving_while_the_first_is_handled_is_answered_once(
    any_app: App,
) -> None:
    """A message's check runs with the sender's lookup (`IncomingMessage.once`): the same
    update three times at once gets one reply, on both databases."""
    async with telegram_driver(any_app) as tg:
        uid = await tg.link("T1001")
        update = tg.update(uid, "T1001", "/whoami", update_id=4242)
        mark = len(tg.fake.calls)
        assert await asyncio.gather(*(tg.post(update) for _ in range(3))) == [200] * 3
        sent = tg.fake.sent(uid, since=mark)
        assert len(sent) == 1 and "张伟" in plain(sent[0].params["text"])
        mark = len(tg.fake.calls)
        await tg.post(tg.update(uid, "T1001", "/whoami", update_id=4243))
        assert len(tg.fake.sent(uid, since=mark)) == 1, "the next update is new"
        mark = len(tg.fake.calls)
        junk = tg.update(uid, "T1001", "x" * 5000, update_id=4244)
        assert await asyncio.gather(tg.post(junk), tg.post(junk)) == [200, 200]
        sent = tg.fake.sent(uid, since=mark)
        assert len(sent) == 1 and "4000" in plain(sent[0].params["text"]), "too long, said once"


async def test_form_survives_a_restart(app: App) -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, url):
            chat = TelegramChat(app, fake, adapter, url)
            await chat.say(
                "O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31'
            )
            first = await chat.say("D2001", "/proposal new")
            assert "(1/5)" in first and any(c.command == "取消" for c in first.replies[-1].choices)
            await chat.say("D2001", "停车难")
            await chat.say("D2001", "车位不够")
        async with running_adapter(app, fake) as (adapter, url):  # a new process, same store
            chat = TelegramChat(app, fake, adapter, url, _update=100, _linked={"D2001", "O4001"})
            assert "(4/5)" in await chat.say("D2001", "增加车位")
            await chat.say("D2001", "6")
            assert "草稿已保存" in await chat.say("D2001", "-")
    finally:
        await fake.stop()


async def test_polling_with_one_poller_per_token(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        async with running_adapter(app, fake, webhook=False) as (first, _):
            assert first.polling
            chat = TelegramChat(app, fake, first, "")
            uid = await chat.link("T1002")
            fake.updates.append(chat.update(uid, "T1002", "/whoami"))
            for _ in range(100):
                if fake.sent(uid):
                    break
                await asyncio.sleep(0.05)
            assert "李娜" in plain(fake.sent(uid)[0].params["text"])
            with caplog.at_level(logging.WARNING):
                async with running_adapter(app, fake, webhook=False) as (second, _):
                    assert not second.polling
            assert "another instance is polling" in caplog.text
    finally:
        await fake.stop()


async def test_blocked_users_fail_for_good_and_429_is_retried(tg: TelegramChat) -> None:
    uid = await tg.link("T1001")
    uid2 = await tg.link("T1002")
    async with tg.app.database.session() as session:
        store = Store(session, SYSTEM)
        for staff_no in ("T1001", "T1002"):
            view = await identity.staff_by_no(store, staff_no)
            assert view is not None
            await outbox.enqueue(
                store,
                reason="test:hello",
                recipient_id=view.id,
                message_key="identity.link.next",
                why_key="identity.whoami_footer",
            )
    tg.fake.blocked.add(str(uid))
    tg.fake.rate_limited = 1
    tg.fake.retry_after = 7
    deliverer = make_deliverer(tg.app, {"telegram": tg.adapter.send})
    await deliverer.run_once(platforms=["telegram"])
    async with tg.app.database.session() as session:
        rows = {d.platform_user_id: d for d in await session.scalars(select(Delivery))}
    assert rows[str(uid)].status == "failed" and "blocked" in (rows[str(uid)].last_error or "")
    retried = rows[str(uid2)]
    assert retried.status == "pending" and "429" in (retried.last_error or "")
    wait = (retried.due_at - utcnow()).total_seconds()
    assert 5 < wait <= 7, "Retry-After is honoured"


async def test_token_never_reaches_the_logs(app: App, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with telegram_driver(app) as chat:
            await chat.say("T1001", "/whoami")
    assert TOKEN not in caplog.text


async def test_unionbot_run_serves_telegram_end_to_end(tmp_path: Path) -> None:
    """The composition root for real: `unionbot run` as a process, with Telegram configured."""
    from tests.test_console_cli import UNIONBOT, free_port

    url = f"sqlite:///{tmp_path / 'run.db'}"
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNIONBOT_", "TELEGRAM_"))}
    env |= telegram_env(fake.url) | {
        "UNIONBOT_HTTP_PORT": str(port),
        "UNIONBOT_DELIVERY_INTERVAL_SECONDS": "0.5",
    }
    for args in (["db", "upgrade"], ["demo"]):
        setup = await asyncio.create_subprocess_exec(
            UNIONBOT, "--env-file", "/x", "--db", url, *args, env=env
        )
        assert await setup.wait() == 0
    process = await asyncio.create_subprocess_exec(
        UNIONBOT, "--env-file", "/x", "--db", url, "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(200):
            if fake.called("setWebhook"):
                break
            await asyncio.sleep(0.05)
        assert fake.called("setWebhook") and fake.called("setMyCommands")
        await queue_notice(url, "telegram", "4242")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 4242, "type": "private"},
                "text": "/whoami",
                "from": {"id": 4242, "is_bot": False, "first_name": "张伟"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }
        async with (
            ClientSession() as client,
            client.post(
                f"http://127.0.0.1:{port}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "webhook-secret-123"},
            ) as response,
        ):
            assert response.status == 200
        for _ in range(100):
            if len(fake.sent(4242)) >= 2:
                break
            await asyncio.sleep(0.1)
        texts = [plain(c.params["text"]) for c in fake.sent(4242)]
        assert any("张伟" in t for t in texts), "answered through the webhook"
        assert any("/help" in t for t in texts), "the queued notification was delivered"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        await fake.stop()
    assert process.returncode == 0, stderr.decode()
    assert "telegram" in stderr.decode() and TOKEN not in stderr.decode()


async def test_a_long_command_button_goes_through_a_stored_token() -> None:
    """Short commands travel in the button (sending writes nothing to the database); one
    over Telegram's 64 bytes is stored and found again."""
    from bot.adapters.telegram.render import callback_data

    stored: dict[str, str] = {}

    async def token_for(command: str) -> str:
        stored[command] = "t1"
        return "t1"

    assert await callback_data("/meeting attend 12", token_for) == "/meeting attend 12"
    long = "/proposal rate 12 unsatisfied " + "很" * 20
    assert await callback_data(long, token_for) == "c:t1" and stored == {long: "t1"}


async def test_a_prepared_send_touches_no_database(app: App) -> None:
    """The deliverer prepares (stores the long command's token) before it sends: the send
    itself works while the database is away."""
    from bot.delivery import Recipient, SendStatus
    from bot.replies import Choice, Reply

    fake = FakeTelegram()
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, _url):
            long = "/proposal rate 12 unsatisfied " + "很" * 20
            reply = Reply(text="请评价", choices=[Choice("不满意", long), Choice("查看", "/x 1")])
            await adapter.prepare(reply)

            async def away(command: str) -> str:
                raise OSError("database away")

            adapter.store.token_for = away  # type: ignore[method-assign]
            result = await adapter.send(Recipient("telegram", "4242"), reply)
            assert result.status is SendStatus.SENT
            sent = fake.sent(4242)[-1]
            buttons = [
                b["callback_data"] for b in sent.params["reply_markup"]["inline_keyboard"][0]
            ]
            assert buttons[0].startswith("c:") and buttons[1] == "/x 1"
    finally:
        await fake.stop()
