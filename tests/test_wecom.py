"""The WeCom adapter against a fake WeCom server: the callback crypto and its refusals, the
token cache, cards and their buttons, markdown, linking, and a 1,000-member fan-out."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from wechatpy.enterprise.crypto import WeChatCrypto

from benchmarks import fanout
from bot.adapter import AdapterConfigError
from bot.adapters.wecom import WeComAdapter
from bot.adapters.wecom.crypto import CallbackCrypto, CryptoError
from bot.app import App, make_deliverer
from bot.delivery import Recipient, SendStatus
from bot.replies import Choice, Reply
from schedules.tick import tick
from storage import outbox
from storage.clock import utcnow
from storage.demo import load_demo
from storage.models import Delivery, Staff
from storage.store import Actor, Store
from tests.drivers.wecom import WeComChat, plain, replies, running_adapter, wecom_driver
from tests.fake_wecom import (
    AES_KEY,
    CORP_ID,
    SECRET,
    TOKEN,
    FakeWeCom,
    card_event,
    env,
    image_message,
    sign,
    sign_echo,
    text_message,
)
from tests.harness import queue_notice

# WeCom's published example (also wechatpy's test vectors): Token, EncodingAESKey, CorpID
VECTOR_TOKEN = "123456"
VECTOR_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
VECTOR_CORP = "wx49f0ab532d5d035a"
VECTOR_ECHO = (
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
)
VECTOR_MESSAGE = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTy"
    "eDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYy"
    "olBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWO"
    "MZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7ml"
    "sl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)


@pytest.fixture
async def wc(app: App) -> AsyncIterator[WeComChat]:
    async with wecom_driver(app) as chat:
        yield chat


async def _a_draft(wc: WeComChat, *answers: str) -> None:
    """Proposal #1, a draft of D2001's, in an open session."""
    await wc.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    await wc.say("D2001", "/proposal new")
    for answer in answers or ("食堂价格", "价格上涨", "公示成本", "3", "-"):
        await wc.say("D2001", answer)


# ---------------------------------------------------------------------- the crypto


def test_published_vectors_verify_and_decrypt() -> None:
    crypto = CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_CORP)
    crypto.verify(
        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425", VECTOR_ECHO
    )
    assert crypto.decrypt(VECTOR_ECHO) == b"5927782489442352469"
    crypto.verify(
        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "1411525903", "461056294", VECTOR_MESSAGE
    )
    message = crypto.decrypt(VECTOR_MESSAGE).decode()
    assert "<Content><![CDATA[test]]></Content>" in message and "messense" in message
    with pytest.raises(CryptoError):  # one digit of the nonce changed
        crypto.verify(
            "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374424", VECTOR_ECHO
        )
    with pytest.raises(CryptoError):  # the same ciphertext, for another corp
        CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, "wwsomeoneelse").decrypt(VECTOR_ECHO)


def test_the_fake_and_the_adapter_agree_both_ways() -> None:
    ours = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    theirs = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    signed = sign(text_message("T1001", "你好 <b>&", "1"))
    encrypted = signed.body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    q = signed.query
    ours.verify(q["msg_signature"], q["timestamp"], q["nonce"], encrypted)
    assert "你好 <b>&" in ours.decrypt(encrypted).decode()
    for size in (0, 1, 15, 16, 31, 32, 33, 2048):  # every padding length
        message = ("字" * size).encode()
        ciphertext, signature = ours.encrypt(message, "nonce", "1700000000")
        back = theirs.decrypt_message({"Encrypt": ciphertext}, signature, "1700000000", "nonce")
        assert back.encode() == message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_junk_ciphertext_raises_only_crypto_error(junk: bytes) -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    for text in (base64.b64encode(junk).decode(), junk.decode("latin-1")):
        with contextlib.suppress(CryptoError):  # and nothing else
            crypto.decrypt(text)


