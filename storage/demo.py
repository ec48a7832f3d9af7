"""Demo data: a small university, loaded through the same roster import as a real file."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage import outbox
from storage.clock import utcnow
from storage.meetings import service as meetings
from storage.meetings.service import DEFAULT_REMINDERS
from storage.models import (
    Activity,
    Attendance,
    BenefitApplication,
    CongressSession,
    ExamAppointment,
    HardshipRecord,
    Meeting,
    Proposal,
    ProposalEvent,
    ProposalPerson,
    Staff,
    Survey,
    Vote,
)
from storage.proposals.state import ACCEPTED
from storage.roster import COLUMNS, ImportReport, import_rows
from storage.store import Actor, Store

DEMO_ZONE = ZoneInfo("Asia/Shanghai")  # the union's zone when the caller names none

CS, LIT = "计算机与网络工程学院", "文学院"
LOGISTICS, ACADEMIC, HR = "后勤管理处", "教务处", "人事处"
CS_UNION, LIT_UNION, ADMIN_UNION = "计算机学院分工会", "文学院分工会", "机关分工会"
D1, D2 = "第一代表团", "第二代表团"

# staff_no, name, department, sub_union, employment_type, union_member, delegate, delegation,
# roles, birth_date, hire_date, email, phone
DEMO_ROSTER: list[tuple[str, ...]] = [
    (
        "T1001",
        "张伟",
        CS,
        CS_UNION,
        "establishment",
        "yes",
        "no",
        "",
        "",
        "1985-03-12",
        "2012-09-01",
        "zhangwei@demo.edu.cn",
        "13800001001",
    ),
    (
        "T1002",
        "李娜",
        LIT,
        LIT_UNION,
        "agency",
        "yes",
        "no",
        "",
        "",
        "1992-07-08",
        "2019-03-01",
        "lina@demo.edu.cn",
        "13800001002",
    ),
    (
        "T1003",
        "王芳",
        LOGISTICS,
        ADMIN_UNION,
        "non_establishment",
        "no",
        "no",
        "",
        "",
        "1996-01-20",
        "2022-07-01",
        "wangfang@demo.edu.cn",
        "13800001003",
    ),
    (
        "D2001",
        "陈静",
        CS,
        CS_UNION,
        "establishment",
        "yes",
        "yes",
        D1,
        "head",
        "1978-05-30",
        "2003-09-01",
        "chenjing@demo.edu.cn",
        "13800002001",
    ),
    (
        "D2002",
        "刘洋",
        CS,
        CS_UNION,
        "establishment",
        "yes",
        "yes",
        D1,
        "",
        "1983-11-02",
        "2010-09-01",
        "liuyang@demo.edu.cn",
        "13800002002",
    ),
    (
        "D2003",
        "赵敏",
        LIT,
        LIT_UNION,
        "establishment",
        "yes",
        "yes",
        D1,
        "",
        "1988-02-14",
        "2014-09-01",
        "zhaomin@demo.edu.cn",
        "13800002003",
    ),
    (
        "D2101",
        "孙磊",
        ACADEMIC,
        ADMIN_UNION,
        "establishment",
        "yes",
        "yes",
        D2,
        "head",
        "1975-09-09",
        "2000-07-01",
        "sunlei@demo.edu.cn",
        "13800002101",
    ),
    (
        "D2102",
        "周婷",
        HR,
        ADMIN_UNION,
        "agency",
        "yes",
        "yes",
        D2,
        "",
        "1990-12-25",
        "2016-03-01",
        "zhouting@demo.edu.cn",
        "13800002102",
    ),
    (
        "D2103",
        "吴刚",
        LOGISTICS,
        ADMIN_UNION,
        "establishment",
        "yes",
        "yes",
        D2,
        "",
        "1980-04-04",
        "2008-09-01",
        "wugang@demo.edu.cn",
        "13800002103",
    ),
    (
        "C3001",
        "郑红",
        LIT,
        LIT_UNION,
        "establishment",
        "yes",
        "yes",
        D1,
        "committee",
        "1972-06-18",
        "1998-09-01",
        "zhenghong@demo.edu.cn",
        "13800003001",
    ),
    (
        "C3002",
        "冯军",
        CS,
        CS_UNION,
        "establishment",
        "yes",
        "yes",
        D1,
        "committee",
        "1979-10-10",
        "2005-09-01",
        "fengjun@demo.edu.cn",
        "13800003002",
    ),
    (
        "O4001",
        "黄强",
        HR,
        ADMIN_UNION,
        "establishment",
        "yes",
        "no",
        "",
        "officer;mediator",
        "1970-01-15",
        "1995-07-01",
        "huangqiang@demo.edu.cn",
        "13800004001",
    ),
    (
        "O4101",
        "林晓",
        CS,
        CS_UNION,
        "establishment",
        "yes",
        "no",
        "",
        f"officer:{CS_UNION}",
        "1986-08-08",
        "2011-09-01",
        "linxiao@demo.edu.cn",
        "13800004101",
    ),
    (
        "O4102",
        "何平",
        LIT,
        LIT_UNION,
        "establishment",
        "yes",
        "no",
        "",
        f"officer:{LIT_UNION}",
        "1982-03-03",
        "2009-09-01",
        "heping@demo.edu.cn",
        "13800004102",
    ),
    (
        "H5001",
        "马丽",
        LOGISTICS,
        ADMIN_UNION,
        "establishment",
        "yes",
        "no",
        "",
        f"handler:{LOGISTICS}",
        "1984-05-05",
        "2010-07-01",
        "mali@demo.edu.cn",
        "13800005001",
    ),
    (
        "H5002",
        "高峰",
        ACADEMIC,
        ADMIN_UNION,
        "establishment",
        "yes",
        "no",
        "",
        f"handler:{ACADEMIC}",
        "1981-09-19",
        "2007-07-01",
        "gaofeng@demo.edu.cn",
        "13800005002",
    ),
    (
        "H5003",
        "罗斌",
        HR,
        ADMIN_UNION,
        "establishment",
        "yes",
        "no",
        "",
        f"handler:{HR}",
        "1987-12-12",
        "2013-07-01",
        "luobin@demo.edu.cn",
        "13800005003",
    ),
    (
        "A9001",
        "系统管理员",
        HR,
        ADMIN_UNION,
        "establishment",
        "yes",
        "no",
        "",
        "admin",
        "1990-01-01",
        "2015-07-01",
        "admin@demo.edu.cn",
        "13800009001",
    ),
]


async def load_demo(store: Store, *, congress: bool = True, tz: tzinfo = DEMO_ZONE) -> ImportReport:
    """The demo roster and its benefits; with `congress`, also proposals and a meeting in
    every state (tests that count from proposal #1 load the roster without them)."""
    rows = [
        (line, dict(zip(COLUMNS, values, strict=True)))
        for line, values in enumerate(DEMO_ROSTER, start=2)
    ]
    report = await import_rows(store, rows)
    await _demo_benefits(store, tz)
    if congress:
        await _demo_congress(store, tz)
        await _demo_surveys(store, tz)
        await _demo_activities(store, tz)
        await _demo_votes(store)
        # The demo shows each feature in its state; it does not send the notices its own
        # surveys, activities and votes would have sent (nor to platforms linked later).
        for prefix in ("survey:", "activity:", "vote:"):
            await outbox.cancel_pending(store, prefix)
    return report


async def _demo_votes(store: Store) -> None:
    """A congress session under way, seven of eight delegates signed in, with a resolution
    voted, confirmed and announced, and an election open, once: `/votes` as D2002 has a
    ballot, `/vote results 1` a result."""
    from storage.meetings import checkin
    from storage.meetings import service as meetings
    from storage.votes import service as votes

    if await store.session.scalar(select(func.count()).select_from(Vote)):
        return
    ids = dict((await store.session.execute(select(Staff.staff_no, Staff.id))).all())
    now = utcnow()
    before, store.actor = store.actor, Actor(ids.get("O4001"), "cli", "demo")
    meeting = await meetings.create(
        store,
        title="第八届教代会第二次会议（正式会议）",
        kind="congress",
        starts_at=now + timedelta(minutes=1),
        ends_at=now + timedelta(hours=4),
        place="学术报告厅",
        agenda="一、审议校长工作报告；二、补选工会经费审查委员会委员",
        audience="delegates",
        scope="",
        reminder_minutes=[],
    )
    meeting.starts_at = now - timedelta(hours=1)  # under way
    delegates = ["D2001", "D2002", "D2003", "D2101", "D2102", "D2103", "C3001", "C3002"]
    for staff_no in delegates[:7]:
        code, _ = checkin.current_code(meeting.checkin_secret, now)
        await meetings.check_in(store, meeting, ids[staff_no], code)
    report = await votes.create(
        store,
        meeting,
        kind="resolution",
        title="关于校长工作报告的决议",
        scrutineer_nos=["C3001", "C3002"],
    )
    await votes.open_vote(store, report)
    for staff_no, choice in zip(delegates[:7], ["yes"] * 6 + ["abstain"], strict=True):
        await votes.cast(store, report, ids[staff_no], choice)
    await votes.close(store, report)
    for staff_no in ("C3001", "C3002"):
        await votes.confirm(store, report, ids[staff_no])
    election = await votes.create(
        store,
        meeting,
        kind="election",
        title="工会经费审查委员会委员补选",
        seats=1,
        candidate_nos=["O4101", "O4102"],
        scrutineer_nos=["C3001", "C3002"],
    )
    await votes.open_vote(store, election)
    store.actor = before


async def _demo_activities(store: Store, tz: tzinfo) -> None:
    """A badminton match that is full with one waiting, and a teaching competition with a
    quota of one per sub-union and two proposals for 计算机学院分工会's officer, once."""
    from storage import activities

    if await store.session.scalar(select(func.count()).select_from(Activity)):
        return
    ids = dict((await store.session.execute(select(Staff.staff_no, Staff.id))).all())
    now = utcnow()
    day = (now + timedelta(days=10)).astimezone(tz).replace(hour=14, minute=0, second=0)
    before, store.actor = store.actor, Actor(ids.get("O4001"), "cli", "demo")
    badminton, _ = await activities.publish(
        store,
        activities.Draft(
            title="教职工羽毛球混合团体赛",
            kind="sports",
            starts_at=day,
            ends_at=day + timedelta(hours=3),
            place="体育馆二楼",
            signup_deadline=day - timedelta(days=2),
            capacity=4,
            details="自带球拍；比赛用球由工会提供。",
        ),
    )
    for staff_no in ("D2101", "H5001", "C3001", "T1002", "D2102"):
        await activities.join(store, badminton.id, ids[staff_no], None)
    contest, _ = await activities.publish(
        store,
        activities.Draft(
            title="青年教师教学基本功竞赛（校赛）",
            kind="teaching",
            starts_at=day + timedelta(days=3),
            ends_at=day + timedelta(days=3, hours=4),
            place="教学楼 A201",
            signup_deadline=day + timedelta(days=1),
            quota=1,
        ),
    )
    for staff_no in ("D2001", "D2002"):
        await activities.join(store, contest.id, ids[staff_no], None)
    await _demo_clubs(store, ids)
    store.actor = before


async def _demo_clubs(store: Store, ids: dict[str, int]) -> None:
    """Two clubs with members, so that `/clubs` shows what joining one means; 张伟 (T1001)
    is in neither and can try `/club join`."""
    from storage import clubs

    for name, leader, description, members in (
        ("教职工羽毛球协会", "H5001", "每周三晚体育馆活动，欢迎各水平教职工。", ("D2101", "C3001")),
        ("教职工摄影协会", "T1002", "每月一次校园外拍和作品交流。", ("D2002",)),
    ):
        club = await clubs.create_club(store, name, ids[leader], description)
        for staff_no in members:
            await clubs.join_club(store, club.id, ids[staff_no])


async def _demo_surveys(store: Store, tz: tzinfo) -> None:
    """An open anonymous survey a few have answered, and a closed named one with results,
    once: `/surveys` and `/survey results` have something in them from the first run."""
    from storage.surveys import definition
    from storage.surveys import service as surveys

    if await store.session.scalar(select(func.count()).select_from(Survey)):
        return
    ids = dict((await store.session.execute(select(Staff.staff_no, Staff.id))).all())
    now = utcnow()
    canteen = definition.Definition(
        title="2026年教职工食堂满意度调查",
        intro="请根据最近一个月的就餐体验填写，匿名，约需 1 分钟。",
        audience="everyone",
        audience_scope="",
        anonymous=True,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        questions=(
            definition.Question("single", "总体满意度", ("满意", "基本满意", "不满意")),
            definition.Question(
                "multiple", "最需要改进的（最多两项）", ("价格", "口味", "卫生", "排队"), 2
            ),
            definition.Question("scale", "给食堂打个分"),
            definition.Question("text", "其他建议", max_length=500, required=False),
        ),
    )
    hobbies = definition.Definition(
        title="教职工文体活动兴趣调查",
        intro="工会据此安排明年的文体活动。",
        audience="everyone",
        audience_scope="",
        anonymous=False,
        opens_at=now - timedelta(days=20),
        closes_at=now + timedelta(days=1),
        questions=(
            definition.Question(
                "multiple", "想参加的活动", ("羽毛球", "太极拳", "合唱", "徒步", "书画"), 3
            ),
            definition.Question("single", "合适的时间", ("工作日下午", "工作日晚上", "周末")),
        ),
    )
    officer = ids.get("O4001")
    for made, answers in (
        (canteen, {"D2101": ("1", "1", "4"), "D2102": ("2", "3", "3"), "H5001": ("1", "2", "5")}),
        (
            hobbies,
            {
                "T1001": ("1", "3"),
                "T1002": ("3", "3"),
                "D2001": ("1", "1"),
                "D2002": ("4", "3"),
                "D2101": ("2", "1"),
                "H5002": ("1", "3"),
                "O4101": ("5", "2"),
                "C3001": ("3", "3"),
            },
        ),
    ):
        survey = await surveys.create(store, made, owner_scope="", created_by=officer)
        await surveys.publish(store, survey)
        questions = await surveys.questions(store, survey.id)
        for staff_no, picks in answers.items():
            reply = await surveys.start(store, survey, ids[staff_no], None)
            for question, pick in zip(questions, picks, strict=False):
                await surveys.answer(store, survey, reply, question, pick)
            await surveys.submit(store, survey, reply, ids[staff_no])
        if made is hobbies:
            await surveys.close(store, survey)
            survey.closes_at = survey.closed_at = now - timedelta(days=1)


DEMO_PROPOSALS = [
    # proposer, status, title, category, lead department, due in days, replied days ago,
    # satisfaction
    ("D2002", "submitted", "关于增设教职工子女暑期托管班的提案", "welfare", None, None, None, None),
    (
        "D2003",
        "assigned",
        "关于改善教职工食堂晚餐供应的提案",
        "logistics",
        LOGISTICS,
        5,
        None,
        None,
    ),
    (
        "D2102",
        "assigned",
        "关于减轻青年教师非教学事务负担的提案",
        "teaching",
        ACADEMIC,
        -20,
        None,
        None,
    ),
    (
        "D2001",
        "reopened",
        "关于完善非事业编制职工职称评审通道的提案",
        "personnel",
        HR,
        10,
        12,
        "unsatisfied",
    ),
    (
        "D2101",
        "closed",
        "关于延长图书馆周末开放时间的提案",
        "campus",
        LOGISTICS,
        -30,
        45,
        "satisfied",
    ),
    ("C3001", "answered", "关于规范教学楼多媒体设备维护的提案", "teaching", ACADEMIC, 2, 3, None),
    ("D2002", "draft", "关于增加校园充电桩的提案（草稿）", "campus", None, None, None, None),
    ("D2003", "seconding", "关于完善青年教师周转房的提案", "welfare", None, None, None, None),
    ("C3002", "accepted", "关于优化实验室安全培训的提案", "teaching", None, None, None, None),
    ("D2103", "rejected", "关于调整个人岗位等级的提案", "personnel", None, None, None, None),
    ("T1002", "submitted", "建议图书馆增设自习座位预约", "campus", None, None, None, None),
]


DEMO_HANDLERS = {LOGISTICS: "H5001", ACADEMIC: "H5002", HR: "H5003"}
DEMO_DELEGATES = ("D2001", "D2002", "D2003", "D2101", "D2102", "D2103")


def _demo_seconders(proposer: str, n: int) -> list[str]:
    """Two delegates who seconded a submitted proposal, as the rules ask (not its proposer)."""
    others = [d for d in DEMO_DELEGATES if d != proposer]
    return [others[(n + k) % len(others)] for k in range(2)]


History = tuple[datetime, str | None, str, str, str, dict[str, Any]]


def _demo_history(
    proposal: Proposal, proposer: str, seconders: list[str], *, now: datetime, recent: datetime
) -> list[History]:
    """The lines the workflow would have written on the way to the proposal's status, so
    that `/proposal show` reads as a real case does: who invited, seconded, submitted,
    accepted, assigned, answered and rated, and when."""
    status, filed = proposal.status, proposal.created_at
    lines: list[History] = []
    if status == "draft":
        return lines
    if status == "seconding":
        return [(recent, proposer, "invite", "draft", "seconding", {"invited": ["D2001"]})]
    before = "draft"
    if seconders:
        before = "seconding"
        lines.append(
            (
                filed - timedelta(days=2),
                proposer,
                "invite",
                "draft",
                "seconding",
                {"invited": seconders},
            )
        )
        lines += [
            (
                filed - timedelta(days=1),
                s,
                "second",
                "seconding",
                "seconding",
                {"answer": "accepted"},
            )
            for s in seconders
        ]
    lines.append((filed, proposer, "submit", before, "submitted", {}))
    committee = "C3001" if proposer != "C3001" else "C3002"
    if status == "rejected":
        reason = proposal.review_note or ""
        lines.append(
            (
                filed + timedelta(days=2),
                committee,
                "reject",
                "submitted",
                "rejected",
                {"reason": reason},
            )
        )
        return lines
    if status == "submitted":
        return lines
    lines.append((filed + timedelta(days=2), committee, "accept", "submitted", "accepted", {}))
    if status == "accepted":
        return lines
    lead = proposal.lead_department or ""
    due = proposal.due_date.isoformat() if proposal.due_date else None
    lines.append(
        (
            filed + timedelta(days=3),
            committee,
            "assign",
            "accepted",
            "assigned",
            {"lead": lead, "supporting": [], "due": due},
        )
    )
    if proposal.replied_at is None:
        return lines
    lines.append(
        (
            proposal.replied_at,
            DEMO_HANDLERS.get(lead),
            "reply",
            "assigned",
            "answered",
            {"grade": proposal.reply_grade, "round": 0},
        )
    )
    if proposal.satisfaction and status == "closed":
        lines.append(
            (
                proposal.closed_at or now,
                proposer,
                "rate_satisfied",
                "answered",
                "closed",
                {"satisfaction": proposal.satisfaction, "comment": None},
            )
        )
    if proposal.satisfaction and status == "reopened":
        lines.append(
            (
                recent,
                proposer,
                "rate_unsatisfied",
                "answered",
                "reopened",
                {"satisfaction": proposal.satisfaction, "comment": None},
            )
        )
    return lines


async def _demo_congress(store: Store, tz: tzinfo) -> None:
    """A congress session with proposals in every stage of 督办 and a congress meeting in
    three days with confirmations short of the quorum and a leave request waiting, once,
    so that the demo officers' first digest and /proposal stats have something in them."""
    if await store.session.scalar(select(func.count()).select_from(Proposal)):
        return
    ids = dict((await store.session.execute(select(Staff.staff_no, Staff.id))).all())
    now = utcnow()
    today = now.astimezone(tz).date()  # the union's today, as its reminders count days
    recent = now - timedelta(minutes=30)  # inside the window of a first digest or preview
    session = CongressSession(
        name="第八届教代会第三次会议",
        opens_on=today - timedelta(days=60),
        closes_on=today + timedelta(days=20),
        created_at=now - timedelta(days=60),
    )
    store.session.add(session)
    await store.session.flush()
    for n, (staff_no, status, title, category, lead, due_in, replied_ago, rating) in enumerate(
        DEMO_PROPOSALS, start=1
    ):
        filed = recent if status == "submitted" else now - timedelta(days=60 - n)
        accepted = status in ACCEPTED
        proposal = Proposal(
            session_id=session.id,
            kind="suggestion" if staff_no.startswith("T") else "proposal",
            status=status,
            case_no=f"{today.year}-{n:03d}" if accepted else None,
            review_note="属于个人事项，建议向人事处反映。" if status == "rejected" else None,
            title=title,
            reasons="示例提案：提案理由。",
            measures="示例提案：具体建议。",
            category=category,
            proposer_id=ids[staff_no],
            lead_department=lead,
            supporting_departments=[],
            assigned_at=filed + timedelta(days=3) if lead else None,
            due_date=today + timedelta(days=due_in) if due_in is not None else None,
            replied_at=now - timedelta(days=replied_ago) if replied_ago else None,
            reply_grade="B" if replied_ago else None,
            reply_text="示例答复：已研究并落实。" if replied_ago else None,
            satisfaction=rating,
            rounds=1 if status == "reopened" else 0,
            created_at=filed,
            submitted_at=filed if status not in ("draft", "seconding") else None,
            closed_at=now - timedelta(days=10) if status == "closed" else None,
            updated_at=recent,
        )
        store.session.add(proposal)
        await store.session.flush()
        store.session.add(
            ProposalPerson(
                proposal_id=proposal.id,
                staff_id=ids[staff_no],
                role="proposer",
                answer="accepted",
                invited_at=filed,
                answered_at=filed,
            )
        )
        if status == "seconding":  # waiting for 陈静, who is asked to second it
            store.session.add(
                ProposalPerson(
                    proposal_id=proposal.id,
                    staff_id=ids["D2001"],
                    role="seconder",
                    answer="invited",
                    invited_at=recent,
                )
            )
        seconders = _demo_seconders(staff_no, n) if proposal.submitted_at else []
        if proposal.kind == "suggestion":
            seconders = []
        for seconder in seconders:
            store.session.add(
                ProposalPerson(
                    proposal_id=proposal.id,
                    staff_id=ids[seconder],
                    role="seconder",
                    answer="accepted",
                    invited_at=filed - timedelta(days=2),
                    answered_at=filed - timedelta(days=1),
                )
            )
        for at, actor, action, before, after, detail in _demo_history(
            proposal, staff_no, seconders, now=now, recent=recent
        ):
            store.session.add(
                ProposalEvent(
                    proposal_id=proposal.id,
                    at=at,
                    actor_id=ids.get(actor) if actor else None,
                    action=action,
                    from_status=before,
                    to_status=after,
                    detail=detail,
                )
            )
    starts = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    meeting = Meeting(
        title="第八届教代会第三次会议（正式会议）",
        kind="congress",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        place="学术报告厅",
        agenda="审议学校工作报告；审议提案工作报告。",
        documents=[],
        audience="delegates",
        audience_scope="",
        reminder_minutes=list(DEFAULT_REMINDERS),
        status="scheduled",
        checkin_secret=secrets.token_hex(16),
        created_by=ids.get("O4001"),
        created_at=now - timedelta(days=5),
        updated_at=recent,
    )
    store.session.add(meeting)
    await store.session.flush()
    answers = {"D2001": "attend", "D2002": "attend", "D2101": "attend", "D2003": "leave"}
    for staff_no, delegation in (
        await store.session.execute(
            select(Staff.staff_no, Staff.delegation).where(Staff.delegate.is_(True))
        )
    ).all():
        answer = answers.get(staff_no, "none")
        store.session.add(
            Attendance(
                meeting_id=meeting.id,
                staff_id=ids[staff_no],
                delegate=True,
                delegation=delegation,
                answer=answer,
                leave_reason="外出参加学术会议。" if answer == "leave" else None,
                leave_status="pending" if answer == "leave" else None,
                answered_at=recent if answer != "none" else None,
                extra={},
            )
        )
    await store.session.flush()
    # The invitations of those who have not answered, queued as creating a meeting does: their first
    # console shows one, and /deliveries has something real in it.
    await meetings.tell(
        store,
        meeting,
        "invited",
        [ids[n] for n in sorted(ids) if n.startswith(("D", "C")) and n not in answers],
        "invited",
        "invited",
        buttons=meetings.answer_buttons(meeting),
    )


async def _demo_benefits(store: Store, tz: tzinfo) -> None:
    """A few applications in different states, two hardship records and this year's exam
    schedule (two batches; one exam done, one missed), once, so that a newcomer's first
    /applications, /hardship list and /exam have something in them."""
    if await store.session.scalar(select(func.count()).select_from(BenefitApplication)):
        return
    ids = dict((await store.session.execute(select(Staff.staff_no, Staff.id))).all())
    now = utcnow()
    today = now.astimezone(tz).date()  # the union's today, as its reminders count days

    def step(action: str, actor: str, days_ago: int, **detail: Any) -> dict[str, Any]:
        """One line of an application's history, dated as the case would have gone."""
        at = now - timedelta(days=days_ago)
        return {"at": at.isoformat(), "actor": ids.get(actor), "action": action, **detail}

    applications = [
        (
            "T1001",
            "hospitalisation",
            "pending",
            0,
            20,
            "因急性阑尾炎住院一周。",
            None,
            [step("submit", "T1001", 15)],
        ),
        (
            "D2002",
            "wedding",
            "paid",
            0,
            60,
            "",
            300,
            [
                step("submit", "D2002", 55),
                step("approve", "O4101", 50, level="sub_union", amount=300),
                step("paid", "O4001", 40, amount=300),
            ],
        ),
        (
            "T1002",
            "childbirth",
            "returned",
            0,
            30,
            "女儿出生。",
            None,
            [
                step("submit", "T1002", 25),
                step("return", "O4102", 2, level="sub_union", note="请补充出生医学证明的照片"),
            ],
        ),
        (
            "D2101",
            "serious_illness",
            "pending",
            0,
            40,
            "住院治疗，自付费用较高。",
            None,
            [step("submit", "D2101", 35)],
        ),
    ]
    for staff_no, item, status, stage, days_ago, text, amount, history in applications:
        store.session.add(
            BenefitApplication(
                staff_id=ids[staff_no],
                item=item,
                status=status,
                stage=stage,
                event_date=today - timedelta(days=days_ago),
                description=text,
                amount_approved=amount,
                amount_paid=amount if status == "paid" else None,
                paid_on=today - timedelta(days=days_ago - 20) if status == "paid" else None,
                note=history[-1].get("note", ""),
                history=history,
                created_at=now - timedelta(days=days_ago - 5),
                updated_at=now - timedelta(days=2),
            )
        )
    for staff_no, category, size, income, causes in (
        ("T1002", "near_dibao", 4, 1200, "配偶长期患病，子女上学。"),
        ("D2103", "accident", 3, 2000, "家中房屋遭遇火灾。"),
    ):
        store.session.add(
            HardshipRecord(
                staff_id=ids[staff_no],
                category=category,
                household_size=size,
                income_per_head=income,
                causes=causes,
                support="",
                next_review=today + timedelta(days=180),
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
    for n, (staff_no, staff_id) in enumerate(sorted(ids.items())):
        day, batch, status = today + timedelta(days=10 + 14 * (n % 2)), "AB"[n % 2], "scheduled"
        if staff_no == "D2002":
            day, batch, status = today - timedelta(days=20), "A", "done"
        elif staff_no == "T1002":
            day, batch = today - timedelta(days=10), "A"
        store.session.add(
            ExamAppointment(
                staff_id=staff_id,
                year=today.year,
                day=day,
                place="校医院体检中心" if batch == "A" else "附属医院健康管理中心",
                batch=batch,
                status=status,
                created_at=now,
                updated_at=now,
            )
        )
    await store.session.flush()
