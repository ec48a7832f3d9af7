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
        audience,
        scope,
        "第五届教代会第三次全体会议",
        "1",
        START,
        "2099-12-01 12:00",
        "学术报告厅",
        "-",
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
    asked = await chat.say("D2002", f"/meeting leave {mid} 出差")
    assert "等待代表团团长陈静审批" in asked, asked.text
    request = (await chat.inbox("D2001"))[-1]
    assert "出差" in request.text and request.choices[0].command == f"/meeting approve {mid} D2002"
    denied = await chat.say("D2101", f"/meeting approve {mid} D2002")
    assert denied.error, "another delegation's head may not decide"
    assert "已批准" in await chat.say("D2001", f"/meeting approve {mid} D2002")
    assert any("已获批准" in n.text for n in await chat.inbox("D2002"))
    shown = await chat.say("D2002", f"/meeting show {mid}")
    assert "请假已批准" in shown and "agenda.pdf" in shown and "提前 2 小时" in shown
    assert [c.command for c in shown.replies[0].choices] == [f"/meeting attend {mid}"], (
        "leave granted: only changing one's mind to attend is offered"
    )
    assert "已确认参加" in await chat.say("D2003", f"/meeting attend {mid}")
    roll = await chat.say("O4001", f"/meeting roll {mid}")
    assert (
        "第一代表团：应到 5，确认参加 1，已准假 1，已签到 0，缺席 0，未回复或请假待批 3" in roll
    ), roll.text
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


async def test_a_delegation_with_no_head_sends_leave_to_the_officers(chat: ConsoleChat) -> None:
    """A request must not wait for nobody: with no head (or the head asking), the union's
    officers are asked and the reply says so; the officers may decide it."""
    from sqlalchemy import delete

    from storage.models import StaffRole

    mid = await create_meeting(chat)
    asked = await chat.say("D2001", f"/meeting leave {mid} 外出开会")  # the head herself
    assert "你是代表团团长，申请已交给校工会干部审批" in asked, asked.text
    own = await chat.say("D2001", f"/meeting approve {mid} D2001")
    assert own.error and "不能审批自己的请假申请" in own, own.text
    async with chat.app.database.session() as session:
        await session.execute(delete(StaffRole).where(StaffRole.role == "head"))
    asked = await chat.say("D2003", f"/meeting leave {mid} 出差")
    assert "你的代表团还没有团长，申请已交给校工会干部审批" in asked, asked.text
    request = (await chat.inbox("O4001"))[-1]
    assert "出差" in request.text and "因为你是校工会干部" in (request.footer or ""), request
    assert "已批准" in await chat.say("O4001", f"/meeting approve {mid} D2003")


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
    await chat.say("D2002", "/whoami")  # linked: the invitation waits for them
    mid = await create_meeting(chat)
    pending = await chat.say("O4001", "/deliveries --status 待发送")
    assert "最近的「待发送」消息" in pending and f"会议 #{mid}（invited）" in pending, pending.text
    assert "已发送" not in pending.replies[0].sections[0].title
    report = await chat.say("O4001", "/deliveries")
    assert "待发送" in report and "已发送" in report
    assert (await chat.say("T1001", "/deliveries")).error


async def test_deliveries_name_who_messages_wait_for(chat: ConsoleChat) -> None:
    """The digest says messages cannot reach people with no linked account and points to
    /deliveries: that report counts them and names them, and linking sends them."""
    mid = await create_meeting(chat, audience="5", scope="D2001 D2002 T1001")
    report = await chat.say("O4001", "/deliveries")
    waiting = report.replies[0].sections[-1]
    assert "还没有绑定聊天账号" in waiting.title, report.text
    assert any(line.startswith("陈静（D2001）：") for line in waiting.items), waiting.items
    count = dict(report.replies[0].fields)["等待绑定账号（近 7 天）"]
    assert count.endswith("人") and not count.startswith("0 "), count
    await chat.say("D2001", "/whoami")  # links the console: the invitation is sent to them
    assert any(
        f"会议 #{mid}" in n.text or "邀请你参加" in n.text for n in await chat.inbox("D2001")
    )
    after = await chat.say("O4001", "/deliveries")
    named = [i for s in after.replies[0].sections for i in s.items]
    assert not any(line.startswith("陈静（D2001）") for line in named), named