def test_settings_are_checked_before_start(app: App) -> None:
    def adapter(**changes: str) -> WeComAdapter:
        values = {k: v for k, v in (env("http://127.0.0.1:9") | changes).items() if v}
        runtime = replace(app.runtime, settings=replace(app.settings, env=values), http=None)
        return WeComAdapter(runtime)

    assert WeComAdapter.is_configured(replace(app.settings, env={"WECOM_CORP_ID": "x"}))
    with pytest.raises(AdapterConfigError, match="WECOM_SECRET, WECOM_TOKEN"):
        adapter(WECOM_SECRET="", WECOM_TOKEN="")
    with pytest.raises(AdapterConfigError, match="43 characters"):
        adapter(WECOM_AES_KEY="tooshort")
    with pytest.raises(AdapterConfigError, match="not base64"):
        adapter(WECOM_AES_KEY="!" * 43)
    with pytest.raises(AdapterConfigError, match="AgentId"):
        adapter(WECOM_AGENT_ID="app-one")
    with pytest.raises(AdapterConfigError, match="staff_no, mobile, email, code"):
        adapter(WECOM_LINK_BY="wechat")


async def test_a_wrong_secret_stops_the_start(app: App) -> None:
    fake = FakeWeCom()
    await fake.start()
    try:
        with pytest.raises(AdapterConfigError, match="WECOM_SECRET"):
            async with running_adapter(app, fake, WECOM_SECRET="not-the-secret"):
                pass
    finally:
        await fake.stop()


# ---------------------------------------------------------------------- the callback


async def test_url_verification_answers_the_echo(wc: WeComChat) -> None:
    async with ClientSession() as client:
        async with client.get(wc.url, params=sign_echo("1234567890987")) as response:
            assert response.status == 200 and await response.text() == "1234567890987"
        forged = sign_echo("1234567890987") | {"msg_signature": "0" * 40}
        async with client.get(wc.url, params=forged) as response:
            assert response.status == 403
        stale = sign_echo("1234567890987", timestamp=1_000_000_000)
        async with client.get(wc.url, params=stale) as response:
            assert response.status == 403
        async with client.get(wc.url, params={"echostr": "x"}) as response:
            assert response.status == 400


async def test_forged_stale_and_foreign_callbacks_are_refused_without_the_payload(
    wc: WeComChat, caplog: pytest.LogCaptureFixture
) -> None:
    secret_words = "我的工资条请保密"
    good = sign(text_message("T1001", secret_words, "900001"))
    forged = replace(good, query=good.query | {"msg_signature": "f" * 40})
    stale = sign(text_message("T1001", secret_words, "900002"), timestamp=1_000_000_000)
    foreign = sign(text_message("T1001", secret_words, "900003"), corp_id="wwanothercorp")
    wrong_token = sign(text_message("T1001", secret_words, "900004"), token="guessed")
    with caplog.at_level(logging.INFO):
        assert await wc.post(forged) == 403
        assert await wc.post(stale) == 403
        assert await wc.post(foreign) == 403
        assert await wc.post(wrong_token) == 403
        assert await wc.post(replace(good, body=b"<xml>junk</xml>")) == 400
        assert await wc.post(replace(good, body=b"x" * 100_000)) == 413
    await wc.adapter.settled()
    assert wc.fake.sends == [], "nothing refused was worked on"
    refusals = [r for r in caplog.records if "wecom/callback" in r.getMessage()]
    assert len(refusals) == 6, "one line per refusal"
    ciphertext = good.body.decode().split("<Encrypt><![CDATA[")[1][:40]
    assert secret_words not in caplog.text and ciphertext not in caplog.text


async def test_a_retried_callback_is_handled_once(any_app: App) -> None:
    """A text message's check runs with the sender's lookup (`IncomingMessage.once`), on
    both databases; a button's before the work."""
    async with wecom_driver(any_app) as wc:
        signed = sign(text_message("T1001", "/whoami", "900010"))
        statuses = await asyncio.gather(*(wc.post(signed) for _ in range(3)))
        assert statuses == [200, 200, 200]
        await wc.adapter.settled()
        assert len(wc.fake.sent_to("T1001")) == 1
        await wc.post(sign(text_message("T1001", "/whoami", "900012")))
        await wc.adapter.settled()
        assert len(wc.fake.sent_to("T1001")) == 2, "the next message is new"


