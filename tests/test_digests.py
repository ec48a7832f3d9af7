"""Officers' digests: exact windows, scope per role, alerts repeated, the chart, commands."""

from __future__ import annotations

import asyncio
import itertools
import warnings
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.render import chart
from commands._charts import panels
from schedules.tick import tick
from storage.clock import utcnow
from storage.db import Database
from storage.demo import load_demo
from storage.digests import readers, schedule, service
from storage.digests.compose import BEGINNING, Window, compose
from storage.digests.schedule import DAILY, WEEKLY, Preference
from storage.digests.service import DigestClock
from storage.models import Digest, OutboxMessage, Proposal, ProposalEvent, Staff
from storage.proposals import statistics
from storage.store import SYSTEM, Actor, Store
from tests.harness import Chat, ConsoleChat

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = DigestClock(alert_overdue_days=14)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


# ---------------------------------------------------------------- when a digest is due


def test_daily_is_due_at_its_time_in_the_persons_zone() -> None:
    daily = Preference(DAILY, time(8, 30))
    day = date(2026, 12, 2)
    assert schedule.due(daily, SHANGHAI, at(day, 8, 29)) == (
        "daily:2026-12-01",
        at(day - timedelta(days=1), 8, 30),
    )
    assert schedule.due(daily, SHANGHAI, at(day, 8, 30)) == ("daily:2026-12-02", at(day, 8, 30))
    assert schedule.next_moment(daily, SHANGHAI, at(day, 9, 0)) == at(
        day + timedelta(days=1), 8, 30
    )
    assert schedule.due(Preference("off"), SHANGHAI, at(day, 9)) is None


def test_weekly_is_due_on_its_day_and_a_summer_time_change_keeps_the_wall_clock() -> None:
    friday = Preference(WEEKLY, time(17, 0), weekday=4)
    period, moment = schedule.due(friday, SHANGHAI, at(date(2026, 12, 2), 12)) or ("", None)
    assert period == "weekly:2026-11-27" and moment == at(date(2026, 11, 27), 17)
    new_york = ZoneInfo("America/New_York")  # summer time ends 2026-11-01
    daily = Preference(DAILY, time(8, 30))
    _p, before = schedule.due(daily, new_york, at(date(2026, 10, 31), 12, tz=new_york)) or (
        "",
        None,
    )
    _p, after = schedule.due(daily, new_york, at(date(2026, 11, 2), 12, tz=new_york)) or ("", None)
    assert before is not None and after is not None
    assert before.astimezone(new_york).hour == after.astimezone(new_york).hour == 8
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=2, hours=1)


# ---------------------------------------------------------------- windows, exactly


async def _proposal(store: Store, staff_no: str, title: str, **values: object) -> int:
    staff_id = await store.session.scalar(select(Staff.id).where(Staff.staff_no == staff_no))
    now = utcnow()
    fields: dict[str, object] = {
        "status": "submitted",
        "category": "welfare",
        "created_at": now,
        "submitted_at": now,
        "updated_at": now,
        "supporting_departments": [],
    } | values
    proposal = Proposal(title=title, proposer_id=staff_id, **fields)
    store.session.add(proposal)
    await store.session.flush()
    return proposal.id


async def _digests_of(app: App, staff_no: str) -> list[Digest]:
    async with app.database.session() as session:
        rows = await session.scalars(
            select(Digest)
            .join(Staff, Staff.id == Digest.staff_id)
            .where(Staff.staff_no == staff_no)
            .order_by(Digest.window_start)
        )
        return list(rows)


async def _run(app: App, now: datetime) -> int:
    async with app.database.session() as session:
        return await service.due(Store(session, SYSTEM), CLOCK, now, SHANGHAI)


