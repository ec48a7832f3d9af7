"""Votes at the congress (issue 21): the rules as a table, a secret resolution cast with a
confirmation on every adapter, what the database and the log keep of it, an election
with a tie and its further round, and hundreds casting at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import inspect, select, text, update

from bot.app import App
from bot.events import ChatKind, IncomingMessage, Sender
from storage.clock import utcnow
from storage.meetings import checkin
from storage.meetings import service as meetings
from storage.models import Ballot, Meeting, VoteVoter
from storage.store import Actor, Store
from storage.votes import rules
from tests.crowd import add_people
from tests.harness import Chat, ConsoleChat

DELEGATES = ["D2001", "D2002", "D2003", "D2101", "D2102", "D2103", "C3001", "C3002"]


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("present", "expected", "opens"),
    [(6, 8, True), (5, 8, False), (7, 9, True), (6, 9, False), (201, 300, True), (200, 300, False)],
)
def test_a_vote_opens_only_above_two_thirds(present: int, expected: int, opens: bool) -> None:
    assert rules.may_open(present, expected) is opens


@pytest.mark.parametrize(
    ("yes", "base", "share", "passed"),
    [
        (50, rules.Base.EXPECTED, rules.HALF, False),  # exactly half of 100 expected
        (51, rules.Base.EXPECTED, rules.HALF, True),
        (40, rules.Base.CAST, rules.HALF, False),  # exactly half of 80 cast
        (41, rules.Base.CAST, rules.HALF, True),
        (45, rules.Base.PRESENT, rules.HALF, True),  # more than half of 88 present
        (66, rules.Base.EXPECTED, rules.TWO_THIRDS, False),  # a statute change: 2/3 of 100
        (67, rules.Base.EXPECTED, rules.TWO_THIRDS, True),
    ],
)
def test_a_resolution_passes_with_more_than_its_share(
    yes: int, base: rules.Base, share: Fraction, passed: bool
) -> None:
    verdict = rules.resolution(yes, rules.Counts(expected=100, present=88, cast=80), base, share)
    assert verdict.passed is passed


def test_an_election_with_a_tie_at_the_last_seat() -> None:
    # 3 seats, 10 ballots: more than half is 6.
    tied = rules.election({1: 9, 2: 8, 3: 7, 4: 7, 5: 2}, seats=3, cast=10)
    assert tied.elected == [1, 2] and tied.tied == [3, 4] and tied.short == 1
    short = rules.election({1: 9, 2: 5, 3: 4}, seats=2, cast=10)
    assert short.elected == [1] and short.tied == [] and short.short == 1
    clean = rules.election({1: 9, 2: 8, 3: 7, 4: 3}, seats=3, cast=10)
    assert clean.complete and clean.elected == [1, 2, 3]
    exactly_half = rules.election({1: 5, 2: 6}, seats=1, cast=10)
    assert exactly_half.elected == [2]


# ---------------------------------------------------------------- a meeting to vote at


async def congress(
    app: App, signed_in: list[str], *, kind: str = "congress", scope: str = ""
) -> int:
    """A meeting of the delegates (or a sub-union) that has started, with these signed in."""
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        start = utcnow() + timedelta(minutes=5)
        meeting = await meetings.create(
            store,
            title="第八届教代会第四次会议",
            kind=kind,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            place="学术报告厅",
            agenda="",
            audience="sub_union" if scope else "delegates",
            scope=scope,
        )
        meeting_id = meeting.id
        await session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id)
            .values(starts_at=utcnow() - timedelta(minutes=10))
        )
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        meeting = await meetings.get(store, meeting_id)
        ids = dict((await session.execute(text("SELECT staff_no, id FROM staff"))).all())
        for staff_no in signed_in:
            code, _ = checkin.current_code(meeting.checkin_secret, utcnow())
            await meetings.check_in(store, meeting, ids[staff_no], code)
    return meeting_id


async def cast_through_buttons(chat: Chat, who: str, vote_id: int, label: str) -> str:
    """Open the ballot, press a choice, then the confirmation: as a delegate would."""
    ballot = await chat.say(who, f"/vote ballot {vote_id}")
    assert not ballot.error, ballot.text
    button = next(c for c in ballot.replies[-1].choices if c.label == label)
    confirm = await chat.say(who, button.command)
    assert f"你选择了：{label}" in confirm, confirm.text
    cast = next(c for c in confirm.replies[-1].choices if c.label == "确认投出")
    done = await chat.say(who, cast.command)
    assert not done.error, done.text
    return done.text


async def test_a_secret_resolution_cast_closed_confirmed_and_announced(
    conversation: Chat, app: App
) -> None:
    meeting_id = await congress(app, DELEGATES[:6])
    made = await conversation.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于校长工作报告的决议" --scrutineers "D2002 D2003"',
    )
    assert not made.error and "已准备表决 #1" in made and "赞成票超过应到代表的一半" in made, (
        made.text
    )
    opened = await conversation.say("O4001", "/vote open 1")
    assert "已发给 6 位" in opened, opened.text
    notice = [r for r in await conversation.inbox("D2001") if "请投票" in r.plain()]
    assert notice and notice[0].choices[0].command == "/vote ballot 1"
    assert "签到，有表决权" in notice[0].plain(), "it says why they get it"
    done = await cast_through_buttons(conversation, "D2001", 1, "赞成")
    assert "已投出" in done
    again = await conversation.say("D2001", "/vote cast 1 no")
    assert again.error and "已经投过" in again
    absent = await conversation.say("C3002", "/vote ballot 1")
    assert absent.error and "还没有在会议" in absent and "签到" in absent
    for who in ("D2002", "D2003", "D2101"):
        await cast_through_buttons(conversation, who, 1, "赞成")
    await cast_through_buttons(conversation, "D2102", 1, "反对")
    progress = await conversation.say("O4001", "/vote status 1")
    assert "已投 5 人，未投 1 人" in progress and "D2103" not in progress
    early = await conversation.say("D2001", "/vote results 1")
    assert early.error
    await conversation.say("O4001", "/vote close 1")
    hidden = await conversation.say("D2001", "/vote results 1")
    assert hidden.error, "before the scrutineers confirm, a delegate sees nothing"
    first = await conversation.say("D2002", "/vote confirm 1")
    assert "等另一位监票人" in first
    outsider = await conversation.say("D2101", "/vote confirm 1")
    assert outsider.error and "不是表决 #1 的监票人" in outsider
    second = await conversation.say("D2003", "/vote confirm 1")
    assert "已公布" in second
    told = [r.plain() for r in await conversation.inbox("C3002")]
    assert any("赞成 4，反对 1，弃权 0" in t and "未通过" in t for t in told), told
    result = await conversation.say("C3002", "/vote results 1")
    assert "投票 5 人（应到 8，实到 6）" in result and "需赞成 5 票" in result, result.text


async def test_nothing_joins_a_voter_to_a_choice_after_closing(
    any_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await secret_vote_leaves_no_link(any_app, ConsoleChat(any_app), caplog)


async def test_nothing_joins_a_voter_to_a_choice_through_each_adapter(
    conversation: Chat, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await secret_vote_leaves_no_link(app, conversation, caplog)


async def secret_vote_leaves_no_link(
    app: App, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    """Cast a secret vote, close it, then read every table (rows' physical order included)
    and the DEBUG log."""
    caplog.set_level(logging.DEBUG)
    meeting_id = await congress(app, DELEGATES)
    await chat.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于修改学校章程的决议" --two-thirds --scrutineers "D2002 D2003"',
    )
    await chat.say("O4001", "/vote open 1")
    choices = ["赞成", "赞成", "反对", "弃权", "赞成", "反对", "赞成", "赞成"]
    for who, label in zip(DELEGATES, choices, strict=True):
        await cast_through_buttons(chat, who, 1, label)
    physical = text(
        "SELECT staff_id FROM vote_voters ORDER BY "
        + ("rowid" if app.database.sqlite else "ctid")  # the order rows lie in the table
    )
    async with app.database.session() as session:
        order_before = list(
            await session.scalars(select(VoteVoter.staff_id).order_by(VoteVoter.id))
        )
        keys_before = set(await session.scalars(select(Ballot.key)))
        stored_before = list(await session.scalars(physical))
    await chat.say("O4001", "/vote close 1")
    async with app.database.session() as session:
        names = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
        dump = []
        for name in names:
            for row in await session.execute(text(f'SELECT * FROM "{name}"')):
                dump.append((name, " ".join(str(v) for v in row)))
        columns = {
            c["name"]
            for c in await session.run_sync(
                lambda s: inspect(s.connection()).get_columns("ballots")
            )
        } | {
            c["name"]
            for c in await session.run_sync(
                lambda s: inspect(s.connection()).get_columns("ballot_marks")
            )
        }
        order_after = list(await session.scalars(select(VoteVoter.staff_id).order_by(VoteVoter.id)))
        keys_after = set(await session.scalars(select(Ballot.key)))
        stored_after = list(await session.scalars(physical))
    assert columns == {"key", "vote_id", "category", "ballot_key", "item", "value"}, (
        "no person, no time"
    )
    assert not keys_before & keys_after, "new keys at closing"
    assert sorted(order_after) == sorted(order_before) and order_after != order_before
    assert stored_before == order_before, "before closing, rows lie in the order of casting"
    assert stored_after != stored_before, "after, the physical order is another (1 in 8! it is not)"
    assert not [line for table, line in dump if "/vote cast" in line or "/vote choose" in line]
    assert not [line for table, line in dump if table == "audit_log" and "vote.cast" in line]
    assert not [line for table, line in dump if table == "identities" and "vote" in line]
    logged = caplog.text
    assert "/vote cast" not in logged and "/vote choose" not in logged
    result = await chat.say("D2002", "/vote results 1")
    assert "赞成：5" in result, result.text
    assert "未通过" in result and "需赞成 6 票" in result, "two thirds of 8 expected"


async def test_an_election_with_a_tie_and_a_further_round(conversation: Chat, app: App) -> None:
    chat = conversation
    meeting_id = await congress(app, DELEGATES)
    made = await chat.say(
        "O4001",
        f'/vote new {meeting_id} election "工会委员会委员选举" --seats 3 '
        f'--candidates "T1001 T1002 O4101 O4102" --scrutineers "D2002 D2003"',
    )
    assert not made.error and "无记名" in made, made.text
    await chat.say("O4001", "/vote open 1")
    # T1001 8 votes, T1002 6, O4101 and O4102 5 each: tied for the third seat.
    marks = ["1,2,3", "1,2,3", "1,2,3", "1,2,4", "1,2,4", "1,2,4", "1,3,4", "1,3,4"]
    for who, marked in zip(DELEGATES, marks, strict=True):
        ballot = await chat.say(who, f"/vote ballot 1 {marked}")
        go_on = next(c for c in ballot.replies[-1].choices if c.label.startswith("下一步"))
        confirm = await chat.say(who, go_on.command)
        assert "你选择了" in confirm
        cast = next(c for c in confirm.replies[-1].choices if c.label == "确认投出")
        assert not (await chat.say(who, cast.command)).error
    await chat.say("O4001", "/vote close 1")
    await chat.say("D2002", "/vote confirm 1")
    await chat.say("D2003", "/vote confirm 1")
    result = await chat.say("O4001", "/vote results 1")
    assert "当选：张伟、李娜" in result and "林晓、何平 票数相同" in result, result.text
    runoff = result.replies[0].choices[0].command
    assert runoff == "/vote runoff 1"
    made = await chat.say("O4001", runoff)
    assert "另行选举 #2" in made and "1 个席位" in made, made.text
    shown = await chat.say("O4001", "/vote show 2")
    assert "林晓" in shown and "何平" in shown and "张伟" not in shown


async def test_an_officer_of_another_sub_union_is_refused_at_the_first_step(
    conversation: Chat, app: App
) -> None:
    chat = conversation
    meeting_id = await congress(app, [], kind="college", scope="计算机学院分工会")
    refused = await chat.say(
        "O4102",
        f'/vote new {meeting_id} resolution "关于学院工作报告的决议" --scrutineers "T1001 D2001"',
    )
    assert refused.error and "不是你的分工会召开的" in refused
    own = await chat.say(
        "O4101",
        f'/vote new {meeting_id} resolution "关于学院工作报告的决议" --scrutineers "T1001 D2001"',
    )
    assert not own.error, own.text
    no_quorum = await chat.say("O4101", "/vote open 1")
    assert no_quorum.error and "签到人数不足" in no_quorum


async def test_500_delegates_casting_at_once_give_500_ballots(any_app: App) -> None:
    if any_app.database.sqlite:
        pytest.skip("the crowd test is for PostgreSQL")
    app = any_app
    chat = ConsoleChat(app)
    people = await add_people(app, 500, "console", lambda no: no)
    async with app.database.session() as session:
        await session.execute(text("UPDATE staff SET delegate = true WHERE staff_no LIKE 'P%'"))
    meeting_id = await congress(app, [*people, *DELEGATES])
    await chat.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于财务工作报告的决议" --scrutineers "D2002 D2003"',
    )
    opened = await chat.say("O4001", "/vote open 1")
    assert "已发给 508 位" in opened, opened.text

    async def press(staff_no: str, n: int) -> str:
        message = IncomingMessage(
            sender=Sender("console", staff_no),
            text="/vote cast 1 yes",
            chat_id=staff_no,
            chat_kind=ChatKind.PRIVATE,
            event_id=f"cast-{staff_no}-{n}",
        )
        outcome = await app.dispatcher.handle(message)
        return outcome.replies[0].plain()

    first = await asyncio.gather(*(press(no, 0) for no in people))
    assert all("已投出" in said for said in first)
    twice = await asyncio.gather(*(press(no, 1) for no in people[:50]))
    assert all("已经投过" in said for said in twice)
    async with app.database.session() as session:
        assert await session.scalar(select(text("count(*)")).select_from(Ballot)) == 500
        assert await session.scalar(select(text("count(*)")).select_from(VoteVoter)) == 500


async def test_the_export_and_the_demo(app: App, tmp_path: object) -> None:
    import csv
    import io
    from pathlib import Path

    from storage.demo import load_demo
    from tests.cli import unionbot_async

    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")))
    chat = ConsoleChat(app)
    mine = await chat.say("D2002", "/votes")
    assert "工会经费审查委员会委员补选" in mine and "未投" in mine, mine.text
    result = await chat.say("C3002", "/vote results 1")
    assert "通过" in result and "赞成：6" in result, result.text
    out = Path(str(tmp_path)) / "v.csv"
    done = await unionbot_async(
        app.settings.database_url,
        "export",
        "votes",
        "--meeting",
        "2",
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["choice"], r["count"], r["outcome"]) for r in rows] == [
        ("yes", "6", "passed"),
        ("no", "0", "passed"),
        ("abstain", "1", "passed"),
    ]


async def test_a_vote_closes_at_its_time_and_the_scrutineers_are_told(app: App) -> None:
    from zoneinfo import ZoneInfo

    from schedules.tick import tick
    from storage.models import Vote

    chat = ConsoleChat(app)
    meeting_id = await congress(app, DELEGATES[:6])
    made = await chat.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于提案工作报告的决议" --minutes 10 --scrutineers "D2002 D2003"',
    )
    assert "开始后 10 分钟" in made and "已签到的代表" in made, made.text
    await chat.say("O4001", "/vote open 1")
    await cast_through_buttons(chat, "D2001", 1, "赞成")
    async with app.database.session() as session:
        closes = await session.scalar(select(Vote.closes_at))
    assert closes is not None
    done = await tick(app.database, ZoneInfo("Asia/Shanghai"), closes + timedelta(seconds=1))
    assert done["votes_closed"] == 1
    told = [r.plain() for r in await chat.inbox("D2002")]
    assert any("表决时间到" in t and "监票人" in t for t in told), told
    late = await chat.say("D2101", "/vote cast 1 yes")
    assert late.error and "不能投票" in late


async def test_a_setting_lets_everyone_invited_vote(app: App) -> None:
    from dataclasses import replace

    chat = ConsoleChat(app)
    meeting_id = await congress(app, DELEGATES[:6])
    app.dispatcher.settings = replace(
        app.dispatcher.settings,
        env={**app.dispatcher.settings.env, "UNIONBOT_VOTES_INVITED_MAY_VOTE": "on"},
    )
    made = await chat.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于财务报告的决议" --scrutineers "D2002 D2003"',
    )
    assert "受邀的全体代表" in made, made.text
    opened = await chat.say("O4001", "/vote open 1")
    assert "已发给 8 位" in opened, opened.text
    assert "已投出" in await cast_through_buttons(chat, "C3002", 1, "反对")  # not signed in


async def test_an_evaluation_grades_each_person_and_reports_the_shares(
    conversation: Chat, app: App
) -> None:
    meeting_id = await congress(app, DELEGATES[:6])
    made = await conversation.say(
        "O4001",
        f'/vote new {meeting_id} evaluation "2026年度校领导民主测评" '
        f'--candidates "O4001:工会主席 H5003:人事处处长" --scrutineers "D2002 D2003"',
    )
    assert not made.error and "民主评议" in made and "无记名" in made, made.text
    await conversation.say("O4001", "/vote open 1")
    grades = {
        "D2001": ("优秀", "称职"),
        "D2002": ("优秀", "基本称职"),
        "D2003": ("称职", "称职"),
        "D2101": ("优秀", "不称职"),
        "D2102": ("称职", "称职"),
        "D2103": ("优秀", "称职"),
    }
    for who, (first, second) in grades.items():
        ballot = await conversation.say(who, "/vote ballot 1")
        assert "黄强" in ballot and "工会主席" in ballot, ballot.text
        pressed = next(c for c in ballot.replies[-1].choices if c.label == first)
        ballot = await conversation.say(who, pressed.command)
        pressed = next(c for c in ballot.replies[-1].choices if c.label == second)
        ballot = await conversation.say(who, pressed.command)
        go_on = next(c for c in ballot.replies[-1].choices if c.label.startswith("下一步"))
        confirm = await conversation.say(who, go_on.command)
        assert f"黄强：{first}" in confirm, confirm.text
        cast = next(c for c in confirm.replies[-1].choices if c.label == "确认投出")
        assert "已投出" in await conversation.say(who, cast.command)
    incomplete = await conversation.say("C3001", "/vote cast 1 1a")
    assert incomplete.error
    await conversation.say("O4001", "/vote close 1")
    await conversation.say("D2002", "/vote confirm 1")
    await conversation.say("D2003", "/vote confirm 1")
    result = await conversation.say("O4001", "/vote results 1")
    assert "黄强（工会主席）：优秀 4、称职 2、基本称职 0、不称职 0" in result, result.text
    assert "优秀率 67%，称职及以上 100%" in result, result.text
    assert (
        "罗斌（人事处处长）：优秀 0、称职 4、基本称职 1、不称职 1（优秀率 0%，称职及以上 67%）"
        in result
    )


async def test_votes_prepared_from_a_file_checked_line_by_line(app: App, tmp_path: object) -> None:
    from pathlib import Path

    from tests.cli import unionbot_async

    meeting_id = await congress(app, DELEGATES[:6])
    good = f"""
meeting = {meeting_id}
scrutineers = ["D2002", "D2003"]

[[vote]]
kind = "resolution"
title = "关于校长工作报告的决议"

[[vote]]
kind = "election"
title = "工会委员会委员选举"
seats = 2
candidates = ["T1001", "T1002", "O4101"]

[[vote]]
kind = "evaluation"
title = "民主测评"
candidates = ["O4001:工会主席"]
minutes = 20
"""
    bad = good.replace('kind = "election"', 'kind = "poll"').replace("seats = 2", "seats = 0")
    bad = bad.replace('kind = "evaluation"', 'kind = "evaluation"\nsecret = false')
    folder = Path(str(tmp_path))
    (folder / "good.toml").write_text(good, encoding="utf-8")
    (folder / "bad.toml").write_text(bad, encoding="utf-8")
    url = app.settings.database_url
    refused = await unionbot_async(url, "votes", "check", str(folder / "bad.toml"))
    lines = bad.splitlines()
    assert refused.exit_code == 1
    poll = lines.index('kind = "poll"') + 1
    assert f"第 {poll} 行" in refused.output, refused.output
    assert f"第 {lines.index('seats = 0') + 1} 行" in refused.output
    assert f"第 {lines.index('secret = false') + 1} 行" in refused.output
    made = await unionbot_async(url, "votes", "create", str(folder / "good.toml"), "--by", "O4001")
    assert made.exit_code == 0 and "3 项表决：#1, #2, #3" in made.output, made.output
    chat = ConsoleChat(app)
    shown = await chat.say("O4001", "/vote show 3")
    assert "民主评议" in shown and "开始后 20 分钟" in shown and "郑红" not in shown, shown.text


async def test_an_evaluation_split_by_voter_category_only_where_groups_have_five(
    any_app: App,
) -> None:
    app = any_app
    chat = ConsoleChat(app)
    people = await add_people(app, 10, "console", lambda no: no)
    async with app.database.session() as session:
        await session.execute(text("UPDATE staff SET delegate = true WHERE staff_no LIKE 'P%'"))
    meeting_id = await congress(app, [*people, *DELEGATES[:6]])
    teachers, cadres = people[:5], people[5:]
    categories = " ".join(
        [f"{p}:教师代表" for p in teachers]
        + [f"{p}:干部代表" for p in cadres]
        + ["D2001:工勤代表", "D2002:工勤代表"]
    )
    made = await chat.say(
        "O4001",
        f'/vote new {meeting_id} evaluation "民主测评" --candidates "O4001:工会主席" '
        f'--categories "{categories}" --weights "教师代表:3 干部代表:1" --scrutineers "D2002 D2003"',
    )
    assert not made.error, made.text
    await chat.say("O4001", "/vote open 1")
    for who in teachers:  # every teacher: 优秀
        await chat.say(who, "/vote cast 1 1a")
    for n, who in enumerate(cadres):  # cadres: 优秀 once, 称职 four times
        await chat.say(who, f"/vote cast 1 1{'a' if n == 0 else 'b'}")
    for who in ("D2001", "D2002"):  # a category of two: counted, never shown apart
        await chat.say(who, "/vote cast 1 1c")
    await chat.say("O4001", "/vote close 1")
    await chat.say("D2002", "/vote confirm 1")
    await chat.say("D2003", "/vote confirm 1")
    result = await chat.say("O4001", "/vote results 1")
    assert "其中教师代表（5 人）：优秀率 100%" in result, result.text
    assert "其中干部代表（5 人）：优秀率 20%，称职及以上 100%" in result
    assert "工勤代表" not in result, "a category of two is not shown"
    assert "加权：优秀率 80%，称职及以上 100%" in result, "(3 x 100% + 1 x 20%) / 4"
    async with app.database.session() as session:
        kept = set(await session.scalars(select(Ballot.category)))
    assert kept == {"教师代表", "干部代表", None}, "the small category lost its name at closing"


async def test_vote_new_with_only_the_meeting_asks_in_a_form(app: App) -> None:
    chat = ConsoleChat(app)
    meeting_id = await congress(app, DELEGATES[:6])
    asked = await chat.say("O4001", f"/vote new {meeting_id}")
    assert not asked.error and "类别" in asked, asked.text
    for answer in ["2", "工会委员会委员选举", "-", "T1001 T1002 O4101", "2", "-", "-"]:
        said = await chat.say("O4001", answer)
        assert not said.error, said.text
    made = await chat.say("O4001", "D2002 D2003")
    assert "已准备表决 #1" in made and "选举" in made and "张伟" in made, made.text
    half = await chat.say("O4001", f"/vote new {meeting_id} resolution")
    assert half.error and "同时写上类别和标题" in half


async def test_the_result_charts_numbers_are_the_texts(app: App) -> None:
    from bot.render import chart
    from commands.votes import chart_bars
    from storage.votes import service as votes

    chat = ConsoleChat(app)
    meeting_id = await congress(app, DELEGATES)
    await chat.say(
        "O4001", f'/vote new {meeting_id} resolution "关于章程的决议" --scrutineers "D2002 D2003"'
    )
    await chat.say("O4001", "/vote open 1")
    for who, choice in zip(DELEGATES, ["yes"] * 5 + ["no"] * 2 + ["abstain"], strict=True):
        await chat.say(who, f"/vote cast 1 {choice}")
    await chat.say("O4001", "/vote close 1")
    said = await chat.say("O4001", "/vote results 1")
    async with app.database.session() as session:
        store = Store(session)
        found = await votes.tally(store, await votes.get(store, 1))

    class Ctx:
        def t(self, key: str, **params: object) -> str:
            return app.catalog.get("zh", key, **params)

    bars = chart_bars(Ctx(), found, [])  # type: ignore[arg-type]
    assert bars.series[0][1] == [5.0, 2.0, 1.0]
    assert "赞成：5" in said and "反对：2" in said and "弃权：1" in said
    drawn = chart.texts(chart.figure("t", [bars]))
    assert {"5", "2", "1"} <= set(drawn)


@pytest.mark.parametrize("people", [120])
async def test_delegates_pressing_cast_at_once_on_telegram_count_once(
    any_app: App, people: int
) -> None:
    """The button path of a real adapter: every delegate presses the confirmation's Cast
    button at once, and again; each ballot counts once, the second press is told."""
    from collections import Counter

    from tests.drivers.telegram import telegram_driver

    app = any_app
    staff = await crowd_voting(app, people, "telegram", lambda no: str(600_000 + int(no[1:])))
    async with telegram_driver(app) as tg:

        def press(staff_no: str, n: int) -> dict[str, object]:
            uid = 600_000 + int(staff_no[1:])
            return {
                "update_id": 800_000 + n * 1000 + int(staff_no[1:]),
                "callback_query": {
                    "id": f"cbq-{staff_no}-{n}",
                    "chat_instance": "x",
                    "data": "/vote cast 1 yes",
                    "from": {"id": uid, "is_bot": False, "first_name": staff_no},
                    "message": {
                        "message_id": 7,
                        "date": 0,
                        "chat": {"id": uid, "type": "private"},
                        "text": "请确认",
                        "from": {"id": 999, "is_bot": True, "first_name": "UnionBot"},
                    },
                },
            }

        statuses = await asyncio.gather(
            *(tg.post(press(no, 0)) for no in staff), *(tg.post(press(no, 1)) for no in staff)
        )
        assert set(statuses) == {200}
        texts = [plain_text(c.params.get("text")) for c in tg.fake.sent()]
    assert sum("已投出" in t for t in texts) == people, Counter(texts).most_common(3)
    assert sum("已经投过" in t for t in texts) == people
    async with app.database.session() as session:
        assert await session.scalar(select(text("count(*)")).select_from(Ballot)) == people


def plain_text(value: object) -> str:
    from tests.drivers.telegram import plain

    return plain(str(value or ""))


async def test_delegates_pressing_cast_at_once_on_slack_count_once(app: App) -> None:
    """Slack's button path: every delegate presses Cast at once, and again (a new press,
    not a retry); each ballot counts once and the second press is told."""
    from tests.drivers.slack import reply_from, slack_driver

    form = "application/x-www-form-urlencoded"

    people = 60
    staff = await crowd_voting(app, people, "slack", lambda no: "UC" + no[1:])
    async with slack_driver(app) as slack:

        def press(staff_no: str, n: int) -> str:
            uid = "UC" + staff_no[1:]
            return slack.form(
                {
                    "type": "block_actions",
                    "user": {"id": uid},
                    "trigger_id": f"trig-{staff_no}-{n}",
                    "channel": {"id": "D" + uid},
                    "container": {"type": "message"},
                    "response_url": f"{slack.fake.url}/respond/{staff_no}-{n}",
                    "actions": [
                        {"action_id": "cmd:0", "value": "/vote cast 1 yes", "type": "button"}
                    ],
                }
            )

        mark = len(slack.fake.calls)
        results = await asyncio.gather(
            *(slack.post(press(no, 0), content_type=form) for no in staff),
            *(slack.post(press(no, 1), content_type=form) for no in staff),
        )
        assert {status for status, _ in results} == {200}
        texts = [reply_from(c).text for c in slack.fake.called("response_url", mark)]
    assert sum("已投出" in t for t in texts) == people, texts[:3]
    assert sum("已经投过" in t for t in texts) == people
    async with app.database.session() as session:
        assert await session.scalar(select(text("count(*)")).select_from(Ballot)) == people


async def test_delegates_pressing_cast_at_once_on_wecom_count_once(app: App) -> None:
    """WeCom's button path: the confirmation card's Cast pressed at once, twice each."""
    from tests.drivers.wecom import plain, wecom_driver

    people = 40
    staff = await crowd_voting(app, people, "wecom", lambda no: no)
    async with wecom_driver(app) as wecom:
        for who in staff:
            confirm = await wecom.say(who, "/vote choose 1 yes")
            assert "你选择了：赞成" in confirm, confirm.text
        mark = len(wecom.fake.sends)
        await asyncio.gather(
            *(wecom.press(who, "/vote cast 1 yes") for who in staff),
            *(wecom.press(who, "/vote cast 1 yes") for who in staff),
        )
        texts = [plain(str(s.body)) for s in wecom.fake.sends[mark:]]
    assert sum("已投出" in t for t in texts) == people, texts[:3]
    assert sum("已经投过" in t for t in texts) == people
    async with app.database.session() as session:
        assert await session.scalar(select(text("count(*)")).select_from(Ballot)) == people


async def crowd_voting(
    app: App, people: int, platform: str, user_id: Callable[[str], str]
) -> list[str]:
    """`people` delegates linked on `platform`, signed in at a meeting whose resolution is open."""
    staff = await add_people(app, people, platform, user_id)
    async with app.database.session() as session:
        await session.execute(text("UPDATE staff SET delegate = true WHERE staff_no LIKE 'P%'"))
    meeting_id = await congress(app, [*staff, *DELEGATES])
    chat = ConsoleChat(app)
    await chat.say(
        "O4001",
        f'/vote new {meeting_id} resolution "关于年度预算的决议" --scrutineers "D2002 D2003"',
    )
    await chat.say("O4001", "/vote open 1")
    return staff