async def test_the_answer_comes_before_the_work(wc: WeComChat) -> None:
    """WeCom retries what is not answered in 5 seconds: the 200 does not wait for the work."""
    gate = asyncio.Event()
    handle = wc.app.dispatcher.handle

    async def slow(*args: object, **kwargs: object) -> object:
        await gate.wait()
        return await handle(*args, **kwargs)  # type: ignore[arg-type]

    wc.app.dispatcher.handle = slow  # type: ignore[method-assign]
    try:
        status = await asyncio.wait_for(
            wc.post(sign(text_message("T1001", "/whoami", "900011"))), timeout=5
        )
        assert status == 200 and wc.fake.sends == []
        gate.set()
        await wc.adapter.settled()
    finally:
        wc.app.dispatcher.handle = handle  # type: ignore[method-assign]
    assert len(wc.fake.sent_to("T1001")) == 1


async def test_a_members_messages_are_worked_on_in_order(wc: WeComChat) -> None:
    """A form answered quickly: each answer is taken in the order it was typed."""
    opened = await wc.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    assert not opened.error
    mark = len(wc.fake.sends)
    answers = ["/proposal new", "食堂价格", "价格上涨", "公示成本", "3", "-"]
    for index, text in enumerate(answers):
        assert await wc.post(sign(text_message("D2001", text, f"91000{index}"))) == 200
    await wc.adapter.settled()
    said = await replies(wc.adapter, wc.fake.sent_to("D2001", since=mark))
    assert "#1" in said[-1].text


async def test_a_form_survives_a_restart(app: App) -> None:
    fake = FakeWeCom()
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, url):
            chat = WeComChat(app, fake, adapter, url)
            await chat.say(
                "O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31'
            )
            first = await chat.say("D2001", "/proposal new")
            assert "(1/5)" in first and any(c.command == "取消" for c in first.replies[-1].choices)
            await chat.say("D2001", "停车难")
            await chat.say("D2001", "车位不够")
        async with running_adapter(app, fake) as (adapter, url):  # a new process, same store
            chat = WeComChat(app, fake, adapter, url)
            assert "(4/5)" in await chat.say("D2001", "增加车位")
            await chat.say("D2001", "6")
            assert "草稿已保存" in await chat.say("D2001", "-")
    finally:
        await fake.stop()


# ---------------------------------------------------------------------- replies


async def test_user_text_cannot_become_markdown(wc: WeComChat) -> None:
    await _a_draft(wc, "<@all> **紧急** [点这里](http://evil.example)", "理由", "建议", "3", "-")
    mark = len(wc.fake.sends)
    await wc.say("D2001", "/proposal show 1")
    content = next(
        s.body["markdown"]["content"] for s in wc.fake.sends[mark:] if s.msgtype == "markdown"
    )
    assert "<@all>" not in content and "](http" not in content and "**紧急**" not in content
    assert "<@all> **紧急** [点这里](http://evil.example)" in plain(content), "shown as typed"


async def test_markdown_refused_falls_back_to_text(wc: WeComChat) -> None:
    wc.fake.refuse_markdown = True
    said = await wc.say("T1001", "/whoami")
    assert "T1001" in said
    assert [s.msgtype for s in wc.fake.sent_to("T1001")] == ["text"]


async def test_a_long_reply_is_split_within_2048_bytes(wc: WeComChat) -> None:
    mark = len(wc.fake.sends)
    reply = Reply(title="名单", items=[f"代表{i:03d} 机械工程学院 出席" for i in range(300)])
    assert (await wc.adapter.send(Recipient("wecom", "T1001"), reply)).status is SendStatus.SENT
    parts = [s.body["markdown"]["content"] for s in wc.fake.sends[mark:]]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "代表299" in parts[-1] and "代表000" in parts[0]


async def test_a_chart_goes_as_an_image(wc: WeComChat) -> None:
    async with wc.app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")))
    said = await wc.say("O4001", "/proposal chart")
    assert not said.error
    kinds = [s.msgtype for s in wc.fake.sent_to("O4001")]
    assert "image" in kinds and wc.fake.uploads[0][0] == "image"
    assert wc.fake.uploads[0][2].startswith(b"\x89PNG")


async def test_a_sent_image_reaches_the_command_that_takes_files(wc: WeComChat) -> None:
    await _a_draft(wc)
    await wc.say("D2001", "/proposal attach 1")
    wc.fake.media["media-photo-1"] = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    mark = len(wc.fake.sends)
    assert await wc.post(sign(image_message("D2001", "media-photo-1", "920001"))) == 200
    await wc.adapter.settled()
    said = await replies(wc.adapter, wc.fake.sent_to("D2001", since=mark))
    assert said and not said[-1].error and "photo.png" in said[-1].text


