"""The Slack adapter against a fake Web API, with signed requests over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web

from bot.adapter import Runtime
from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.adapter import SlackConfigError
from bot.app import App
from bot.delivery import Recipient, SendStatus
from bot.replies import Reply
from tests.drivers.slack import (
    CHANNEL,
    TOKEN,
    SlackChat,
    reply_from,
    sign,
    slack_driver,
    slack_env,
)
from tests.fake_slack import FakeSlack

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def slack(app: App) -> AsyncIterator[SlackChat]:
    async with slack_driver(app) as chat:
        yield chat


async def test_slash_command_answers_only_the_person(slack: SlackChat) -> None:
    uid = await slack.link("D2001")
    mark = len(slack.fake.calls)
    status, _ = await slack.post(slack.slash(uid, "whoami"), content_type=FORM)
    assert status == 200
    responses = slack.fake.called("response_url", mark)
    assert responses and responses[0].params["response_type"] == "ephemeral"
    assert "13800002001" in reply_from(responses[0]).text
    assert not slack.fake.called("chat.postMessage", mark), "nothing is posted to the channel"
    mark = len(slack.fake.calls)
    await slack.post(slack.slash(uid, "提案 列表"), content_type=FORM)
    assert "提案" in reply_from(slack.fake.called("response_url", mark)[0]).text


async def test_direct_message_and_mention(slack: SlackChat) -> None:
    said = await slack.say("T1001", "/whoami")
    assert "张伟" in said
    uid = await slack.link("D2001")
    mark = len(slack.fake.calls)
    await slack.post(slack.event(uid, "whoami", group=True))
    public = slack.fake.called("chat.postMessage", mark)
    private = slack.fake.called("chat.postEphemeral", mark)
    assert len(public) == 1 and "私信" in reply_from(public[0]).text
    assert "13800002001" not in json.dumps(public[0].params, ensure_ascii=False)
    assert private and private[0].params["user"] == uid
    assert "13800002001" in reply_from(private[0]).text


async def test_user_text_cannot_ping_the_channel(slack: SlackChat) -> None:
    # Typed literally, Slack sends it escaped; the bot decodes it, then escapes it again.
    said = await slack.say("T1001", "&lt;!channel&gt; hello")
    assert said.error and "<!channel> hello" in said.text
    raw = json.dumps(slack.fake.called("chat.postMessage")[-1].params, ensure_ascii=False)
    assert "<!channel>" not in raw and "&lt;!channel&gt;" in raw
    # A real @channel mention arrives as Slack markup: it is read as plain "@channel".
    said = await slack.say("T1001", "<!channel> hello")
    raw = json.dumps(slack.fake.called("chat.postMessage")[-1].params, ensure_ascii=False)
    assert "<!channel>" not in raw and "@channel hello" in said.text


async def test_button_does_what_the_command_does(slack: SlackChat) -> None:
    await slack.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    await slack.say("D2001", "/proposal new")
    for answer in ("食堂", "理由", "办法", "3", "-"):
        await slack.say("D2001", answer)
    await slack.say("D2001", "/proposal invite 1 D2002 D2003")
    invitation = (await slack.inbox("D2002"))[0]
    assert invitation.choices[0].command == "/proposal second 1"
    uid = await slack.link("D2002")
    payload = {
        "type": "block_actions",
        "user": {"id": uid},
        "trigger_id": "trig-btn",
        "channel": {"id": "D" + uid},
        "container": {"type": "message"},
        "response_url": f"{slack.fake.url}/respond/btn",
        "actions": [{"action_id": "cmd:0", "value": "/proposal second 1", "type": "button"}],
    }
    mark = len(slack.fake.calls)
    status, _ = await slack.post(slack.form(payload), content_type=FORM)
    assert status == 200
    updated = slack.fake.called("response_url", mark)[0].params
    assert (
        updated["replace_original"] is True
        and "你已附议" in reply_from(slack.fake.called("response_url", mark)[0]).text
    )
    denied_payload = {**payload, "user": {"id": await slack.link("T1001")}, "trigger_id": "t2"}
    mark = len(slack.fake.calls)
    await slack.post(slack.form(denied_payload), content_type=FORM)
    assert reply_from(slack.fake.called("response_url", mark)[0]).error, "same permission check"


async def test_modal_with_a_validation_error_then_success(slack: SlackChat) -> None:
    await slack.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    uid = await slack.link("D2001")
    mark = len(slack.fake.calls)
    await slack.post(slack.slash(uid, "proposal new"), content_type=FORM)
    opened = slack.fake.called("views.open", mark)
    assert opened and opened[0].params["trigger_id"].startswith("trig")
    view = opened[0].params["view"]
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "reasons",
        "measures",
        "category",
        "department",
    ]
    assert view["blocks"][1]["element"]["multiline"] is True

    def submission(title: str) -> str:
        values = {
            "title": {"value": {"type": "plain_text_input", "value": title}},
            "reasons": {"value": {"type": "plain_text_input", "value": "理由"}},
            "measures": {"value": {"type": "plain_text_input", "value": "办法"}},
            "category": {
                "value": {"type": "static_select", "selected_option": {"value": "logistics"}}
            },
            "department": {"value": {"type": "plain_text_input", "value": None}},
        }
        return slack.form(
            {
                "type": "view_submission",
                "user": {"id": uid},
                "trigger_id": None,
                "view": {**view, "id": f"V{time.time_ns()}", "state": {"values": values}},
            }
        )

    status, body = await slack.post(submission("x" * 80), content_type=FORM)
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors" and "title" in answer["errors"]
    mark = len(slack.fake.calls)
    status, body = await slack.post(submission("停车难"), content_type=FORM)
    assert status == 200 and "errors" not in body
    posted = slack.fake.called("chat.postMessage", mark)
    assert posted and "草稿已保存" in reply_from(posted[0]).text


async def test_retried_event_is_handled_once(slack: SlackChat) -> None:
    uid = await slack.link("T1001")
    body = slack.event(uid, "/whoami", event_id="EvRETRY1")
    mark = len(slack.fake.calls)
    await slack.post(body)
    await slack.post(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert len(slack.fake.called("chat.postMessage", mark)) == 1


async def test_a_retry_arriving_while_the_first_is_handled_gets_no_second_reply(
    any_app: App,
) -> None:
    """The check runs beside the sender's lookup (`IncomingMessage.first_time`): the same
    message three times at once (its retry, and Slack's redelivery under a new event id)
    is answered once, on both databases."""
    async with slack_driver(any_app) as slack:
        uid = await slack.link("T1001")
        body = slack.event(uid, "/whoami", event_id="EvTWICE")
        redelivered = body.replace("EvTWICE", "EvTWICE-2")
        mark = len(slack.fake.calls)
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        answers = await asyncio.gather(
            slack.post(body), slack.post(body, headers=retry), slack.post(redelivered)
        )
        assert [status for status, _ in answers] == [200, 200, 200]
        posted = slack.fake.called("chat.postMessage", mark)
        assert len(posted) == 1 and "张伟" in reply_from(posted[0]).text
        mark = len(slack.fake.calls)
        await slack.post(slack.event(uid, "/whoami"))
        assert len(slack.fake.called("chat.postMessage", mark)) == 1, "the next one is new"


async def test_forged_and_stale_signatures_are_refused(
    slack: SlackChat, caplog: pytest.LogCaptureFixture
) -> None:
    uid = await slack.link("T1001")
    body = slack.event(uid, "/whoami")
    mark = len(slack.fake.calls)
    with caplog.at_level(logging.WARNING):
        forged = {**sign(body, secret="not-the-secret"), "Content-Type": "application/json"}
        status, _ = await slack.post(body, signed=False, headers=forged)
        assert status == 401
        stale = {**sign(body, timestamp=int(time.time()) - 600), "Content-Type": "application/json"}
        status, _ = await slack.post(body, signed=False, headers=stale)
        assert status == 401
    assert not slack.fake.messages(mark)
    assert "/whoami" not in caplog.text, "refused requests are logged without their body"


async def test_rate_limits_are_ridden_out(slack: SlackChat) -> None:
    slack.fake.rate_limited = 1
    said = await slack.say("T1002", "/whoami")
    assert "李娜" in said, "a 429 on chat.postMessage is retried after Retry-After"
    slack.fake.rate_limited = 5
    slack.fake.retry_after = 9
    result = await slack.adapter.send(Recipient("slack", "UT1002"), Reply(text="hi"))
    assert result.status is SendStatus.RETRY and result.retry_after == 9
    slack.fake.rate_limited = 0
    slack.fake.errors["DUGONE"] = "user_not_found"
    gone = await slack.adapter.send(Recipient("slack", "UGONE"), Reply(text="hi"))
    assert gone.status is SendStatus.FAILED and "user_not_found" in (gone.reason or "")


async def test_linking_by_roster_email_and_slack_locale(slack: SlackChat) -> None:
    slack.fake.users["UNEW"] = {
        "id": "UNEW",
        "real_name": "Liu",
        "locale": "en-US",
        "profile": {"email": "LiuYang@demo.edu.cn"},
    }
    mark = len(slack.fake.calls)
    await slack.post(slack.event("UNEW", "/whoami"))
    reply = reply_from(slack.fake.called("chat.postMessage", mark)[0])
    assert "D2002" in reply.text and "Staff no." in reply.text
    slack.fake.users["USTRANGER"] = {"id": "USTRANGER", "profile": {"email": "x@elsewhere.org"}}
    mark = len(slack.fake.calls)
    await slack.post(slack.event("USTRANGER", "/whoami"))
    assert "/link" in reply_from(slack.fake.called("chat.postMessage", mark)[0]).text


async def test_a_rejected_token_stops_the_adapter_clearly(app: App) -> None:
    fake = FakeSlack(auth_error="invalid_auth")
    await fake.start()
    try:
        runtime = Runtime(
            settings=replace(app.settings, env=slack_env(fake.url)),
            dispatcher=app.dispatcher,
            catalog=app.catalog,
            http=web.Application(),
            store=app.runtime.store,
        )
        with pytest.raises(SlackConfigError, match="invalid_auth"):
            await SlackAdapter(runtime).start()
        assert len(fake.called("auth.test")) == 1, "no retry loop"
    finally:
        await fake.stop()


async def test_token_never_reaches_the_logs(app: App, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        async with slack_driver(app) as chat:
            await chat.say("T1001", "/whoami")
            assert CHANNEL
    assert TOKEN not in caplog.text


async def test_socket_mode(app: App) -> None:
    fake = FakeSlack()
    await fake.start()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": "xapp-socket-token-for-tests",
        "SLACK_API_URL": fake.url + "/api/",
    }
    runtime = Runtime(
        settings=replace(app.settings, env=env),
        dispatcher=app.dispatcher,
        catalog=app.catalog,
        http=web.Application(),
        store=app.runtime.store,
    )
    adapter = SlackAdapter(runtime)
    try:
        await adapter.start()
        for _ in range(100):
            if fake.sockets:
                break
            await asyncio.sleep(0.05)
        chat = SlackChat(app, fake, adapter, "")
        uid = await chat.link("T1002")
        payload = json.loads(chat.event(uid, "/whoami"))
        await fake.push("env-1", payload)
        for _ in range(200):
            if fake.called("chat.postMessage"):
                break
            await asyncio.sleep(0.05)
        assert "李娜" in reply_from(fake.called("chat.postMessage")[0]).text
        assert "env-1" in fake.acks

        # Slack drops the socket (it does so every few hours): the client reconnects, and
        # what comes after is handled, once even when Slack sends it again.
        await fake.sockets[0].close()
        for _ in range(400):
            if len(fake.sockets) > 1 and not fake.sockets[-1].closed:
                break
            await asyncio.sleep(0.05)
        assert len(fake.sockets) > 1, "reconnected"
        again = json.loads(chat.event(uid, "/lang"))
        mark = len(fake.called("chat.postMessage"))
        await fake.push("env-2", again)
        await fake.push("env-3", again)  # a redelivery of the same event under a new envelope
        for _ in range(200):
            if len(fake.called("chat.postMessage")) > mark and "env-3" in fake.acks:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        answered = fake.called("chat.postMessage")[mark:]
        assert len(answered) == 1, [reply_from(c).text for c in answered]
        assert {"env-2", "env-3"} <= set(fake.acks)
    finally:
        await adapter.stop()
        await fake.stop()


async def test_a_non_delegates_modal_says_it_files_a_suggestion(slack: SlackChat) -> None:
    uid = await slack.link("T1001")
    mark = len(slack.fake.calls)
    await slack.post(slack.slash(uid, "proposal new"), content_type=FORM)
    opened = slack.fake.called("views.open", mark)
    assert opened and opened[0].params["view"]["title"]["text"] == "意见建议"
