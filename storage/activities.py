"""Activities and competitions: publishing, signing up, the waiting list, quotas, sign-in,
results; and clubs.

Signing up is decided under a lock on the activity (PostgreSQL's `FOR UPDATE`; SQLite has
one writer), so when hundreds press "join" at once exactly `capacity` are confirmed and the
rest wait in the order they came. When someone leaves, the first waiting moves up and is
told. Under a quota (each sub-union sends at most N) a sign-up is a proposal until the
sub-union's officer confirms it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, case, func, select

from storage import audiences, audit, outbox
from storage.clock import utcnow
from storage.errors import ActivityError
from storage.meetings import checkin
from storage.models import Activity, ClubMember, Signup, Staff, StaffRole
from storage.store import Store

KINDS = ("sports", "arts", "teaching", "skills", "club", "other")
AUDIENCES = ("everyone", "sub_union", "delegates", "club")
CONFIRMED, WAITING, PROPOSED, LEFT, DECLINED = (
    "confirmed",
    "waiting",
    "proposed",
    "left",
    "declined",
)
ACTIVE = (CONFIRMED, WAITING, PROPOSED)
REMINDER_BEFORE = timedelta(days=1)
REMINDER_GRACE = timedelta(hours=6)


async def get(store: Store, activity_id: int) -> Activity:
    found = await store.session.get(Activity, activity_id)
    if found is None:
        raise ActivityError("activities.error.not_found", id=activity_id)
    return found


def _audience(activity: Activity) -> ColumnElement[bool]:
    return audiences.condition(activity.audience, activity.audience_scope, activity.club_id)


@dataclass(frozen=True, slots=True)
class Draft:
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    place: str
    signup_deadline: datetime
    audience: str = "everyone"
    audience_scope: str = ""
    organiser_scope: str = ""
    club_id: int | None = None
    capacity: int | None = None
    teams: bool = False
    quota: int | None = None
    details: str = ""


async def publish(store: Store, draft: Draft) -> tuple[Activity, int]:
    """A new activity, announced at once to everyone it is for. Refuses times that do not
    fit together, and an audience with nobody in it."""
    now = utcnow()
    if draft.kind not in KINDS:
        raise ActivityError("activities.error.kind", allowed=", ".join(KINDS))
    if draft.ends_at <= draft.starts_at:
        raise ActivityError("activities.error.end_before_start")
    if draft.starts_at <= now:
        raise ActivityError("activities.error.in_past")
    if not now < draft.signup_deadline <= draft.starts_at:
        raise ActivityError("activities.error.deadline")
    if draft.capacity is not None and draft.capacity < 1:
        raise ActivityError("activities.error.capacity")
    if draft.quota is not None and draft.quota < 1:
        raise ActivityError("activities.error.quota")
    # Checked before anything is written: a refusal keeps what its unit of work wrote.
    audience = audiences.condition(draft.audience, draft.audience_scope, draft.club_id)
    if not await store.session.scalar(select(func.count()).where(audience)):
        raise ActivityError("activities.error.nobody")
    activity = Activity(
        title=draft.title,
        kind=draft.kind,
        organiser_scope=draft.organiser_scope,
        club_id=draft.club_id,
        audience=draft.audience,
        audience_scope=draft.audience_scope,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        place=draft.place,
        details=draft.details,
        capacity=draft.capacity,
        signup_deadline=draft.signup_deadline,
        teams=draft.teams,
        quota=draft.quota,
        status="open",
        checkin_secret=secrets.token_hex(16),
        created_by=store.actor.staff_id,
        created_at=now,
    )
    store.session.add(activity)
    await store.session.flush()
    told = await outbox.enqueue_select(
        store,
        select(Staff.id).where(audience),
        reason=f"activity:{activity.id}:published",
        message_key="activities.notify.published",
        why_key="activities.why.audience",
        params=outbox.with_buttons(
            params(activity),
            [outbox.Button("activities.button.join", f"/activity join {activity.id}")],
        ),
    )
    await audit.record(store, "activity.publish", "activity", activity.id, title=activity.title)
    return activity, told


def params(activity: Activity) -> dict[str, object]:
    return {
        "id": activity.id,
        "title": activity.title,
        "place": activity.place,
        "_at": activity.starts_at.isoformat(),
    }


async def may_join(store: Store, activity: Activity, staff_id: int) -> None:
    in_audience = await store.session.scalar(
        select(Staff.id).where(Staff.id == staff_id, _audience(activity))
    )
    if in_audience is None:
        raise ActivityError("activities.error.not_for_you", id=activity.id)


async def _locked(store: Store, activity_id: int) -> Activity:
    """The activity, locked until the end of the unit of work (PostgreSQL): sign-ups to it
    are decided one at a time."""
    found = await store.session.scalar(
        select(Activity).where(Activity.id == activity_id).with_for_update()
    )
    if found is None:
        raise ActivityError("activities.error.not_found", id=activity_id)
    return found


async def _count(store: Store, activity_id: int, status: str, sub_union: str | None = None) -> int:
    query = select(func.count()).where(Signup.activity_id == activity_id, Signup.status == status)
    if sub_union is not None:
        query = query.where(Signup.sub_union == sub_union)
    return int(await store.session.scalar(query) or 0)


async def join(store: Store, activity_id: int, staff_id: int, team: str | None) -> Signup:
    """Sign up: confirmed while there is room, else on the waiting list; under a quota,
    proposed to the sub-union's officer. Refuses after the deadline, a second sign-up,
    and a missing team name where teams are asked for."""
    activity = await _locked(store, activity_id)
    if activity.status != "open":
        raise ActivityError("activities.error.cancelled", id=activity.id)
    if utcnow() > activity.signup_deadline:
        raise ActivityError("activities.error.deadline_passed", id=activity.id)
    await may_join(store, activity, staff_id)
    if activity.teams and not team:
        raise ActivityError("activities.error.team_needed", id=activity.id)
    found = await store.session.scalar(
        select(Signup).where(Signup.activity_id == activity.id, Signup.staff_id == staff_id)
    )
    if found is not None and found.status in ACTIVE:
        raise ActivityError("activities.error.already", id=activity.id, status=found.status)
    sub_union = await store.session.scalar(select(Staff.sub_union).where(Staff.id == staff_id))
    if activity.quota is not None:
        status = PROPOSED
    elif (
        activity.capacity is None or await _count(store, activity.id, CONFIRMED) < activity.capacity
    ):
        status = CONFIRMED
    else:
        status = WAITING
    if found is None:
        found = Signup(activity_id=activity.id, staff_id=staff_id)
        store.session.add(found)
    found.sub_union = sub_union or ""
    found.team = team
    found.status = status
    found.signed_at = utcnow()
    found.result = None
    await audit.record(store, "activity.join", "activity", activity.id, status=status)
    await store.session.flush()
    if status == PROPOSED:
        await _tell_sub_union_officers(store, activity, found)
    return found


async def _tell_sub_union_officers(store: Store, activity: Activity, signup: Signup) -> None:
    officers = list(
        await store.session.scalars(
            select(StaffRole.staff_id).where(
                StaffRole.role == "officer", StaffRole.scope == signup.sub_union
            )
        )
    )
    staff_no, name = (
        await store.session.execute(
            select(Staff.staff_no, Staff.name).where(Staff.id == signup.staff_id)
        )
    ).one()
    await outbox.tell_each(
        store,
        officers,
        reason=f"activity:{activity.id}:proposed:{signup.staff_id}",
        message_key="activities.notify.proposed",
        why_key="activities.why.sub_union_officer",
        params=outbox.with_buttons(
            {**params(activity), "name": name, "quota": activity.quota},
            [
                outbox.Button(
                    "activities.button.confirm", f"/activity confirm {activity.id} {staff_no}"
                )
            ],
        ),
    )


async def leave(store: Store, activity_id: int, staff_id: int) -> Signup | None:
    """Take back a sign-up before the deadline; returns whoever moved up from the waiting
    list into the place (they are told)."""
    activity = await _locked(store, activity_id)
    if utcnow() > activity.signup_deadline:
        raise ActivityError("activities.error.deadline_passed", id=activity.id)
    found = await store.session.scalar(
        select(Signup).where(
            Signup.activity_id == activity.id,
            Signup.staff_id == staff_id,
            Signup.status.in_(ACTIVE),
        )
    )
    if found is None:
        raise ActivityError("activities.error.not_signed", id=activity.id)
    was = found.status
    found.status = LEFT
    await audit.record(store, "activity.leave", "activity", activity.id)
    await store.session.flush()
    if was != CONFIRMED:
        return None
    return await _move_up(store, activity)


async def _move_up(store: Store, activity: Activity) -> Signup | None:
    if (
        activity.capacity is not None
        and await _count(store, activity.id, CONFIRMED) >= activity.capacity
    ):
        return None
    first = await store.session.scalar(
        select(Signup)
        .where(Signup.activity_id == activity.id, Signup.status == WAITING)
        .order_by(Signup.signed_at, Signup.id)
        .limit(1)
    )
    if first is None:
        return None
    first.status = CONFIRMED
    await outbox.enqueue(
        store,
        reason=f"activity:{activity.id}:moved_up:{first.staff_id}:{first.signed_at.isoformat()}",
        recipient_id=first.staff_id,
        message_key="activities.notify.moved_up",
        why_key="activities.why.waiting",
        params=params(activity),
        urgent=True,
    )
    await store.session.flush()
    return first


async def confirm(
    store: Store, activity_id: int, staff_no: str, officer_scopes: set[str | None]
) -> Signup:
    """A sub-union officer (or the school's) confirms who goes under the quota. Refuses
    beyond the quota, and someone of another sub-union."""
    activity = await _locked(store, activity_id)
    found = await store.session.scalar(
        select(Signup)
        .join(Staff, Staff.id == Signup.staff_id)
        .where(Signup.activity_id == activity.id, Staff.staff_no == staff_no)
    )
    if found is None or found.status not in (PROPOSED, WAITING):
        raise ActivityError(
            "activities.error.nothing_to_confirm", id=activity.id, staff_no=staff_no
        )
    if None not in officer_scopes and found.sub_union not in officer_scopes:
        raise ActivityError("activities.error.not_your_sub_union", sub_union=found.sub_union)
    if activity.quota is not None:
        taken = await _count(store, activity.id, CONFIRMED, found.sub_union)
        if taken >= activity.quota:
            raise ActivityError(
                "activities.error.quota_full", quota=activity.quota, sub_union=found.sub_union
            )
    if (
        activity.capacity is not None
        and await _count(store, activity.id, CONFIRMED) >= activity.capacity
    ):
        raise ActivityError("activities.error.full", capacity=activity.capacity)
    found.status = CONFIRMED
    await outbox.enqueue(
        store,
        reason=f"activity:{activity.id}:confirmed:{found.staff_id}",
        recipient_id=found.staff_id,
        message_key="activities.notify.confirmed",
        why_key="activities.why.signed_up",
        params=params(activity),
    )
    await audit.record(store, "activity.confirm", "activity", activity.id, staff_no=staff_no)
    return found


async def check_in(store: Store, activity: Activity, staff_id: int, code: str) -> Signup:
    """Sign in on the day with the rotating code, as at meetings."""
    now = utcnow()
    if not activity.starts_at - timedelta(hours=1) <= now <= activity.ends_at:
        raise ActivityError("activities.error.checkin_closed", id=activity.id)
    if not checkin.is_valid(activity.checkin_secret, code, now):
        raise ActivityError("activities.error.wrong_code")
    found = await store.session.scalar(
        select(Signup).where(
            Signup.activity_id == activity.id,
            Signup.staff_id == staff_id,
            Signup.status == CONFIRMED,
        )
    )
    if found is None:
        raise ActivityError("activities.error.not_confirmed", id=activity.id)
    found.checked_in_at = found.checked_in_at or now
    await audit.record(store, "activity.checkin", "activity", activity.id)
    return found


async def record_result(store: Store, activity: Activity, staff_no: str, result: str) -> Signup:
    """An award or a place for a participant: told to them, kept on their record."""
    found = await store.session.scalar(
        select(Signup)
        .join(Staff, Staff.id == Signup.staff_id)
        .where(
            Signup.activity_id == activity.id,
            Staff.staff_no == staff_no,
            Signup.status == CONFIRMED,
        )
    )
    if found is None:
        raise ActivityError("activities.error.not_participant", staff_no=staff_no)
    found.result = result
    await outbox.enqueue(
        store,
        reason=f"activity:{activity.id}:result:{found.staff_id}:{result}",
        recipient_id=found.staff_id,
        message_key="activities.notify.result",
        why_key="activities.why.participant",
        params={**params(activity), "result": result},
    )
    await audit.record(store, "activity.result", "activity", activity.id, staff_no=staff_no)
    return found


async def announce_results(store: Store, activity: Activity) -> int:
    """Every result so far, to everyone who took part; once per set of results (a later
    correction is announced again). Refuses when nothing is recorded."""
    rows = list(
        await store.session.execute(
            select(Staff.name, Signup.sub_union, Signup.result)
            .join(Staff, Staff.id == Signup.staff_id)
            .where(Signup.activity_id == activity.id, Signup.result.is_not(None))
            .order_by(Signup.result, Staff.name)
        )
    )
    if not rows:
        raise ActivityError("activities.error.no_results_yet", id=activity.id)
    lines = "\n".join(f"{name} · {sub_union} · {result}" for name, sub_union, result in rows)
    version = hashlib.sha256(lines.encode()).hexdigest()[:12]
    going = select(Signup.staff_id).where(
        Signup.activity_id == activity.id, Signup.status == CONFIRMED
    )
    told = await outbox.enqueue_select(
        store,
        going,
        reason=f"activity:{activity.id}:results:{version}",
        message_key="activities.notify.results",
        why_key="activities.why.participant",
        params={**params(activity), "results": lines},
    )
    await audit.record(store, "activity.announce", "activity", activity.id, count=len(rows))
    return told


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Listed:
    activity: Activity
    confirmed: int
    mine: str | None  # my sign-up's status


async def open_for(store: Store, staff_id: int, now: datetime) -> list[Listed]:
    """Activities I may join (or have joined) that have not ended, soonest first."""
    activities = list(
        await store.session.scalars(
            select(Activity)
            .where(Activity.status == "open", Activity.ends_at > now)
            .order_by(Activity.starts_at, Activity.id)
            .limit(100)
        )
    )
    ids = [a.id for a in activities]
    counts = dict(
        (
            await store.session.execute(
                select(Signup.activity_id, func.count())
                .where(Signup.activity_id.in_(ids), Signup.status == CONFIRMED)
                .group_by(Signup.activity_id)
            )
        ).all()
    )
    mine = dict(
        (
            await store.session.execute(
                select(Signup.activity_id, Signup.status).where(
                    Signup.activity_id.in_(ids), Signup.staff_id == staff_id
                )
            )
        ).all()
    )
    person = (
        await store.session.execute(
            select(Staff.active, Staff.sub_union, Staff.delegate).where(Staff.id == staff_id)
        )
    ).one()
    member_of = set(
        await store.session.scalars(
            select(ClubMember.club_id).where(ClubMember.staff_id == staff_id)
        )
    )
    allowed = {
        a.id
        for a in activities
        if person.active
        and (
            a.audience == "everyone"
            or (a.audience == "sub_union" and a.audience_scope == person.sub_union)
            or (a.audience == "delegates" and person.delegate)
            or (a.audience == "club" and a.club_id in member_of)
        )
    }
    return [
        Listed(a, int(counts.get(a.id, 0)), mine.get(a.id))
        for a in activities
        if a.id in allowed or a.id in mine
    ]


@dataclass(frozen=True, slots=True)
class Person:
    staff_no: str
    name: str
    sub_union: str
    status: str
    team: str | None
    checked_in: bool
    result: str | None


async def signups(store: Store, activity_id: int) -> list[Person]:
    rows = await store.session.execute(
        select(Signup, Staff.staff_no, Staff.name)
        .join(Staff, Staff.id == Signup.staff_id)
        .where(Signup.activity_id == activity_id, Signup.status.in_(ACTIVE))
        .order_by(Signup.status, Signup.signed_at, Signup.id)
    )
    return [
        Person(no, name, s.sub_union, s.status, s.team, s.checked_in_at is not None, s.result)
        for s, no, name in rows
    ]


@dataclass(frozen=True, slots=True)
class Taken:
    activity: Activity
    checked_in: bool
    result: str | None


async def record_of(store: Store, staff_id: int, year: int, tz: tzinfo) -> list[Taken]:
    """What this person took part in during `year` (in the union's zone)."""
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    rows = await store.session.execute(
        select(Activity, Signup.checked_in_at, Signup.result)
        .join(Signup, Signup.activity_id == Activity.id)
        .where(
            Signup.staff_id == staff_id,
            Signup.status == CONFIRMED,
            Activity.status == "open",
            Activity.starts_at >= start,
            Activity.starts_at < end,
        )
        .order_by(Activity.starts_at)
    )
    return [Taken(a, at is not None, result) for a, at, result in rows]


async def due_reminders(store: Store, now: datetime) -> int:
    """The day before: time and place, to everyone confirmed, once."""
    queued = 0
    soon = await store.session.scalars(
        select(Activity).where(
            Activity.status == "open",
            Activity.starts_at > now,
            Activity.starts_at <= now + REMINDER_BEFORE,
        )
    )
    for activity in list(soon):
        going = select(Signup.staff_id).where(
            Signup.activity_id == activity.id, Signup.status == CONFIRMED
        )
        queued += await outbox.enqueue_select(
            store,
            going,
            reason=f"activity:{activity.id}:remind:{activity.starts_at.isoformat()}",
            message_key="activities.notify.remind",
            why_key="activities.why.signed_up",
            params=params(activity),
            not_before=activity.starts_at - REMINDER_BEFORE,
            grace=REMINDER_GRACE,
        )
    return queued


async def participation(store: Store, year: int, tz: tzinfo) -> list[dict[str, object]]:
    """Per activity and sub-union: signed up, confirmed, signed in, with a result. The raw
    numbers of the yearly assessment of sub-unions (article 18)."""
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    rows = await store.session.execute(
        select(
            Activity.id,
            Activity.title,
            Activity.kind,
            Activity.starts_at,
            Signup.sub_union,
            func.count(),
            func.sum(case((Signup.status == CONFIRMED, 1), else_=0)),
            func.count(Signup.checked_in_at),
            func.count(Signup.result),
        )
        .join(Signup, Signup.activity_id == Activity.id)
        .where(
            Activity.starts_at >= start,
            Activity.starts_at < end,
            Signup.status.in_((CONFIRMED, WAITING, PROPOSED)),
        )
        .group_by(Activity.id, Activity.title, Activity.kind, Activity.starts_at, Signup.sub_union)
        .order_by(Activity.starts_at, Activity.id, Signup.sub_union)
    )
    return [
        {
            "activity": activity_id,
            "title": title,
            "kind": kind,
            "date": starts_at.astimezone(tz).date().isoformat(),
            "sub_union": sub_union,
            "signed_up": int(signed),
            "confirmed": int(confirmed or 0),
            "signed_in": int(signed_in),
            "with_result": int(results),
        }
        for (
            activity_id,
            title,
            kind,
            starts_at,
            sub_union,
            signed,
            confirmed,
            signed_in,
            results,
        ) in rows
    ]