# ---------------------------------------------------------------------- buttons


async def test_a_card_button_runs_its_command_once_and_closes_the_card(wc: WeComChat) -> None:
    await _a_draft(wc)
    await wc.say("D2001", "/proposal invite 1 D2002")
    invitation = await wc.inbox("D2002")
    assert [c.command for c in invitation[0].choices][:1] == ["/proposal second 1"]
    card = [s for s in wc.fake.sent_to("D2002") if s.msgtype == "template_card"][-1]
    template = card.body["template_card"]
    assert template["card_type"] == "button_interaction" and template["task_id"]
    code = wc.fake.press_code()
    event = sign(card_event("D2002", "/proposal second 1", template["task_id"], code))
    mark = len(wc.fake.sends)
    assert [await wc.post(event), await wc.post(event)] == [200, 200]  # WeCom's retry
    await wc.adapter.settled()
    answered = await replies(wc.adapter, wc.fake.sent_to("D2002", since=mark))
    assert len(answered) == 1 and "附议" in answered[0].text
    assert [u["response_code"] for u in wc.fake.card_updates] == [code]
    assert wc.fake.card_updates[0]["button"]["replace_name"].startswith("✅")
    assert wc.fake.card_updates[0]["userids"] == ["D2002"]


async def test_a_long_command_button_goes_through_a_stored_token(wc: WeComChat) -> None:
    long_command = "/whoami " + "x" * 1100
    reply = Reply(text="选择", choices=[Choice("我", long_command)])
    await wc.adapter.prepare(reply)
    await wc.adapter.send(Recipient("wecom", "T1001"), reply)
    card = wc.fake.sent_to("T1001")[-1].body["template_card"]
    key = card["button_list"][0]["key"]
    assert key.startswith("t:") and len(key.encode()) <= 1024
    assert await wc.adapter.store.command_for(key[2:]) == long_command


# ---------------------------------------------------------------------- the token


async def test_the_token_is_fetched_once_for_concurrent_sends_and_renewed_when_expired(
    wc: WeComChat,
) -> None:
    before = wc.fake.token_fetches
    reply = Reply(text="通知")
    results = await asyncio.gather(
        *(wc.adapter.send(Recipient("wecom", f"T{1000 + i}"), reply) for i in range(50))
    )
    assert all(r.status is SendStatus.SENT for r in results)
    assert wc.fake.token_fetches == before, "the token from the start served them all"
    wc.fake.expire_tokens()
    results = await asyncio.gather(
        *(wc.adapter.send(Recipient("wecom", f"T{1000 + i}"), reply) for i in range(20))
    )
    assert all(r.status is SendStatus.SENT for r in results)
    assert wc.fake.token_fetches == before + 1, "one refresh, not one per message"


