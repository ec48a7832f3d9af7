"""Odd text and odd timing from real people, through the real adapters: long replies,
Slack's escaping, one message delivered twice, and many first messages at once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from storage.clock import utcnow
from storage.models import Identity, Staff
from tests.drivers.slack import SlackChat, reply_from, slack_driver
from tests.drivers.telegram import TelegramChat, plain, telegram_driver
from tests.harness import ConsoleChat

OPEN_SESSION = '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31'


@pytest.fixture
async def slack(app: App) -> AsyncIterator[SlackChat]:
    async with slack_driver(app) as chat:
        yield chat


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramChat]:
    async with telegram_driver(app) as chat:
        yield chat


async def test_what_is_typed_in_slack_is_what_everyone_reads(
    app: App, slack: SlackChat, tg: TelegramChat
) -> None:
    await slack.say("O4001", OPEN_SESSION)
    await slack.say("D2001", "/proposal new")
    # Slack sends the typed title `A & B <x>` escaped, as it sends all message text.
    for answer in ("A &amp; B &lt;x&gt;", "理由", "办法", "3", "-"):
        await slack.say("D2001", answer)
    on_slack = await slack.say("D2001", "/proposal show 1")
    raw = json.dumps(slack.fake.called("chat.postMessage")[-1].params, ensure_ascii=False)
    assert "A & B <x>" in on_slack.text
    assert "A &amp; B &lt;x&gt;" in raw and "&amp;amp;" not in raw
    mark = len(tg.fake.calls)
    await tg.say("D2001", "/proposal show 1")
    sent = tg.fake.sent(since=mark)[0].params["text"]
    assert "A &amp; B &lt;x&gt;" in sent and "A & B <x>" in plain(sent)
    on_console = await ConsoleChat(app).say("D2001", "/proposal show 1")
    assert "A & B <x>" in on_console.text


async def test_a_long_proposal_arrives_whole_on_telegram(tg: TelegramChat) -> None:
    await tg.say("O4001", OPEN_SESSION)
    await tg.say("D2001", "/proposal new")
    reasons, measures = "理" * 3990, "办法&<b>" * 400
    for answer in ("食堂", reasons, measures, "3", "-"):
        await tg.say("D2001", answer)
    uid = await tg.link("D2001")
    mark = len(tg.fake.calls)
    await tg.say("D2001", "/proposal show 1")
    sent = [c.params["text"] for c in tg.fake.sent(uid, since=mark)]
    assert len(sent) >= 2, "split into several messages"
    shown = "".join(plain(text) for text in sent)
    assert reasons in shown and measures in shown
    assert all(len(plain(text)) <= 4096 for text in sent)


async def test_a_refused_reply_arrives_as_plain_text(
    tg: TelegramChat, caplog: pytest.LogCaptureFixture
) -> None:
    uid = await tg.link("T1001")
    tg.fake.refuse_html = 1
    mark = len(tg.fake.calls)
    with caplog.at_level(logging.WARNING):
        await tg.say("T1001", "/whoami")
    sent = tg.fake.sent(uid, since=mark)
    assert [c.params.get("parse_mode") for c in sent] == ["HTML", None]
    assert "张伟" in sent[1].params["text"] and "<b>" not in sent[1].params["text"]
    assert caplog.text.count("sent as plain text") == 1


async def test_one_slack_message_under_a_new_event_id_is_handled_once(slack: SlackChat) -> None:
    uid = await slack.link("T1001")
    body = json.loads(slack.event(uid, "/whoami"))
    mark = len(slack.fake.calls)
    await slack.post(json.dumps(body))
    body["event_id"] = "EvSAME-MESSAGE-AGAIN"
    await slack.post(json.dumps(body))
    del body["event"]["client_msg_id"]
    body["event_id"] = "EvSAME-TS-AGAIN"
    await slack.post(json.dumps(body))
    assert len(slack.fake.messages(mark)) == 1


async def _new_people(app: App, slack: SlackChat, count: int) -> list[str]:
    async with app.database.session() as session:
        now = utcnow()
        for n in range(count):
            session.add(
                Staff(
                    staff_no=f"N{n:04d}",
                    name=f"新人{n}",
                    email=f"new{n}@demo.edu.cn",
                    created_at=now,
                    updated_at=now,
                )
            )
    for n in range(count):
        slack.fake.users[f"UNEW{n}"] = {
            "id": f"UNEW{n}",
            "real_name": f"New {n}",
            "profile": {"email": f"new{n}@demo.edu.cn"},
        }
    return [f"UNEW{n}" for n in range(count)]


async def test_first_messages_at_once_link_each_person_once(any_app: App) -> None:
    async with slack_driver(any_app) as slack:
        users = await _new_people(any_app, slack, 100)
        mark = len(slack.fake.calls)
        # One person's first message twice at once, then 100 new people at once.
        first = [slack.post(slack.event(users[0], "/whoami")) for _ in range(2)]
        rest = [slack.post(slack.event(uid, "/whoami")) for uid in users[1:]]
        results = await asyncio.gather(*first)
        results += await asyncio.gather(*rest)
        assert all(status == 200 for status, _ in results)
        await slack.adapter.settled()
        answers = [reply_from(c) for c in slack.fake.messages(mark)]
        assert len(answers) == 101
        assert not any(a.error for a in answers), [a.text for a in answers if a.error][:3]
        assert all("N0" in a.text for a in answers), "every one answered as themselves"
    async with any_app.database.session() as session:
        linked = await session.scalar(
            select(func.count()).select_from(Identity).where(Identity.platform == "slack")
        )
    assert linked == 100