async def test_windows_meet_across_a_restart_and_a_missed_day(any_app: App) -> None:
    day = date(2099, 3, 2)
    assert await _run(any_app, at(day, 9)) >= 0  # everyone's first digest
    async with any_app.database.session() as session:
        store = Store(session, SYSTEM)
        evening = await _proposal(store, "T1002", "晚上提交的提案", submitted_at=at(day, 20))
        early = await _proposal(
            store, "T1002", "八点四十五提交的提案", submitted_at=at(day + timedelta(days=2), 8, 45)
        )
    # The bot is down on day 2 and comes back on day 3 at 09:00 (a new process).
    assert await _run(any_app, at(day + timedelta(days=2), 9)) >= 1
    assert await _run(any_app, at(day + timedelta(days=2), 9, 5)) == 0, "recorded once"
    await _run(any_app, at(day + timedelta(days=3), 9))
    await _run(any_app, at(day + timedelta(days=4), 9))
    rows = await _digests_of(any_app, "O4001")
    assert [r.period for r in rows] == [
        "daily:2099-03-02",
        "daily:2099-03-04",  # the missed day 3 is inside this window, not lost
        "daily:2099-03-05",
        "daily:2099-03-06",
    ]
    assert rows[0].window_start == BEGINNING
    for earlier, later in itertools.pairwise(rows):
        assert later.window_start == earlier.window_end, "no gap, no overlap"
    covered = [r.covered.get("review", []) for r in rows]
    assert covered[1] == [evening], "the evening of day 1 is in the next digest"
    assert covered[2] == [early], "08:45 comes after the 08:30 digest: in the next one"
    assert not covered[3] and rows[3].lines == 0 and not rows[3].sent
    async with any_app.database.session() as session:
        queued = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.reason == "digest:daily:2099-03-06")
        )
    assert queued == 0, "an empty digest is not sent"


async def test_a_clock_set_back_or_a_new_time_never_covers_a_moment_twice(app: App) -> None:
    day = date(2099, 5, 10)
    await _run(app, at(day, 9))
    async with app.database.session() as session:
        staff_id = await session.scalar(select(Staff.id).where(Staff.staff_no == "O4001"))
        assert staff_id is not None
        await readers.set_own(Store(session, SYSTEM), staff_id, Preference(DAILY, time(7, 0)))
    await _run(app, at(day, 8))  # 07:00 today comes before the 08:30 already covered
    await _run(app, at(day - timedelta(days=3), 9))  # the clock jumps back three days
    rows = await _digests_of(app, "O4001")
    assert [r.period for r in rows] == ["daily:2099-05-10"]
    await _run(app, at(day + timedelta(days=1), 7, 1))
    rows = await _digests_of(app, "O4001")
    assert rows[-1].window_start == rows[-2].window_end == at(day, 8, 30)
    assert rows[-1].window_end == at(day + timedelta(days=1), 7)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_instances_send_each_digest_once(any_app: App, db_url: str) -> None:
    async with any_app.database.session() as session:
        await _proposal(Store(session, SYSTEM), "T1002", "两个实例", submitted_at=utcnow())
    second = Database(db_url)
    try:
        moment = utcnow() + timedelta(days=1)
        results = await asyncio.gather(
            tick(any_app.database, SHANGHAI, moment, None, CLOCK),
            tick(second, SHANGHAI, moment, None, CLOCK),
            service_due(second, moment),
        )
    finally:
        await second.dispose()
    assert any(r for r in results)
    async with any_app.database.session() as session:
        reasons = list(
            await session.execute(
                select(OutboxMessage.reason, OutboxMessage.recipient_id, func.count())
                .where(OutboxMessage.reason.like("digest:%"))
                .group_by(OutboxMessage.reason, OutboxMessage.recipient_id)
            )
        )
        rows = await session.scalar(select(func.count()).select_from(Digest))
        people = await session.scalar(
            select(func.count(func.distinct(Digest.staff_id))).select_from(Digest)
        )
    assert reasons and all(count == 1 for _r, _s, count in reasons)
    assert rows == people, "one digest row per person and period"


async def service_due(database: Database, moment: datetime) -> int:
    """A third writer without the tick's lock: the unique rows alone keep it to once."""
    async with database.session() as session:
        return await service.due(Store(session, SYSTEM), CLOCK, moment, SHANGHAI)


async def test_what_an_alert_said_is_in_the_next_digest(any_chat: ConsoleChat) -> None:
    app = any_chat.app
    today = utcnow().astimezone(SHANGHAI).date()
    async with app.database.session() as session:
        await _proposal(
            Store(session, SYSTEM),
            "D2002",
            "逾期很久的提案",
            status="assigned",
            lead_department="后勤管理处",
            assigned_at=utcnow() - timedelta(days=60),
            due_date=today - timedelta(days=20),
        )
    first = await tick(app.database, SHANGHAI, utcnow(), None, CLOCK)
    assert first["overdue_alerts"] >= 2  # the officers, the committee and the handler
    alert = [r for r in await any_chat.inbox("O4001") if "督办预警" in r.text]
    assert alert and "逾期很久的提案" in alert[0].text and "已逾期 20 天" in alert[0].text
    assert "下一份摘要" in (alert[0].footer or "")
    handler = [r for r in await any_chat.inbox("H5001") if "督办预警" in r.text]
    assert handler and "后勤管理处的提案承办人" in (handler[0].footer or "")
    again = await tick(app.database, SHANGHAI, utcnow(), None, CLOCK)
    assert again["overdue_alerts"] == 0, "once per cause"
    await tick(app.database, SHANGHAI, utcnow() + timedelta(days=1), None, CLOCK)
    digest = [r for r in await any_chat.inbox("O4001") if r.sections]
    assert digest, "the next digest came"
    titles = [s.title for s in digest[-1].sections]
    assert any(t.startswith("已即时提醒过的") for t in titles)
    alerts = next(s for s in digest[-1].sections if s.title.startswith("已即时提醒过的"))
    assert any("督办预警" in item and "逾期很久的提案" in item for item in alerts.items)


