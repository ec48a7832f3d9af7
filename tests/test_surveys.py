"""Surveys (issue 17): a file checked line by line, answered with buttons on every
adapter, changed before closing, anonymous for real, results that hide small groups."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text, update

from bot.app import App
from schedules.tick import tick
from storage.clock import utcnow
from storage.models import Delivery, OutboxMessage, Survey, SurveyInvitation, SurveyResponse
from storage.store import Actor, Store
from storage.surveys import definition
from storage.surveys import service as surveys
from tests.harness import Chat, ConsoleChat

SHANGHAI = ZoneInfo("Asia/Shanghai")


def survey_file(*, audience: str = "delegates", anonymous: bool = False, days: int = 7) -> str:
    closes = (utcnow() + timedelta(days=days)).astimezone(SHANGHAI)
    opens = (utcnow() - timedelta(hours=1)).astimezone(SHANGHAI)
    return f"""
title = "食堂满意度调查"
intro = "请根据最近一个月的体验填写。"
audience = "{audience}"
anonymous = {"true" if anonymous else "false"}
opens = "{opens:%Y-%m-%d %H:%M}"
closes = "{closes:%Y-%m-%d %H:%M}"

[[question]]
kind = "single"
prompt = "总体满意度"
options = ["满意", "基本满意", "不满意"]

[[question]]
kind = "multiple"
prompt = "最需要改进的"
options = ["价格", "口味", "卫生", "排队"]
max = 2

[[question]]
kind = "scale"
prompt = "给食堂打分"

[[question]]
kind = "text"
prompt = "其他建议"
max_length = 200
required = false
"""


async def make(app: App, source: str, *, by: str = "O4001", publish: bool = True) -> int:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        officer = await session.scalar(text("SELECT id FROM staff WHERE staff_no = :n"), {"n": by})
        made = await surveys.create(
            store, definition.parse(source, SHANGHAI), owner_scope="", created_by=officer
        )
        if publish:
            await surveys.publish(store, made)
        return made.id


# ---------------------------------------------------------------- the file


def test_a_good_file_reads_and_every_mistake_is_named_with_its_line() -> None:
    good = definition.parse(survey_file(), SHANGHAI)
    assert [q.kind for q in good.questions] == ["single", "multiple", "scale", "text"]
    assert good.questions[1].max_choices == 2 and good.reminder_minutes == (2880, 120)
    bad = (
        survey_file()
        .replace('kind = "scale"', 'kind = "rating"')
        .replace('options = ["价格", "口味", "卫生", "排队"]', 'options = ["价格"]')
    )
    bad = bad.replace('audience = "delegates"', 'audience = "sub_union"')
    with pytest.raises(definition.DefinitionErrors) as caught:
        definition.parse(bad, SHANGHAI)
    found = {(p.line, p.key) for p in caught.value.problems}
    lines = bad.splitlines()
    assert (lines.index('audience = "sub_union"') + 1, "surveys.def.audience") in found
    assert (lines.index('options = ["价格"]') + 1, "surveys.def.options") in found
    assert (lines.index('kind = "rating"') + 1, "surveys.def.kind") in found
    with pytest.raises(definition.DefinitionErrors) as syntax:
        definition.parse('title = "x"\nclosed = [\n', SHANGHAI)
    assert syntax.value.problems[0].key == "surveys.def.syntax"


async def test_new_from_a_file_in_chat_reports_lines_in_the_readers_language(
    app: App, tmp_path: object
) -> None:
    from bot.events import IncomingFile

    chat = ConsoleChat(app)
    await chat.say("O4001", "/whoami")
    broken = survey_file().replace('kind = "scale"', 'kind = "rating"')
    message = chat.message("O4001", "/survey new")
    message = replace(message, files=(IncomingFile("s.toml", "text/plain", broken.encode()),))
    said = (await app.dispatcher.handle(message)).replies
    line = broken.splitlines().index('kind = "rating"') + 1
    assert said[0].error and f"第 {line} 行" in said[0].plain(), said[0].plain()
    ok = chat.message("O4001", "/survey new")
    ok = replace(ok, files=(IncomingFile("s.toml", "text/plain", survey_file().encode()),))
    made = (await app.dispatcher.handle(ok)).replies[0]
    assert not made.error and "4 道题" in made.plain()
    assert [c.command for c in made.choices][-1].startswith("/survey publish ")
    plain = await chat.say("D2001", "/survey new")
    assert plain.error, "a delegate may not make surveys"


# ---------------------------------------------------------------- answering


async def answer_all(chat: Chat, who: str, survey_id: int, picks: list[str]) -> tuple[str, str]:
    """Answer by pressing the buttons offered (their commands), as a person would; returns
    the key the buttons carry and the receipt's text."""
    said = await chat.say(who, f"/survey fill {survey_id}")
    assert not said.error, said.text
    reply = said.replies[-1]
    key = re.search(
        rf"/survey answer {survey_id} (\w+) ", " ".join(c.command for c in reply.choices)
    )
    assert key, [c.command for c in reply.choices]
    for pick in picks:
        reply = said.replies[-1]
        if pick.startswith("/"):
            said = await chat.say(who, pick.replace("KEY", key[1]))
        elif pick.startswith("text:"):  # a free-text answer, simply replied
            said = await chat.say(who, pick.removeprefix("text:"))
        else:
            offered = [c for r in said.replies for c in r.choices]
            button = next(c for c in offered if c.label.lstrip("✓ ") == pick)
            said = await chat.say(who, button.command)
        assert not said.error, said.text
    offered = [c for r in said.replies for c in r.choices]
    submit = next(c for c in offered if c.command.startswith("/survey submit"))
    receipt = await chat.say(who, submit.command)
    assert not receipt.error, receipt.text
    return key[1], receipt.text