async def test_sub_union_officers_call_only_their_own_meetings(chat: ConsoleChat) -> None:
    """What can be checked is checked at the step it is about, and says what is wrong."""
    first = await chat.say("O4101", "/meeting create")
    assert "(1/10)" in first
    refused = await chat.say("O4101", "1")  # all delegates: a school-level meeting
    assert refused.error and "你是计算机学院分工会的干部，只能为本分工会安排会议" in refused
    assert "(1/10)" in refused, "asked again, at the same step"
    assert not (await chat.say("O4101", "4")).error
    other = await chat.say("O4101", "文学院分工会")
    assert other.error and "你是计算机学院分工会的干部，不能为文学院分工会安排会议" in other
    assert "(2/10)" in other
    for answer in (
        "计算机学院分工会",
        "计算机学院二级教代会",
        "3",
        START,
        "2099-12-01 12:00",
        "实验楼",
        "-",
        "-",
    ):
        said = await chat.say("O4101", answer)
        assert not said.error, said.text
    assert "已创建" in await chat.say("O4101", "-")


def test_every_invitee_is_in_exactly_one_bucket_of_the_roll() -> None:
    """A delegate who signs in without having answered is signed in, not also unanswered:
    the buckets add up to the number expected."""
    from itertools import product

    from storage.meetings.service import RollLine, bucket

    line = RollLine()
    cases = list(
        product(
            ("none", "attend", "leave"),
            (None, "pending", "approved", "declined"),
            (False, True),
            (False, True),
        )
    )
    for answer, leave_status, checked_in, started in cases:
        line.add(bucket(answer, leave_status, checked_in, started))
    parts = line.confirmed + line.on_leave + line.checked_in + line.absent + line.unanswered
    assert parts == line.expected == len(cases)
    assert bucket("none", None, True, True) == "checked_in"
    assert bucket("leave", "pending", False, False) == "unanswered"
    assert bucket("leave", "approved", False, True) == "on_leave"


async def test_editing_who_is_invited_and_the_agenda_tells_who_it_concerns(
    chat: ConsoleChat,
) -> None:
    mid = await create_meeting(chat, audience="2", scope="第二代表团")
    assert (await chat.inbox("D2102"))[0].choices  # invited, with the answer buttons
    await chat.say("D2102", f"/meeting attend {mid}")
    said = await chat.say("O4001", f"/meeting edit {mid} --audience 一个代表团 --scope 第一代表团")
    assert "新邀请 5 人，取消 3 人" in said, said.text
    gone = await chat.inbox("D2102")
    assert (
        gone
        and "不再在会议" in gone[-1].text
        and "原来在这次会议的参会名单中" in (gone[-1].footer or "")
    )
    new = await chat.inbox("D2001")
    assert new and "邀请你参加" in new[-1].text
    refused = await chat.say("O4101", f"/meeting edit {mid} --audience delegates")
    assert refused.error and "只能为本分工会安排会议" in refused
    agenda = await chat.say("O4001", f'/meeting edit {mid} --agenda "一、报告\\n二、选举"')
    assert "议程已更新，已通知 5 人" in agenda
    told = await chat.inbox("D2002")
    assert any("议程已更新" in n.text for n in told)
    shown = await chat.say("D2002", f"/meeting show {mid}")
    assert "一、报告\n二、选举" in shown.text


async def test_a_delegations_meeting_is_announced_in_its_group_without_names(
    chat: ConsoleChat,
) -> None:
    from bot.app import make_deliverer
    from bot.delivery import Recipient, SendResult
    from bot.replies import Reply

    said = await chat.say("D2101", "/group register delegation 第二代表团", group=True)
    assert not said.error, said.text
    mid = await create_meeting(chat, audience="2", scope="第二代表团")
    sent: list[tuple[Recipient, Reply]] = []

    async def send(recipient: Recipient, reply: Reply) -> SendResult:
        sent.append((recipient, reply))
        return SendResult.sent("m1")

    deliverer = make_deliverer(chat.app, {"console": send})
    await deliverer.run_once(platform_user_id="group-1", platforms=["console"])
    assert len(sent) == 1, [r.plain() for _, r in sent]
    recipient, reply = sent[0]
    assert recipient.address == "group-1" and "会议通知" in reply.text
    assert "学术报告厅" in reply.text and "本群登记为第二代表团的群" in (reply.footer or "")
    assert not any(name in reply.plain() for name in ("孙磊", "周婷", "吴刚", "D2102"))
    await chat.say("O4001", f"/meeting cancel {mid} 改期")
    await deliverer.run_once(platform_user_id="group-1", platforms=["console"])
    assert "会议取消" in sent[-1][1].text
    report = await chat.say("O4001", "/deliveries --status sent")
    assert "group" in report and f"会议 #{mid}" in report