# ---------------------------------------------------------------- scope


SCOPE = {
    # staff_no: (review, overdue, sent back) by proposal letter
    "O4001": ("c", "ab", "d"),
    "A9001": ("c", "ab", "d"),
    "C3001": ("c", "ab", "d"),
    "C3002": ("c", "ab", "d"),
    "O4101": ("", "a", "d"),
    "O4102": ("c", "", ""),
    "H5001": ("", "a", ""),
    "H5002": ("", "b", ""),
    "H5003": ("", "", "d"),
    "D2001": ("", "a", "d"),
    "D2101": ("", "b", ""),
}


async def test_each_role_sees_exactly_its_own_records(app: App) -> None:
    """A table over the demo roster: school officers, the committee and administrators
    everything; a sub-union officer their sub-union's proposers; a handler their
    department; a delegation head their delegation; nobody sees the review queue who
    may not review."""
    today = utcnow().astimezone(SHANGHAI).date()
    overdue = {"status": "assigned", "due_date": today - timedelta(days=3)}
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        ids = {
            "a": await _proposal(
                store, "D2002", "计算机学院代表的", lead_department="后勤管理处", **overdue
            ),
            "b": await _proposal(store, "D2102", "机关代表的", lead_department="教务处", **overdue),
            "c": await _proposal(store, "T1002", "文学院教工的"),
            "d": await _proposal(
                store,
                "D2001",
                "退回重办的",
                status="reopened",
                lead_department="人事处",
                due_date=today + timedelta(days=10),
            ),
        }
        session.add(
            ProposalEvent(
                proposal_id=ids["d"],
                at=utcnow(),
                action="rate_unsatisfied",
                from_status="answered",
                to_status="reopened",
                detail={},
            )
        )
        await session.flush()
        everyone = {r.staff_no: r for r in await readers.readers(store)}
        assert set(everyone) == set(SCOPE)
        window = Window(BEGINNING, utcnow() + timedelta(seconds=1))
        digests = await compose(store, [(everyone[n], window) for n in SCOPE], SHANGHAI)
    by_id = {v: k for k, v in ids.items()}
    for digest in digests:
        got = tuple(
            "".join(sorted(by_id[i] for i in digest.covered.get(section, [])))
            for section in ("review", "overdue", "unsatisfied")
        )
        assert got == SCOPE[digest.reader.staff_no], digest.reader.staff_no


# ---------------------------------------------------------------- the chart


async def _demo_congress_app(app: App) -> None:
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")))


async def test_the_chart_speaks_chinese_and_matches_the_stats(chat: ConsoleChat) -> None:
    await _demo_congress_app(chat.app)
    async with chat.app.database.session() as session:
        figures = await statistics.stats(
            Store(session, SYSTEM), None, utcnow().astimezone(SHANGHAI).date(), SHANGHAI
        )
    drawn = panels(figures, chat.app.catalog, "zh")
    by_department, by_month = drawn
    for n, department in enumerate(by_department.categories):
        total = sum(values[n] or 0 for _label, values in by_department.series)
        assert total == figures.by_department[department]
    assert sum(figures.by_month[m].replied for m in by_month.categories) == figures.replied
    assert sum(figures.by_month[m].rated for m in by_month.categories) == figures.rated
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" fails the test
        fig = chart.figure("提案统计", drawn)
        picture = chart.png(fig)
    assert picture.startswith(b"\x89PNG")
    shown = chart.texts(fig)
    assert "各主办单位的提案（按状态）" in shown and "后勤管理处" in shown and "承办中" in shown
    stats = await chat.say("O4001", "/proposal stats")
    for department, count in figures.by_department.items():
        assert f"{department}：{count}（" in stats.text
    said = await chat.say("O4001", "/proposal chart")
    [reply] = said.replies
    assert reply.attachment is not None and reply.attachment.inline
    assert reply.attachment.content.startswith(b"\x89PNG")
    assert "与 /proposal stats 一致" in reply.text