async def test_a_named_survey_answered_with_buttons_and_changed_before_closing(
    conversation: Chat, app: App
) -> None:
    survey_id = await make(app, survey_file())
    inbox = await conversation.inbox("D2002")
    notice = next(r for r in inbox if "食堂满意度调查" in r.plain())
    assert "截止" in notice.plain() and "调查对象" in notice.plain()  # when, and why they get it
    assert [c.command for c in notice.choices] == [f"/survey fill {survey_id}"]
    mine = await conversation.say("D2002", "/surveys")
    assert "待填写" in mine
    key, receipt = await answer_all(
        conversation,
        "D2002",
        survey_id,
        ["基本满意", "价格", "排队", "下一题", "4 分", "text:多开几个窗口"],
    )
    assert "已提交" in receipt and f"/survey fill {survey_id}" in receipt
    assert "你还在填写" not in receipt, "moving on closes the text form"
    assert "已提交" in await conversation.say("D2002", "/surveys")
    # Changed before closing: the same response, not a second one.
    again = await conversation.say("D2002", f"/survey fill {survey_id}")
    assert not again.error
    changed = await conversation.say("D2002", f"/survey answer {survey_id} {key} 1 1")
    assert "第 2/4 题" in changed
    three = await conversation.say("D2002", f"/survey answer {survey_id} {key} 2 3")
    assert "最多选 2 项" in three and three.error, "a third pick is refused"
    await conversation.say("D2002", f"/survey submit {survey_id} {key}")
    async with app.database.session() as session:
        store = Store(session)
        found = await surveys.results(store, await surveys.get(store, survey_id))
    assert found.responded == 1 and found.asked == 8
    assert found.questions[0].counts == [1, 0, 0], "the changed answer counts, once"
    assert found.questions[1].counts == [1, 0, 0, 1]
    assert found.questions[2].counts == [0, 0, 0, 1, 0]
    assert found.questions[3].texts == ["多开几个窗口"], "the text simply replied"


