"""Meetings through the conversation harness: invitations, leave, changes, sign-in, roll."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.app import App
from storage.clock import utcnow
from storage.meetings import checkin
from storage.models import Delivery, Meeting, OutboxMessage
from tests.harness import ConsoleChat

START = "2099-12-01 09:00"


async def create_meeting(chat: ConsoleChat, audience: str = "1", scope: str = "-") -> int:
    assert "(1/10)" in await chat.say("O4001", "/meeting create")
    answers = (
        "第五届教代会第三次全体会议",
        "1",
        START,
        "2099-12-01 12:00",
        "学术报告厅",
        "-",
        audience,
        scope,
        "https://union.example.edu.cn/agenda.pdf",
    )
    for answer in answers:
        said = await chat.say("O4001", answer)
        assert not said.error, said.text
    bad = await chat.say("O4001", "soon")
    assert bad.error and "7d 1d 2h" in bad
    said = await chat.say("O4001", "7天 1d 2小时")
    assert "已创建" in said, said.text
    return int(re.search(r"#(\d+)", said.text).group(1))  # type: ignore[union-attr]


async def test_invitation_leave_and_approval(any_chat: ConsoleChat) -> None:
    chat = any_chat
    mid = await create_meeting(chat)
    invite = (await chat.inbox("D2002"))[0]
    assert "学术报告厅" in invite.text and "2099-12-01" in invite.text
    assert [c.command for c in invite.choices] == [
        f"/meeting attend {mid}",
        f"/meeting leave {mid}",
    ]
    assert not await chat.inbox("T1001"), "only delegates were invited"
    assert "未回复" in await chat.say("D2002", "/meetings")
    assert (await chat.say("D2002", f"/meeting leave {mid}")).error  # a reason is required
    assert "等待代表团团长审批" in await chat.say("D2002", f"/meeting leave {mid} 出差")
    request = (await chat.inbox("D2001"))[-1]
    assert "出差" in request.text and request.choices[0].command == f"/meeting approve {mid} D2002"
    denied = await chat.say("D2101", f"/meeting approve {mid} D2002")
    assert denied.error, "another delegation's head may not decide"
    assert "已批准" in await chat.say("D2001", f"/meeting approve {mid} D2002")
    assert any("已获批准" in n.text for n in await chat.inbox("D2002"))
    shown = await chat.say("D2002", f"/meeting show {mid}")
    assert "请假已批准" in shown and "agenda.pdf" in shown and "提前 2 小时" in shown
    assert "已确认参加" in await chat.say("D2003", f"/meeting attend {mid}")
    roll = await chat.say("O4001", f"/meeting roll {mid}")
    assert "第一代表团：应到 5，确认 1，请假 1，已签到 0，缺席 0，未回复 3" in roll, roll.text
    assert "需 6/8" in roll
    assert (await chat.say("T1001", "/meeting create")).error


async def test_change_and_cancel_notify_everyone_and_withdraw_reminders(chat: ConsoleChat) -> None:
    from schedules.tick import tick

    mid = await create_meeting(chat, audience="2", scope="第二代表团")
    for who in ("D2101", "D2102", "D2103"):  # each has a chat identity, so each gets deliveries
        await chat.inbox(who)
    async with chat.app.database.session() as session:  # the 7-day reminder's time was yesterday
        await session.execute(
            update(Meeting)
            .where(Meeting.id == mid)
            .values(
                starts_at=utcnow() + timedelta(days=6),
                ends_at=utcnow() + timedelta(days=6, hours=3),
                created_at=utcnow() - timedelta(days=10),
            )
        )
    done = await tick(chat.app.database, chat.app.settings.tz)
    assert done["reminders"] == 3
    assert not [n for n in await chat.inbox("D2102") if "提醒" in n.text], "a day late: missed"
    said = await chat.say("O4001", f'/meeting edit {mid} --place "行政楼 101"')
    assert "行政楼 101" in said
    changed = [n for n in await chat.inbox("D2102") if "有变更" in n.text]
    assert changed and "学术报告厅 → 行政楼 101" in changed[0].text
    async with chat.app.database.session() as session:
        rows = await session.execute(
            select(Delivery.platform_user_id, Delivery.status, OutboxMessage.reason)
            .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
            .where(OutboxMessage.reason.like(f"meeting:{mid}:remind:%"))
        )
        states = {who: status for who, status, _ in rows}
    assert states == {"D2101": "cancelled", "D2102": "missed", "D2103": "cancelled"}
    assert (await chat.say("O4001", f"/meeting cancel {mid}")).error  # a reason is required
    assert "已取消" in await chat.say("O4001", f"/meeting cancel {mid} 与校庆冲突")
    assert any("与校庆冲突" in n.text for n in await chat.inbox("D2103"))
    assert (await chat.say("D2101", f"/meeting attend {mid}")).error


async def test_sign_in_with_rotating_codes(chat: ConsoleChat) -> None:
    mid = await create_meeting(chat, audience="5", scope="D2001 D2002 T1001")
    shown = await chat.say("O4001", f"/meeting checkin-code {mid}")
    code = re.search(r"\b(\d{6})\b", shown.text).group(1)  # type: ignore[union-attr]
    assert "签到成功" in await chat.say("T1001", f"/meeting checkin {mid} {code}")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert (await chat.say("D2001", f"/meeting checkin {mid} {wrong}")).error
    throttled = await chat.say("D2001", f"/meeting checkin {mid} {code}")
    assert throttled.error and "5 分钟" in throttled
    async with chat.app.database.session() as session:
        meeting = await session.get(Meeting, mid)
        assert meeting is not None
        meeting.starts_at = utcnow() - timedelta(minutes=10)
        secret = meeting.checkin_secret
    late_code, _ = checkin.current_code(secret, utcnow())
    assert "迟到" in await chat.say("D2002", f"/meeting checkin {mid} {late_code}")
    assert (await chat.say("D2003", f"/meeting checkin {mid} {late_code}")).error  # not invited


async def test_deliveries_report_for_officers(chat: ConsoleChat, app: App) -> None:
    await create_meeting(chat)
    report = await chat.say("O4001", "/deliveries")
    assert "待发送" in report and "已发送" in report
    assert (await chat.say("T1001", "/deliveries")).error


async def test_sub_union_officers_call_only_their_own_meetings(chat: ConsoleChat) -> None:
    await chat.say("O4101", "/meeting create")
    for answer in (
        "计算机学院二级教代会",
        "3",
        START,
        "2099-12-01 12:00",
        "实验楼",
        "-",
        "1",
        "-",
        "-",
    ):
        await chat.say("O4101", answer)
    refused = await chat.say("O4101", "-")
    assert refused.error and "本分工会" in refused
    await chat.say("O4101", "/meeting create")
    for answer in (
        "计算机学院二级教代会",
        "3",
        START,
        "2099-12-01 12:00",
        "实验楼",
        "-",
        "4",
        "计算机学院分工会",
        "-",
    ):
        await chat.say("O4101", answer)
    assert "已创建" in await chat.say("O4101", "-")