async def test_a_session_with_nothing_to_draw_says_so(chat: ConsoleChat) -> None:
    said = await chat.say("T1001", "/proposal chart")
    assert "还没有可以画图的数字" in said and said.replies[0].attachment is None


# ---------------------------------------------------------------- commands


async def test_digest_settings_in_both_languages(chat: ConsoleChat) -> None:
    shown = await chat.say("H5001", "/digest")
    assert "每天 08:30（默认设置）" in shown and "下一份" in shown
    assert [c.command for c in shown.replies[0].choices] == [
        "/digest now",
        "/digest weekly",
        "/digest off",
    ]
    weekly = await chat.say("H5001", "/digest weekly 周五 17:00")
    assert "每周五 17:00（你自己的设置）" in weekly
    assert (await chat.say("H5001", "/digest weekly 25:00")).error
    wrong = await chat.say("H5001", "/digest daily soon")
    assert wrong.error and "/digest daily 07:45" in wrong
    assert "已关闭" in await chat.say("H5001", "/digest off")
    assert "默认设置" in await chat.say("H5001", "/digest reset")
    assert (await chat.say("T1001", "/digest")).error, "staff without a digest role"
    refused = await chat.say("H5001", "/digest default handler weekly 周一 09:00")
    assert refused.error
    assert "提案承办人默认每周一 09:00" in await chat.say(
        "A9001", "/digest default handler weekly 周一 09:00"
    )
    assert "每周一 09:00（提案承办人的默认设置）" in await chat.say("H5001", "/digest")
    await chat.say("H5001", "/lang en")
    english = await chat.say("H5001", "/digest daily 7:45")
    assert "Set: your digest comes daily at 07:45 (your own choice)." in english
    assert not any(ch in english.text for ch in "，。：（）"), english.text


async def test_preview_shows_what_is_open_without_moving_the_window(chat: ConsoleChat) -> None:
    await _demo_congress_app(chat.app)
    said = await chat.say("O4001", "/digest now")
    text = said.text
    assert "摘要预览" in text and "你的第一份工作摘要" in text
    for title in (
        "新提案待审查",
        "督办：逾期或 7 天内到期",
        "答复不满意",
        "未来 7 天的会议",
        "待你审核的帮扶申请",
    ):
        assert title in text, title
    assert "已逾期 20 天（主办：教务处）  → /proposal show 3" in text
    assert "⚠️ 确认人数未过三分之二" in text
    assert "你是校工会干部" in text
    assert not await _digests_of(chat.app, "O4001"), "a preview records nothing"
    head = await chat.say("D2001", "/digest now")
    assert "待你审批的请假" in head and "/meeting approve 1 D2003" in head
    assert "新提案待审查" not in head, "heads do not review"
    handler = await chat.say("H5002", "/digest now")
    assert "#3" in handler and "#2" not in handler, "only the handler's own department"
    empty = await chat.say("H5003", "/digest now")
    assert "退回人事处重新办理" in empty


async def test_the_weekly_digest_carries_the_chart_on_every_platform(
    conversation: Chat, app: App
) -> None:
    await _demo_congress_app(app)
    await conversation.say("O4001", "/digest weekly")
    await tick(app.database, SHANGHAI, utcnow() + timedelta(days=7), None, CLOCK)
    got = await conversation.inbox("O4001")
    digests = [r for r in got if "工作摘要" in r.text]
    assert digests, [r.text for r in got]
    fake = getattr(conversation, "fake", None)
    kind = type(conversation).__name__
    if kind == "SlackChat":
        assert fake is not None and any(c.startswith(b"\x89PNG") for c in fake.uploads.values())
    elif kind == "TelegramChat":
        assert fake is not None and fake.called("sendPhoto")
        photo = next(c for c in fake.calls if c.method == "sendPhoto").params["photo"]
        assert photo.content.startswith(b"\x89PNG"), "the picture itself, as multipart"
    elif kind == "WeComChat":
        assert fake is not None and fake.uploads and fake.uploads[-1][0] == "image"
        assert fake.uploads[-1][2].startswith(b"\x89PNG")
    else:
        assert digests[-1].attachment is not None and digests[-1].attachment.inline