async def test_secrets_never_reach_the_logs(app: App, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with wecom_driver(app) as chat:
            await chat.say("T1001", "/whoami")
            chat.fake.expire_tokens()
            await chat.say("T1001", "/whoami")
    assert SECRET not in caplog.text and "tok-" not in caplog.text


# ---------------------------------------------------------------------- linking


async def test_linking_by_staff_no_mobile_email_or_code(app: App) -> None:
    fake = FakeWeCom()
    fake.members = {
        "zhangwei": {"userid": "zhangwei", "name": "张伟", "mobile": "+86 138-0013-8000"},
        "chenjing": {"userid": "chenjing", "name": "陈静"},  # mobile not readable by this app
    }
    await fake.start()
    async with app.database.session() as session:
        await session.execute(
            update(Staff).where(Staff.staff_no == "T1001").values(phone="13800138000")
        )
    try:
        async with running_adapter(app, fake, WECOM_LINK_BY="mobile") as (adapter, url):
            chat = WeComChat(app, fake, adapter, url)
            assert "T1001" in await chat.say("zhangwei", "/whoami")
            unlinked = await chat.say("chenjing", "/whoami")
            assert "邀请码" in unlinked.text or "/link" in unlinked.text
        async with running_adapter(app, fake, WECOM_LINK_BY="code") as (adapter, url):
            chat = WeComChat(app, fake, adapter, url)
            said = await chat.say("T1002", "/whoami")
            assert "/link" in said.text and "T1002" not in said.text
    finally:
        await fake.stop()


async def test_someone_added_to_the_roster_later_is_linked_on_a_later_message(
    wc: WeComChat,
) -> None:
    assert "/link" in (await wc.say("N8001", "/whoami")).text
    now = utcnow()
    async with wc.app.database.session() as session:
        session.add(Staff(staff_no="N8001", name="新同事", created_at=now, updated_at=now))
    assert "/link" in (await wc.say("N8001", "/whoami")).text, "not looked up at every message"
    wc.adapter.known["N8001"] = 0.0  # as ten minutes later
    assert "新同事" in (await wc.say("N8001", "/whoami")).text


# ---------------------------------------------------------------------- delivery


async def test_a_reminder_to_1000_members_goes_in_batches_within_the_limits(any_app: App) -> None:
    app = any_app
    await fanout.setup(
        app.settings.database_url,
        1000,
        platform="wecom",
        user_id=lambda _id, staff_no: staff_no,  # the WeCom userid is the staff number
        languages=("zh", "en"),
    )
    done = await tick(app.database, app.settings.tz)
    fake = FakeWeCom()
    fake.outside = {"B000007", "B000500"}  # left the app's visible range
    fake.rate_per_second = 1  # the app's call rate, low: the second call answers 45009
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, _url):
            deliverer = make_deliverer(
                app,
                {"wecom": adapter.send},
                holder="test",
                quiet_hours=False,
                batchers={"wecom": (adapter.send_many, adapter.batch_size)},
            )
            await deliverer.drain()
            for _round in range(10):  # what 45009 deferred is due again, as a minute later
                async with app.database.session() as session:
                    pending = await session.scalar(
                        select(func.count()).where(Delivery.status == outbox.PENDING)
                    )
                    await session.execute(
                        update(Delivery)
                        .where(Delivery.status == outbox.PENDING)
                        .values(due_at=utcnow() - timedelta(seconds=1))
                    )
                if not pending:
                    break
                await asyncio.sleep(1.05)
                await deliverer.drain()
    finally:
        await fake.stop()
    reminders = [s for s in fake.sends if any(uid.startswith("B") for uid in s.to)]
    assert done["reminders"] >= 1000
    received = [uid for s in reminders if s.msgtype != "template_card" for uid in s.to]
    assert len(received) == len(set(received)), "no one got the text twice"
    assert set(received) == {f"B{i:06d}" for i in range(1000)} - fake.outside
    assert fake.rate_limited >= 1, "45009 was answered, and ridden out"
    assert {len(s.to) for s in reminders} == {499}, "one call reaches each language's 499"
    assert len(reminders) == 4, "the text and the card, in two languages"
    assert sum(len(s.to) for s in reminders) == 2 * 998
    card = next(s for s in reminders if s.msgtype == "template_card").body["template_card"]
    assert [b["key"] for b in card["button_list"]] == ["/meeting attend 1", "/meeting leave 1"]
    assert all(s.body["enable_duplicate_check"] == 1 for s in reminders)
    async with app.database.session() as session:
        outcomes = dict(
            (row.platform_user_id, (row.status, row.last_error))
            for row in await session.execute(
                select(Delivery.platform_user_id, Delivery.status, Delivery.last_error).where(
                    Delivery.platform == "wecom"
                )
            )
        )
    assert outcomes["B000007"][0] == outbox.FAILED and "visible range" in outcomes["B000007"][1]
    assert sum(status == outbox.SENT for status, _ in outcomes.values()) == 998


async def test_rate_limits_of_a_member_and_of_the_app(wc: WeComChat) -> None:
    from schedules.ratelimit import RateLimiter

    limiter = RateLimiter()
    first = limiter.delay_many("wecom", [f"u{i}" for i in range(1000)])
    second = limiter.delay_many("wecom", [f"u{i}" for i in range(1000)])
    assert first == 0 and 1.9 < second <= 2.0, "30 a minute to one member"
    hourly = RateLimiter(
        {"UNIONBOT_RATE_WECOM_PER_CHAT": "1000", "UNIONBOT_RATE_WECOM_GLOBAL": "0"}
    )
    waits = [hourly.delay("wecom", "u1") for _ in range(1001)]
    assert max(waits[:1000]) < 1.1 and waits[1000] > 3, "1,000 an hour to one member"
    wc.fake.rate_per_second = 1
    reply = Reply(text="通知")
    results = [await wc.adapter.send(Recipient("wecom", "T1001"), reply) for _ in range(3)]
    assert results[0].status is SendStatus.SENT
    assert results[-1].status is SendStatus.RETRY and "45009" in (results[-1].reason or "")


