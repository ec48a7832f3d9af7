"""Proposal deadlines ride the same engine: window closing, reply due dates, ratings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from schedules.tick import tick
from storage.models import OutboxMessage, Proposal, Staff
from tests.harness import ConsoleChat
from tests.test_proposals import file, seconded_and_submitted

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def reasons(chat: ConsoleChat) -> dict[str, set[str]]:
    async with chat.app.database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.reason, Staff.staff_no).join(
                Staff, Staff.id == OutboxMessage.recipient_id
            )
        )
        found: dict[str, set[str]] = {}
        for reason, staff_no in rows:
            found.setdefault(reason, set()).add(staff_no)
        return found


async def test_deadline_reminders(chat: ConsoleChat) -> None:
    today = datetime.now(SHANGHAI).date()
    closes = today + timedelta(days=5)
    await chat.say("O4001", f'/session open "第五届第三次" --from {today} --to {closes}')
    pid = await seconded_and_submitted(chat, "D2001", "食堂", "D2002", "D2003")
    await file(chat, "D2101", "只是草稿")  # a draft is not a filed proposal
    three_days_before = datetime.combine(
        closes - timedelta(days=3), datetime.min.time(), tzinfo=SHANGHAI
    ).replace(hour=10)
    done = await tick(chat.app.database, SHANGHAI, now=three_days_before)
    assert done["deadline_reminders"] == 7  # 8 delegates, D2001 filed
    closing = (await reasons(chat))[f"session:1:closing:3:{closes}"]
    assert "D2001" not in closing and "D2101" in closing and "T1001" not in closing
    again = await tick(chat.app.database, SHANGHAI, now=three_days_before + timedelta(hours=1))
    assert again["deadline_reminders"] == 0

    await chat.say("C3001", f"/review {pid} accept")
    due = today + timedelta(days=10)
    await chat.say("O4001", f"/assign {pid} 后勤管理处 --due {due}")
    week_before = datetime.combine(
        due - timedelta(days=7), datetime.min.time(), tzinfo=SHANGHAI
    ).replace(hour=9, minute=30)
    await tick(chat.app.database, SHANGHAI, now=week_before)
    assert (await reasons(chat))[f"proposal:{pid}:due:7:{due}"] == {"H5001"}

    await chat.say("H5001", f"/reply {pid} A 已解决")
    async with chat.app.database.session() as session:
        rating_due = await session.scalar(select(Proposal.rating_due).where(Proposal.id == pid))
        await session.execute(
            update(Proposal).where(Proposal.id == pid).values(rating_due=rating_due)
        )
    assert rating_due is not None
    before = datetime.combine(
        rating_due - timedelta(days=3), datetime.min.time(), tzinfo=SHANGHAI
    ).replace(hour=12)
    await tick(chat.app.database, SHANGHAI, now=before)
    assert (await reasons(chat))[f"proposal:{pid}:rate_reminder:0"] == {"D2001"}
