"""Meeting services: creating and changing meetings, answers and leave, sign-in, roll, reminders."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select

from storage import audit, groups, outbox
from storage.clock import utcnow
from storage.errors import MeetingError
from storage.identity import officers
from storage.meetings import checkin, quorum
from storage.models import Attendance, Meeting, Staff, StaffRole
from storage.store import Store

KINDS = ("congress", "preparatory", "college", "committee", "other")
AUDIENCES = ("delegates", "delegation", "committee", "sub_union", "list")
DEFAULT_REMINDERS = (7 * 24 * 60, 24 * 60, 120)  # minutes before the start
REMINDER_GRACE = timedelta(hours=1)
CHECKIN_FAILURES = 5
CHECKIN_WINDOW = timedelta(minutes=5)


async def get(store: Store, meeting_id: int) -> Meeting:
    """The meeting. Refuses an unknown number."""
    meeting = await store.session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingError("meetings.error.not_found", id=meeting_id)
    return meeting


async def audience_ids(store: Store, audience: str, scope: str) -> list[int]:
    """Who a meeting invites. Refuses an audience that would invite nobody, so no meeting
    is called without anyone to attend it."""
    active = Staff.active.is_(True)
    if audience == "delegates":
        query = select(Staff.id).where(active, Staff.delegate.is_(True))
    elif audience == "delegation":
        query = select(Staff.id).where(active, Staff.delegate.is_(True), Staff.delegation == scope)
    elif audience == "committee":
        query = (
            select(Staff.id)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(active, StaffRole.role == "committee")
        )
    elif audience == "sub_union":
        query = select(Staff.id).where(active, Staff.sub_union == scope)
    else:
        numbers = [n for n in re.split(r"[\s,，;；]+", scope) if n]
        query = select(Staff.id).where(active, Staff.staff_no.in_(numbers))
    found = list(dict.fromkeys(await store.session.scalars(query.order_by(Staff.id))))
    if not found:
        raise MeetingError("meetings.error.nobody_invited")
    return found


async def create(
    store: Store,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    agenda: str,
    audience: str,
    scope: str,
    reminder_minutes: list[int] | None = None,
    documents: list[str] | None = None,
) -> Meeting:
    """A new meeting with its invitations and reminder times. Refuses one that ends before
    it starts or starts in the past, and one that would invite nobody."""
    if ends_at <= starts_at:
        raise MeetingError("meetings.error.end_before_start")
    if starts_at <= utcnow():
        raise MeetingError("meetings.error.in_the_past")
    invited = await audience_ids(store, audience, scope)
    now = utcnow()
    meeting = Meeting(
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        agenda=agenda or "",
        documents=list(documents or []),
        audience=audience,
        audience_scope=scope,
        reminder_minutes=list(reminder_minutes or DEFAULT_REMINDERS),
        status="scheduled",
        checkin_secret=secrets.token_hex(16),
        created_by=store.actor.staff_id,
        created_at=now,
        updated_at=now,
    )
    store.session.add(meeting)
    await store.session.flush()
    await _add_invitations(store, meeting, invited)
    await audit.record(
        store, "meeting.create", "meeting", meeting.id, title=title, invited=len(invited)
    )
    return meeting


async def _add_invitations(store: Store, meeting: Meeting, staff_ids: Sequence[int]) -> None:
    """An invitation row for each person; whether they count toward the quorum, and for
    which delegation, as the roster says now."""
    people = await store.session.execute(
        select(Staff.id, Staff.delegate, Staff.delegation).where(Staff.id.in_(list(staff_ids)))
    )
    for staff_id, delegate, delegation in people:
        store.session.add(
            Attendance(
                meeting_id=meeting.id,
                staff_id=staff_id,
                delegate=delegate,
                delegation=delegation,
                extra={},
            )
        )


def answer_buttons(meeting: Meeting) -> list[outbox.Button]:
    """Attend / ask for leave: what an invitation and a reminder to answer offer."""
    return [
        outbox.Button("meetings.button.attend", f"/meeting attend {meeting.id}"),
        outbox.Button("meetings.button.leave", f"/meeting leave {meeting.id}"),
    ]


@dataclass
class Invitee:
    staff_id: int
    staff_no: str
    name: str
    attendance: Attendance


async def invitees(store: Store, meeting_id: int) -> list[Invitee]:
    """Everyone invited, with their answers."""
    rows = await store.session.execute(
        select(Attendance, Staff.staff_no, Staff.name)
        .join(Staff, Staff.id == Attendance.staff_id)
        .where(Attendance.meeting_id == meeting_id)
        .order_by(Attendance.delegation, Staff.staff_no)
    )
    return [Invitee(a.staff_id, no, name, a) for a, no, name in rows]


async def attendance_of(store: Store, meeting_id: int, staff_id: int) -> Attendance:
    """This person's invitation. Refuses someone who is not invited."""
    found = await store.session.scalar(
        select(Attendance).where(
            Attendance.meeting_id == meeting_id, Attendance.staff_id == staff_id
        )
    )
    if found is None:
        raise MeetingError("meetings.error.not_invited", id=meeting_id)
    return found


