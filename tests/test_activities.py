"""Activities and competitions (issue 17): sign-up with a waiting list that moves up, a
quota the sub-union's officer fills, 500 pressing "join" at once, sign-in, results, /me."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.events import ChatKind, IncomingMessage, Sender
from schedules.tick import tick
from storage import activities
from storage.clock import utcnow
from storage.meetings import checkin
from storage.models import Activity, Signup
from tests.crowd import add_people
from tests.harness import Chat, ConsoleChat

SHANGHAI = ZoneInfo("Asia/Shanghai")


def when(days: float) -> str:
    return f"{(utcnow() + timedelta(days=days)).astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def new_command(title: str, extra: str = "") -> str:
    return (
        f'/activity new "{title}" --kind sports --start "{when(5)}" --end "{when(5.1)}" '
        f'--place 体育馆 --deadline "{when(4)}" {extra}'
    )


async def test_a_full_activity_with_a_waiting_list_that_moves_up(
    conversation: Chat, app: App
) -> None:
    made = await conversation.say("O4001", new_command("教职工羽毛球赛", "--capacity 2"))
    assert not made.error and "已发布活动 #1" in made, made.text
    notice = next(r for r in await conversation.inbox("T1001") if "羽毛球" in r.plain())
    assert "欢迎报名" in notice.plain() and "面向你" in notice.plain()
    assert [c.command for c in notice.choices] == ["/activity join 1"]
    first = await conversation.say("T1001", "/activity join 1")
    assert "已报名「教职工羽毛球赛」" in first and "体育馆" in first
    await conversation.say("T1002", "/activity join 1")
    third = await conversation.say("D2001", "/activity join 1")
    assert "候补" in third and not third.error
    again = await conversation.say("D2001", "/activity join 1")
    assert again.error and "已报名" in again
    listed = await conversation.say("D2001", "/activities")
    assert "已报 2/2" in listed and "候补" in listed
    left = await conversation.say("T1002", "/activity leave 1")
    assert "的报名。候补的第一位已递补" in left, left.text
    moved = await conversation.inbox("D2001")
    told = [r for r in moved if "递补" in r.plain()]
    assert told and "候补名单" in told[0].plain(), [r.plain() for r in moved]
    shown = await conversation.say("D2001", "/activity show 1")
    assert "已报名" in shown and "D2001" not in shown, "no names for a participant"


async def test_a_quota_competition_where_the_sub_union_officer_picks_who_goes(
    conversation: Chat, app: App
) -> None:
    made = await conversation.say(
        "O4001",
        new_command("青年教师教学基本功竞赛", "--quota 1").replace(
            "--kind sports", "--kind teaching"
        ),
    )
    assert not made.error, made.text
    for who in ("T1001", "D2001"):  # both of 计算机学院分工会
        said = await conversation.say(who, "/activity join 1")
        assert "分工会确认" in said, said.text
    asks = [r for r in await conversation.inbox("O4101") if "请确认" in r.plain()]
    assert len(asks) == 2 and asks[0].choices[0].command.startswith("/activity confirm 1 ")
    other = await conversation.say("O4102", "/activity confirm 1 T1001")
    assert other.error and "不是你的分工会" in other
    picked = await conversation.say("O4101", "/activity confirm 1 D2001")
    assert not picked.error and "已确认 D2001" in picked
    beyond = await conversation.say("O4101", "/activity confirm 1 T1001")
    assert beyond.error and "名额已满" in beyond
    told = [r for r in await conversation.inbox("D2001") if "已确认你参加" in r.plain()]
    assert told


async def test_sign_in_results_and_my_record(app: App) -> None:
    chat = ConsoleChat(app)
    await chat.say("O4001", new_command("教职工合唱比赛", "--capacity 50"))
    await chat.say("T1001", "/activity join 1")
    async with app.database.session() as session:  # the day has come
        now = utcnow()
        await session.execute(
            update(Activity).values(
                starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2)
            )
        )
        secret = await session.scalar(select(Activity.checkin_secret))
    assert secret is not None
    wrong = await chat.say("T1001", "/activity checkin 1 000000")
    assert wrong.error and "签到码不对" in wrong
    code, _ = checkin.current_code(secret, utcnow())
    assert "已签到" in await chat.say("T1001", f"/activity checkin 1 {code}")
    refused = await chat.say("T1002", f"/activity checkin 1 {code}")
    assert refused.error and "没有活动 #1 的正式报名" in refused
    saved = await chat.say("O4001", "/activity results 1 T1001 一等奖")
    assert not saved.error
    assert any("一等奖" in r.plain() for r in await chat.inbox("T1001"))
    mine = await chat.say("T1001", "/me")
    assert "教职工合唱比赛" in mine and "一等奖" in mine and "未签到" not in mine
    await chat.say("T1001", "/lang en")
    english = await chat.say("T1001", "/me")
    assert "My activities in" in english and "（" not in english.text


async def test_the_day_before_those_going_are_reminded_once(app: App) -> None:
    chat = ConsoleChat(app)
    await chat.say("O4001", new_command("徒步", "--capacity 1"))
    await chat.say("T1001", "/activity join 1")
    await chat.say("T1002", "/activity join 1")  # waiting: no reminder
    async with app.database.session() as session:
        starts = await session.scalar(select(Activity.starts_at))
    assert starts is not None
    done = await tick(app.database, SHANGHAI, starts - timedelta(hours=20))
    assert done["activity_reminders"] == 1
    again = await tick(app.database, SHANGHAI, starts - timedelta(hours=19))
    assert again["activity_reminders"] == 0


async def test_export_gives_participation_per_sub_union(app: App, tmp_path: object) -> None:
    import csv
    import io
    from pathlib import Path

    from tests.cli import unionbot_async

    chat = ConsoleChat(app)
    await chat.say("O4001", new_command("太极拳", ""))
    for who in ("T1001", "D2001", "T1002"):
        await chat.say(who, "/activity join 1")
    year = (utcnow() + timedelta(days=5)).astimezone(SHANGHAI).year
    out = Path(str(tmp_path)) / "a.csv"
    result = await unionbot_async(
        app.settings.database_url,
        "export",
        "activities",
        "--year",
        str(year),
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    counts = {row["sub_union"]: int(row["signed_up"]) for row in rows}
    assert counts == {"计算机学院分工会": 2, "文学院分工会": 1}


async def test_clubs_publish_to_their_members(app: App) -> None:
    chat = ConsoleChat(app)
    made = await chat.say("O4001", "/club new 摄影协会 T1002")
    assert "摄影协会" in made and not made.error
    await chat.say("T1001", "/club join 1")
    club_activity = new_command("外拍", "--club 1").replace("--kind sports", "--kind club")
    published = await chat.say("T1002", club_activity)
    assert not published.error and "已通知 2 人" in published, published.text
    refused = await chat.say("D2001", new_command("外拍", "--club 1"))
    assert refused.error and "不是社团 #1 的负责人" in refused
    outsider = await chat.say("D2001", "/activity join 1")
    assert outsider.error and "不面向你" in outsider
    outside = await chat.say("D2001", "/clubs")
    assert "摄影协会 · 2 人" in outside and "已加入" not in outside and "/club join" in outside
    member = await chat.say("T1001", "/clubs")
    assert "#1 摄影协会 · 2 人 · 负责人 李娜 · 已加入" in member, member.text
    assert "/club join" not in member, "nothing left to join: no hint to"


@pytest.mark.postgres
async def test_500_pressing_join_at_once_gives_exactly_100_places(any_app: App) -> None:
    """Hundreds pressing the button of one notice at once, on PostgreSQL: exactly the
    capacity confirmed, the rest waiting in order, nobody twice."""
    if any_app.database.sqlite:
        pytest.skip("the crowd test is for PostgreSQL; SQLite has one writer")
    app = any_app
    chat = ConsoleChat(app)
    made = await chat.say("O4001", new_command("迎新年长跑", "--capacity 100"))
    assert not made.error
    people = await add_people(app, 500, "console", lambda no: no)

    async def press(staff_no: str) -> bool:
        message = IncomingMessage(
            sender=Sender("console", staff_no),
            text="/activity join 1",
            chat_id=staff_no,
            chat_kind=ChatKind.PRIVATE,
            event_id=f"join-{staff_no}",
        )
        outcome = await app.dispatcher.handle(message)
        return not any(reply.error for reply in outcome.replies)

    answered = await asyncio.gather(*(press(no) for no in people))
    assert all(answered)
    async with app.database.session() as session:
        rows = list(await session.execute(select(Signup.staff_id, Signup.status, Signup.signed_at)))
    assert Counter(status for _, status, _ in rows) == {"confirmed": 100, "waiting": 400}
    assert len({staff for staff, _, _ in rows}) == 500, "nobody twice"
    latest_confirmed = max(at for _, status, at in rows if status == "confirmed")
    assert all(at >= latest_confirmed for _, status, at in rows if status == "waiting")
    assert activities.CONFIRMED == "confirmed"


async def test_results_are_announced_to_everyone_who_took_part(app: App) -> None:
    chat = ConsoleChat(app)
    await chat.say("O4001", new_command("教职工乒乓球赛"))
    for who in ("T1001", "T1002"):
        await chat.say(who, "/activity join 1")
    early = await chat.say("O4001", "/activity announce 1")
    assert early.error and "还没有记录成绩" in early
    await chat.say("O4001", "/activity results 1 T1001 冠军")
    await chat.inbox("T1002")
    announced = await chat.say("O4001", "/activity announce 1")
    assert "2 位参加者" in announced, announced.text
    got = [r.plain() for r in await chat.inbox("T1002")]
    assert any("张伟" in text and "冠军" in text and "参加了" in text for text in got), got
    again = await chat.say("O4001", "/activity announce 1")
    assert "0 位参加者" in again, "the same results are not sent twice"


async def test_an_activity_for_nobody_is_refused_and_leaves_nothing_behind(app: App) -> None:
    chat = ConsoleChat(app)
    refused = await chat.say("A9001", new_command("空活动", "--sub-union 不存在的分工会"))
    assert refused.error and "没有一个人" in refused, refused.text
    async with app.database.session() as session:
        assert await session.scalar(select(Activity.id)) is None, "a refusal keeps its writes"