async def test_a_delivery_repeated_after_a_crash_is_dropped_by_wecom(wc: WeComChat) -> None:
    reply = Reply(text="明天 9:00 教代会")
    for _ in range(2):  # sent, then sent again by an instance that did not see the outcome
        assert (await wc.adapter.send(Recipient("wecom", "T1001"), reply)).status is SendStatus.SENT
    assert len(wc.fake.sent_to("T1001")) == 1 and wc.fake.duplicates_dropped == 1


async def test_a_member_outside_the_visible_range_fails_for_good(wc: WeComChat) -> None:
    wc.fake.outside = {"T1001"}
    result = await wc.adapter.send(Recipient("wecom", "T1001"), Reply(text="通知"))
    assert result.status is SendStatus.FAILED and "visible range" in (result.reason or "")


async def test_unionbot_run_serves_wecom_end_to_end(tmp_path: Path) -> None:
    """`unionbot run` as a process with WeCom configured: a callback answered, a queued
    notification delivered, a clean stop; half the settings stop it with the reason."""
    from tests.loopback import wait_for_port
    from tests.test_console_cli import UNIONBOT, free_port

    url = f"sqlite:///{tmp_path / 'run.db'}"
    fake = FakeWeCom()
    await fake.start()
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UNIONBOT_", "WECOM_"))}
    environment = (
        base
        | env(fake.url)
        | {
            "UNIONBOT_HTTP_PORT": str(port),
            "UNIONBOT_DELIVERY_INTERVAL_SECONDS": "0.5",
        }
    )
    for args in (["db", "upgrade"], ["demo"]):
        setup = await asyncio.create_subprocess_exec(
            UNIONBOT, "--env-file", "/x", "--db", url, *args, env=environment
        )
        assert await setup.wait() == 0
    half = await asyncio.create_subprocess_exec(
        UNIONBOT,
        "--env-file",
        "/x",
        "--db",
        url,
        "run",
        env=base | {"WECOM_CORP_ID": CORP_ID, "WECOM_AES_KEY": "short"},
        stderr=asyncio.subprocess.PIPE,
    )
    _, said = await asyncio.wait_for(half.communicate(), timeout=60)
    assert half.returncode != 0 and "WECOM_AGENT_ID" in said.decode()
    assert "Traceback" not in said.decode()
    process = await asyncio.create_subprocess_exec(
        UNIONBOT,
        "--env-file",
        "/x",
        "--db",
        url,
        "run",
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_port(port)
        await queue_notice(url, "wecom", "T1001")
        signed = sign(text_message("T1001", "/whoami", "930001"))
        async with (
            ClientSession() as client,
            client.post(
                f"http://127.0.0.1:{port}/wecom/callback", params=signed.query, data=signed.body
            ) as response,
        ):
            assert response.status == 200
        for _ in range(100):
            if len(fake.sent_to("T1001")) >= 2:
                break
            await asyncio.sleep(0.1)
        texts = [plain(s.body[s.msgtype]["content"]) for s in fake.sent_to("T1001")]
        assert any("张伟" in t for t in texts), "answered the callback"
        assert any("/help" in t for t in texts), "the queued notification was delivered"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        await fake.stop()
    assert process.returncode == 0, stderr.decode()
    assert "wecom" in stderr.decode() and SECRET not in stderr.decode()


async def test_a_reply_with_many_choices_gets_a_card_per_six(wc: WeComChat) -> None:
    reply = Reply(text="选一个", choices=[Choice(f"选项{i}", f"/whoami {i}") for i in range(8)])
    await wc.adapter.send(Recipient("wecom", "T1001"), reply)
    cards = [s.body["template_card"] for s in wc.fake.sent_to("T1001")]
    assert [len(c["button_list"]) for c in cards] == [6, 2]
    assert len({c["task_id"] for c in cards}) == 2