async def my_meetings(
    store: Store, staff_id: int, since: datetime
) -> list[tuple[Meeting, Attendance]]:
    """The meetings this person is invited to, soonest first."""
    rows = await store.session.execute(
        select(Meeting, Attendance)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Attendance.staff_id == staff_id, Meeting.ends_at >= since)
        .order_by(Meeting.starts_at)
    )
    return [(m, a) for m, a in rows]


def _open(meeting: Meeting) -> None:
    if meeting.status != "scheduled":
        raise MeetingError("meetings.error.cancelled", id=meeting.id)
    if utcnow() >= meeting.starts_at:
        raise MeetingError("meetings.error.started", id=meeting.id)


async def answer(
    store: Store, meeting: Meeting, staff_id: int, attend: bool, reason: str | None = None
) -> Attendance:
    """Attend, or ask for leave; both can be changed until the meeting starts."""
    _open(meeting)
    row = await attendance_of(store, meeting.id, staff_id)
    row.answer = "attend" if attend else "leave"
    row.leave_reason = None if attend else reason
    row.leave_status = None if attend else ("pending" if row.delegation else "approved")
    row.answered_at = utcnow()
    await audit.record(store, "meeting.answer", "meeting", meeting.id, answer=row.answer)
    return row


@dataclass(frozen=True, slots=True)
class Approvers:
    """Who decides a delegate's leave: the delegation's head, named in the reply; or the
    school's officers (who may decide it too) when the one asking is the head, or the
    delegation has no active head, so that a request never waits for nobody."""

    staff_ids: list[int]
    names: list[str]
    why: str  # "head" | "own" (the head asks) | "no_head"


async def leave_approvers(store: Store, row: Attendance) -> Approvers:
    heads = (
        list(
            await store.session.execute(
                select(Staff.id, Staff.name)
                .join(StaffRole, StaffRole.staff_id == Staff.id)
                .where(
                    StaffRole.role == "head",
                    StaffRole.scope == row.delegation,
                    Staff.active.is_(True),
                )
                .order_by(Staff.staff_no)
            )
        )
        if row.delegation
        else []
    )
    others = [(i, n) for i, n in heads if i != row.staff_id]
    if others:
        return Approvers([i for i, _ in others], [n for _, n in others], why="head")
    return Approvers(await officers(store, None), [], why="own" if heads else "no_head")


async def decide_leave(
    store: Store, meeting: Meeting, staff_no: str, approve: bool
) -> tuple[Attendance, int]:
    """A delegation head approves or declines a leave request. Refuses an unknown staff
    number, someone who asked for no leave, and one's own request (a head's own leave is
    the school officers' to decide, `leave_approvers`)."""
    staff_id = await store.session.scalar(select(Staff.id).where(Staff.staff_no == staff_no))
    if staff_id is None:
        raise MeetingError("meetings.error.unknown_staff", staff_no=staff_no)
    if staff_id == store.actor.staff_id:
        raise MeetingError("meetings.error.own_leave")
    row = await attendance_of(store, meeting.id, staff_id)
    if row.answer != "leave":
        raise MeetingError("meetings.error.no_leave_request", staff_no=staff_no)
    row.leave_status = "approved" if approve else "declined"
    await audit.record(
        store, "meeting.leave_decision", "meeting", meeting.id, staff_no=staff_no, approved=approve
    )
    return row, staff_id