async def test_an_anonymous_survey_hides_a_small_group_and_links_nobody(any_app: App) -> None:
    app = any_app
    chat = ConsoleChat(app)
    survey_id = await make(app, survey_file(audience="everyone", anonymous=True))
    # Five of 机关分工会 and three of 计算机学院分工会 answer.
    office = ["T1003", "D2101", "D2102", "D2103", "O4001"]
    college = ["T1001", "D2001", "D2002"]
    keys = {}
    for n, who in enumerate(office + college):
        pick = ["满意", "基本满意", "不满意"][n % 3]
        keys[who], receipt = await answer_all(
            chat,
            who,
            survey_id,
            [
                pick,
                "卫生",
                "下一题",
                "5 分",
                f'/survey answer {survey_id} KEY 4 =HYPERLINK("x")',
            ],
        )
        assert keys[who] in receipt, "the receipt carries the code to change it"
    second = await chat.say("T1001", f"/survey fill {survey_id}")
    assert second.error and "修改码" in second, "an anonymous second response is refused"
    # The code changes the same response while it is open.
    changed = await chat.say("T1001", f"/survey fill {survey_id} {keys['T1001']}")
    assert not changed.error
    results_open = await chat.say("O4001", f"/survey results {survey_id}")
    assert "机关分工会（5 人）" in results_open
    assert "计算机学院分工会" not in results_open and "少于 5" in results_open
    assert results_open.replies[0].attachment is not None
    order = select(SurveyInvitation.staff_id).where(SurveyInvitation.survey_id == survey_id)
    order = order.order_by(SurveyInvitation.id)
    async with app.database.session() as session:
        before = list(await session.scalars(order))
    closed = await chat.say("O4001", f"/survey close {survey_id}")
    assert not closed.error
    after = await chat.say("O4001", f"/survey results {survey_id}")
    assert "已提交 8 份" in after and "计算机学院分工会" not in after
    assert "满意：3（38%）" in after, after.text

    # Nothing in the database joins an answer to a person.
    async with app.database.session() as session:

        def tables(connection: object) -> list[str]:
            return inspect(connection).get_table_names()  # type: ignore[arg-type]

        names = await session.run_sync(lambda s: tables(s.connection()))
        dump = []
        for name in names:
            for row in await session.execute(text(f'SELECT * FROM "{name}"')):
                dump.append((name, " ".join(str(v) for v in row)))
        responses = list(await session.scalars(select(SurveyResponse)))
        assert responses and all(r.staff_id is None for r in responses)
        assert {r.grp for r in responses} == {"机关分工会", ""}, "the group of 3 lost its name"
        for who, key in keys.items():
            assert not [t for t, line in dump if key in line], f"{who}'s code is kept somewhere"
        audit = [line for t, line in dump if t == "audit_log" and "survey.answer" in line]
        assert not audit, "no answer of an anonymous survey is in the audit log"
        # The rows were rewritten in random order (the same order again: one chance in 18!).
        after_close = list(await session.scalars(order))
        assert sorted(after_close) == sorted(before) and after_close != before
    export_ok = await chat.say("T1001", f"/survey fill {survey_id} {keys['T1001']}")
    assert export_ok.error and "已截止" in export_ok


async def test_reminders_go_to_those_who_have_not_answered_and_closing_tells_the_owner(
    app: App,
) -> None:
    chat = ConsoleChat(app)
    survey_id = await make(app, survey_file(days=3))
    await answer_all(chat, "D2001", survey_id, ["满意", "口味", "下一题", "3 分", "跳过此题"])
    for who in ("D2001", "D2002"):
        await chat.inbox(who)  # the opening notices
    async with app.database.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        closes = survey.closes_at
    done = await tick(app.database, SHANGHAI, closes - timedelta(days=2) + timedelta(minutes=1))
    assert done["survey_reminders"] == 7, done  # 8 delegates, D2001 answered
    async with app.database.session() as session:  # due now, as the clock will make them
        now = utcnow()
        await session.execute(update(OutboxMessage).values(not_before=now))
        await session.execute(update(Delivery).values(due_at=now))
    assert not await chat.inbox("D2001"), "answered: no reminder"
    reminded = await chat.inbox("D2002")
    assert len(reminded) == 1 and "还没有提交" in reminded[0].plain()
    assert "这条提醒" in reminded[0].plain(), "it says why they get it"
    await tick(app.database, SHANGHAI, closes + timedelta(minutes=1))
    owner = await chat.inbox("O4001")
    assert any("已截止" in r.plain() and r.choices for r in owner)
    late = await chat.say("D2002", f"/survey fill {survey_id}")
    assert late.error and "已截止" in late