async def cancel(store: Store, meeting: Meeting, reason: str) -> list[int]:
    """Cancel the meeting and its reminders; returns who must be told. Refuses a meeting
    already cancelled."""
    if meeting.status == "cancelled":
        raise MeetingError("meetings.error.cancelled", id=meeting.id)
    meeting.status, meeting.cancel_reason, meeting.updated_at = "cancelled", reason, utcnow()
    await outbox.cancel_pending(store, f"meeting:{meeting.id}:remind:")
    await audit.record(store, "meeting.cancel", "meeting", meeting.id, reason=reason)
    return [i.staff_id for i in await invitees(store, meeting.id)]


async def change(
    store: Store,
    meeting: Meeting,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    place: str | None,
) -> dict[str, Any]:
    """Move a meeting; reminders for the old time are cancelled. Returns the old values."""
    _open(meeting)
    old = {"starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "place": meeting.place}
    if starts_at is not None:
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at = starts_at
        meeting.ends_at = ends_at or starts_at + length
    elif ends_at is not None:
        meeting.ends_at = ends_at
    if place:
        meeting.place = place
    if meeting.ends_at <= meeting.starts_at:
        raise MeetingError("meetings.error.end_before_start")
    meeting.updated_at = utcnow()
    await outbox.cancel_pending(store, f"meeting:{meeting.id}:remind:")
    await audit.record(
        store, "meeting.change", "meeting", meeting.id, old={k: str(v) for k, v in old.items()}
    )
    return old


async def set_agenda(store: Store, meeting: Meeting, agenda: str) -> None:
    _open(meeting)
    meeting.agenda = agenda
    meeting.updated_at = utcnow()
    await audit.record(store, "meeting.agenda", "meeting", meeting.id, length=len(agenda))


async def set_audience(
    store: Store, meeting: Meeting, audience: str, scope: str
) -> tuple[list[int], list[int]]:
    """Invite another audience: the people it adds get an invitation row, the people it
    drops lose theirs (and their pending reminders); the others keep their answers.
    Returns (added, removed). Refuses an audience that would invite nobody."""
    _open(meeting)
    wanted = set(await audience_ids(store, audience, scope))
    rows = {
        row.staff_id: row
        for row in await store.session.scalars(
            select(Attendance).where(Attendance.meeting_id == meeting.id)
        )
    }
    added = sorted(wanted - set(rows))
    removed = sorted(set(rows) - wanted)
    for staff_id in removed:
        await store.session.delete(rows[staff_id])
    await _add_invitations(store, meeting, added)
    meeting.audience, meeting.audience_scope = audience, scope
    meeting.updated_at = utcnow()
    await outbox.cancel_pending(store, f"meeting:{meeting.id}:remind:", recipients=removed)
    await store.session.flush()
    await audit.record(
        store,
        "meeting.audience",
        "meeting",
        meeting.id,
        audience=audience,
        scope=scope,
        added=len(added),
        removed=len(removed),
    )
    return added, removed


async def check_in(store: Store, meeting: Meeting, staff_id: int, code: str) -> Attendance:
    """Sign in with the code shown in the room (late sign-ins are marked). Refuses a
    cancelled or ended meeting, a wrong code, and too many wrong codes in a row."""
    if meeting.status != "scheduled":
        raise MeetingError("meetings.error.cancelled", id=meeting.id)
    row = await attendance_of(store, meeting.id, staff_id)
    now = utcnow()
    failures = [
        t
        for t in row.extra.get("checkin_failures", [])
        if datetime.fromisoformat(t) > now - CHECKIN_WINDOW
    ]
    if len(failures) >= CHECKIN_FAILURES:
        raise MeetingError("meetings.error.checkin_throttled")
    if now > meeting.ends_at:
        raise MeetingError("meetings.error.ended", id=meeting.id)
    if not checkin.is_valid(meeting.checkin_secret, code, now):
        row.extra = {**row.extra, "checkin_failures": [*failures, now.isoformat()]}
        await audit.record(store, "meeting.checkin_failed", "meeting", meeting.id)
        raise MeetingError("meetings.error.wrong_code")
    if row.checked_in_at is None:
        row.checked_in_at = now
        row.late = now > meeting.starts_at
        await audit.record(store, "meeting.checkin", "meeting", meeting.id, late=row.late)
    return row


@dataclass
class RollLine:
    """Each invitee who counts is in exactly one bucket, so the buckets add up to `expected`."""

    expected: int = 0
    confirmed: int = 0  # will attend (answered so, or their leave was declined)
    on_leave: int = 0  # leave approved
    checked_in: int = 0
    absent: int = 0  # the meeting started, and neither signed in nor on leave
    unanswered: int = 0  # no answer yet, or a leave request not yet decided

    def add(self, bucket: str) -> None:
        self.expected += 1
        setattr(self, bucket, getattr(self, bucket) + 1)


def bucket(answer: str, leave_status: str | None, checked_in: bool, started: bool) -> str:
    """The one bucket of the roll an invitee is in, now."""
    if checked_in:
        return "checked_in"
    if answer == "leave" and leave_status == "approved":
        return "on_leave"
    if started:
        return "absent"
    if answer == "attend" or (answer == "leave" and leave_status == "declined"):
        return "confirmed"
    return "unanswered"


@dataclass
class Roll:
    by_delegation: dict[str, RollLine] = field(default_factory=dict)
    total: RollLine = field(default_factory=RollLine)
    needed: int = 0

    @property
    def confirmed_reaches_quorum(self) -> bool:
        """Before the start: those who will come (and any who signed in early)."""
        return quorum.reached(self.total.confirmed + self.total.checked_in, self.total.expected)

    @property
    def checked_in_reaches_quorum(self) -> bool:
        return quorum.reached(self.total.checked_in, self.total.expected)


async def roll(store: Store, meeting: Meeting) -> Roll:
    """Expected, confirmed, on leave, signed in, absent and unanswered, per delegation,
    with the quorum."""
    result = Roll()
    started = utcnow() >= meeting.starts_at
    for invitee in await invitees(store, meeting.id):
        row = invitee.attendance
        if not quorum.counts(meeting.kind, row.delegate):
            continue
        where = bucket(row.answer, row.leave_status, row.checked_in_at is not None, started)
        result.by_delegation.setdefault(row.delegation or "—", RollLine()).add(where)
        result.total.add(where)
    result.needed = quorum.needed(result.total.expected)
    return result


# ---------------------------------------------------------------- reminders and alerts


def meeting_params(meeting: Meeting) -> dict[str, Any]:
    """What every notice about a meeting can say (its name, time and place)."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "place": meeting.place,
        "_at": meeting.starts_at.isoformat(),
    }


async def due_reminders(store: Store, now: datetime, tz: tzinfo) -> int:
    """Turn every reminder whose time has come into outbox rows, once (unique reasons).

    The start time is part of the reason, so a moved meeting gets fresh reminders while the
    old ones were cancelled. Approved leave means no more reminders; people who have not
    answered get the RSVP ask with buttons again.
    """
    meetings = list(
        await store.session.scalars(
            select(Meeting).where(
                Meeting.status == "scheduled", Meeting.starts_at > now - REMINDER_GRACE
            )
        )
    )
    queued = 0
    for meeting in meetings:
        for minutes in meeting.reminder_minutes:
            # Wall-clock arithmetic in the union's zone: "1 day before" a 10:00 meeting is 10:00
            # the day before, also across a daylight-saving change.
            fire_at = meeting.starts_at.astimezone(tz) - timedelta(minutes=int(minutes))
            if fire_at > now or fire_at < meeting.created_at - REMINDER_GRACE:
                continue  # not yet; or its time had passed before the meeting was even created
            urgent = fire_at.astimezone(tz).date() == meeting.starts_at.astimezone(tz).date()
            reason = f"meeting:{meeting.id}:remind:{minutes}:{meeting.starts_at.isoformat()}"
            invited = select(Attendance.staff_id).where(Attendance.meeting_id == meeting.id)
            answered = invited.where(
                Attendance.answer != "none",
                ~((Attendance.answer == "leave") & (Attendance.leave_status == "approved")),
            )
            rsvp = outbox.with_buttons(meeting_params(meeting), answer_buttons(meeting))
            for recipients, key, params in (
                (answered, "meetings.notify.remind", meeting_params(meeting)),
                (invited.where(Attendance.answer == "none"), "meetings.notify.remind_rsvp", rsvp),
            ):
                queued += await outbox.enqueue_select(
                    store,
                    recipients,
                    reason=reason,
                    message_key=key,
                    why_key="meetings.why.invited",
                    params=params,
                    urgent=urgent,
                    not_before=fire_at,
                    grace=REMINDER_GRACE,
                )
    return queued


async def quorum_alerts(store: Store, now: datetime) -> int:
    """Tell officers when a meeting that needs a quorum looks like missing it: the day
    before on confirmations, and at the start on sign-ins. A staff congress goes to the
    school's officers; a college's congress (二级教代会) to its own sub-union's officers
    (the school's when it has none). Once per meeting, occasion and start time."""
    school = list(
        dict.fromkeys(
            await store.session.scalars(
                select(StaffRole.staff_id).where(StaffRole.role == "officer", StaffRole.scope == "")
            )
        )
    )
    meetings = list(
        await store.session.scalars(
            select(Meeting).where(
                Meeting.status == "scheduled",
                Meeting.kind.in_(quorum.QUORATE),
                Meeting.starts_at <= now + timedelta(days=1),
                Meeting.ends_at >= now,
            )
        )
    )
    sent = 0
    for meeting in meetings:
        figures = await roll(store, meeting)
        if figures.total.expected == 0:
            continue
        started = now >= meeting.starts_at
        if started and not figures.checked_in_reaches_quorum:
            occasion, count = "checkin", figures.total.checked_in
        elif not started and not figures.confirmed_reaches_quorum:
            occasion, count = "confirmed", figures.total.confirmed + figures.total.checked_in
        else:
            continue
        told, why = school, "meetings.why.officer"
        if meeting.kind == "college" and meeting.audience == "sub_union":
            own = list(
                dict.fromkeys(
                    await store.session.scalars(
                        select(StaffRole.staff_id).where(
                            StaffRole.role == "officer",
                            StaffRole.scope == meeting.audience_scope,
                        )
                    )
                )
            )
            if own:
                told, why = own, "meetings.why.sub_union_officer"
        for officer in told:
            sent += await outbox.enqueue(
                store,
                reason=f"meeting:{meeting.id}:quorum:{occasion}:{meeting.starts_at.isoformat()}",
                recipient_id=officer,
                message_key=f"meetings.notify.quorum_{occasion}",
                why_key=why,
                urgent=True,
                alert=True,
                params={
                    **meeting_params(meeting),
                    "count": count,
                    "expected": figures.total.expected,
                    "needed": figures.needed,
                    "sub_union": meeting.audience_scope,
                },
            )
    return sent


async def announce(store: Store, meeting: Meeting, occasion: str) -> int:
    """Post `occasion` (announced, changed, cancelled) to the group chats registered for the
    meeting's audience: its delegation's or sub-union's groups, every delegation's for all
    delegates. Only the meeting's name, time and place: a group is not the place for who
    answered what. Returns how many groups were queued."""
    if meeting.audience == "delegates":
        found = [g for g in await groups.all_groups(store) if g.kind == "delegation"]
    elif meeting.audience in ("delegation", "sub_union"):
        found = await groups.groups_for(store, meeting.audience, meeting.audience_scope)
    else:
        return 0
    queued = 0
    for group in found:
        queued += await outbox.announce(
            store,
            group,
            reason=f"meeting:{meeting.id}:group:{occasion}:{meeting.updated_at.isoformat()}",
            message_key=f"meetings.notify.group_{occasion}",
            why_key="meetings.why.group",
            params={**meeting_params(meeting), "group": group.scope},
        )
    return queued


async def tell(
    store: Store,
    meeting: Meeting,
    occasion: str,
    recipients: list[int],
    key: str,
    why: str,
    *,
    buttons: Sequence[outbox.Button] = (),
    **extra: Any,
) -> None:
    """Tell each recipient (but not the person acting) about `occasion`, once each; meeting
    notices are urgent, so quiet hours do not hold them back."""
    await outbox.tell_each(
        store,
        recipients,
        reason=f"meeting:{meeting.id}:{occasion}",
        message_key=f"meetings.notify.{key}",
        why_key=f"meetings.why.{why}",
        params=outbox.with_buttons({**meeting_params(meeting), **extra}, buttons),
        urgent=True,
    )