async def test_a_sub_union_officer_runs_only_their_own(app: App) -> None:
    chat = ConsoleChat(app)
    theirs = survey_file(audience="sub_union:计算机学院分工会")
    other = await make(app, survey_file())
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        with pytest.raises(surveys.SurveyError):
            await surveys.create(
                store,
                definition.parse(survey_file(), SHANGHAI),
                owner_scope="计算机学院分工会",
                created_by=None,
            )
        own = await surveys.create(
            store,
            definition.parse(theirs, SHANGHAI),
            owner_scope="计算机学院分工会",
            created_by=None,
        )
        own_id = own.id
    refused = await chat.say("O4101", f"/survey results {other}")
    assert refused.error and "其他" not in refused.text and "不是你的分工会" in refused
    published = await chat.say("O4101", f"/survey publish {own_id}")
    assert not published.error and "已通知 5 人" in published, published.text
    english = await chat.say("O4101", "/lang en")
    assert not english.error
    listed = await chat.say("O4101", "/survey list")
    assert f"#{own_id}" in listed and f"#{other} " not in listed and "，" not in listed.text


async def test_the_export_has_no_identity_for_an_anonymous_survey(
    app: App, tmp_path: object
) -> None:
    import csv
    import io
    from pathlib import Path

    from tests.cli import unionbot_async

    chat = ConsoleChat(app)
    survey_id = await make(app, survey_file(audience="everyone", anonymous=True))
    await answer_all(
        chat,
        "T1001",
        survey_id,
        ["满意", "价格", "下一题", "2 分", f"/survey answer {survey_id} KEY 4 =1+1"],
    )
    out = Path(str(tmp_path)) / "s.csv"
    result = await unionbot_async(
        app.settings.database_url,
        "export",
        "survey",
        str(survey_id),
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows and "staff_no" not in rows[0] and "name" not in rows[0]
    assert rows[0]["Q4"] == "'=1+1", "a formula stays text"
    assert "T1001" not in out.read_text(encoding="utf-8-sig")


async def test_closing_withdraws_unsent_invitations(app: App) -> None:
    chat = ConsoleChat(app)
    survey_id = await make(app, survey_file())
    assert not (await chat.say("O4001", f"/survey close {survey_id}")).error
    assert not [r for r in await chat.inbox("D2002") if "食堂满意度调查" in r.plain()]


async def test_the_charts_numbers_are_the_texts(app: App) -> None:
    from bot.render import chart
    from commands.surveys import chart_panels

    chat = ConsoleChat(app)
    survey_id = await make(app, survey_file())
    await answer_all(
        chat, "D2001", survey_id, ["满意", "口味", "卫生", "下一题", "3 分", "跳过此题"]
    )
    await answer_all(chat, "D2002", survey_id, ["不满意", "口味", "下一题", "5 分", "跳过此题"])
    said = await chat.say("O4001", f"/survey results {survey_id}")
    assert "满意：1（50%）" in said and "口味：2（100%）" in said and "平均 4.00 分" in said
    async with app.database.session() as session:
        store = Store(session)
        found = await surveys.results(store, await surveys.get(store, survey_id))

    class Ctx:
        def t(self, key: str, **params: object) -> str:
            return app.catalog.get("zh", key, **params)

    panels = chart_panels(Ctx(), found)  # type: ignore[arg-type]
    drawn = chart.texts(chart.figure("t", panels))
    assert [p.series[0][1] for p in panels] == [[1, 0, 1], [0, 2, 1, 0], [0, 0, 1, 0, 1]]
    for panel in panels:
        for value in panel.series[0][1]:
            if value:
                assert f"{value:g}" in drawn


async def test_an_anonymous_survey_on_every_adapter_hides_a_group_of_3(
    conversation: Chat, app: App
) -> None:
    survey_id = await make(app, survey_file(audience="everyone", anonymous=True))
    for who in ("T1001", "D2001", "D2002"):  # the three of 计算机学院分工会
        key, receipt = await answer_all(
            conversation, who, survey_id, ["满意", "价格", "下一题", "4 分", "跳过此题"]
        )
        assert key in receipt and "修改" in receipt
    results = await conversation.say("O4001", f"/survey results {survey_id}")
    assert "已提交 3 份" in results and "计算机学院分工会" not in results, results.text
    assert "少于 5" in results


async def test_my_own_data_has_my_named_answers_and_not_my_anonymous_ones(app: App) -> None:
    from storage import privacy

    chat = ConsoleChat(app)
    named = await make(app, survey_file())
    anonymous = await make(app, survey_file(audience="everyone", anonymous=True))
    await answer_all(chat, "D2001", named, ["满意", "价格", "下一题", "4 分", "跳过此题"])
    await answer_all(chat, "D2001", anonymous, ["不满意", "卫生", "下一题", "1 分", "跳过此题"])
    async with app.database.session() as session:
        data = await privacy.export(Store(session), "D2001")
    assert data is not None
    assert {row["survey"] for row in data["survey_answers_named"]} == {named}
    assert {row["survey_id"] for row in data["surveys_asked"]} == {named, anonymous}


async def test_on_slack_a_button_to_a_text_question_opens_a_dialog(app: App) -> None:
    """Pressing a button that leads to a free-text question opens a Slack modal; what is
    typed there is the answer."""
    import time

    from tests.drivers.slack import reply_from, slack_driver

    form = "application/x-www-form-urlencoded"
    survey_id = await make(app, survey_file())
    async with slack_driver(app) as slack:
        first = await slack.say("D2001", f"/survey fill {survey_id}")
        command = next(c.command for c in first.replies[-1].choices if "answer" in c.command)
        key = command.split()[3]
        uid = await slack.link("D2001")
        for step in ("1 1", "2 1"):
            await slack.say("D2001", f"/survey answer {survey_id} {key} {step}")
        await slack.say("D2001", f"/survey answer {survey_id} {key} 3 4")  # scale: on to Q4
        mark = len(slack.fake.calls)
        press = {
            "type": "block_actions",
            "user": {"id": uid},
            "trigger_id": "trig-text",
            "channel": {"id": "D" + uid},
            "container": {"type": "message"},
            "response_url": f"{slack.fake.url}/respond/text",
            "actions": [
                {
                    "action_id": "cmd:0",
                    "value": f"/survey question {survey_id} {key} 4",
                    "type": "button",
                }
            ],
        }
        status, _ = await slack.post(slack.form(press), content_type=form)
        assert status == 200
        opened = slack.fake.called("views.open", mark)
        assert opened, [c.method for c in slack.fake.calls[mark:]]
        view = opened[0].params["view"]
        assert [b["block_id"] for b in view["blocks"]] == ["text"]
        values = {"text": {"value": {"type": "plain_text_input", "value": "多开几个窗口"}}}
        submission = {
            "type": "view_submission",
            "user": {"id": uid},
            "trigger_id": None,
            "view": {**view, "id": f"V{time.time_ns()}", "state": {"values": values}},
        }
        mark = len(slack.fake.calls)
        status, body = await slack.post(slack.form(submission), content_type=form)
        assert status == 200 and "errors" not in body
        posted = slack.fake.called("chat.postMessage", mark)
        assert posted and "请确认" in reply_from(posted[0]).text, reply_from(posted[0]).text
    async with app.database.session() as session:
        store = Store(session)
        found = await surveys.results(store, await surveys.get(store, survey_id))
    assert found.questions[3].texts == [] and found.responded == 0, "not submitted yet"
    async with app.database.session() as session:
        texts = list(
            await session.scalars(text("SELECT text FROM survey_answers WHERE choice = 0"))
        )
    assert texts == ["多开几个窗口"]


async def test_an_officer_asked_in_another_units_survey_sees_it_and_can_answer(app: App) -> None:
    """A sub-union's officer does not run the school's survey, but is asked in it."""
    chat = ConsoleChat(app)
    school = await make(app, survey_file(audience="everyone"))
    asked = await chat.say("O4101", f"/survey show {school}")
    assert not asked.error and f"/survey fill {school}" in asked, asked.text
    assert "/survey publish" not in asked and "/survey results" not in asked
    theirs = await make(app, survey_file(audience="sub_union:文学院分工会"))
    outsider = await chat.say("O4101", f"/survey show {theirs}")
    assert outsider.error and "不在你的调查范围" in outsider
