"""Proposal services: filing, seconding, review, assignment, replies, rating, supervision.

Every change goes through `_move` (the state machine, the history row and the audit
log together). Problems the person can fix raise `ProposalError` with a catalogue key;
the chat layer says it in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from storage import audit
from storage.clock import utcnow
from storage.errors import ProposalError
from storage.models import (
    CongressSession,
    Proposal,
    ProposalEvent,
    ProposalPerson,
    Staff,
    StaffRole,
)
from storage.proposals.rules import ProposalRules
from storage.proposals.state import (
    NOT_COUNTED,
    PUBLIC,
    WITH_DEPARTMENT,
    Action,
    Status,
    next_state,
)
from storage.store import Store

GRADES = ("A", "B", "C", "D")
SATISFACTION = ("satisfied", "basic", "unsatisfied")


# ---------------------------------------------------------------- sessions


async def current_session(store: Store) -> CongressSession | None:
    """The newest session: proposals are filed into it."""
    return await store.session.scalar(
        select(CongressSession).order_by(CongressSession.opens_on.desc(), CongressSession.id.desc())
    )


async def session_by_name(store: Store, name: str) -> CongressSession | None:
    return await store.session.scalar(select(CongressSession).where(CongressSession.name == name))


def window_open(session: CongressSession | None, today: date) -> bool:
    return (
        session is not None
        and session.closed_at is None
        and session.opens_on <= today <= session.closes_on
    )


async def open_session(store: Store, name: str, opens_on: date, closes_on: date) -> CongressSession:
    if closes_on < opens_on:
        raise ProposalError("proposals.error.window_order")
    session = await session_by_name(store, name)
    if session is None:
        session = CongressSession(
            name=name, opens_on=opens_on, closes_on=closes_on, created_at=utcnow()
        )
        store.session.add(session)
    else:
        session.opens_on, session.closes_on, session.closed_at = opens_on, closes_on, None
    await store.session.flush()
    await audit.record(
        store,
        "session.open",
        "congress_session",
        session.id,
        name=name,
        opens_on=opens_on.isoformat(),
        closes_on=closes_on.isoformat(),
    )
    return session


async def close_session(store: Store) -> CongressSession:
    session = await current_session(store)
    if session is None or session.closed_at is not None:
        raise ProposalError("proposals.error.no_open_session")
    session.closed_at = utcnow()
    await audit.record(store, "session.close", "congress_session", session.id)
    return session


# ---------------------------------------------------------------- reading


async def get(store: Store, proposal_id: int) -> Proposal:
    proposal = await store.session.get(Proposal, proposal_id)
    if proposal is None:
        raise ProposalError("proposals.error.not_found", id=proposal_id)
    return proposal


@dataclass(frozen=True, slots=True)
class Person:
    staff_id: int
    staff_no: str
    name: str
    role: str
    answer: str


async def people(store: Store, proposal_id: int) -> list[Person]:
    rows = await store.session.execute(
        select(
            ProposalPerson.staff_id,
            Staff.staff_no,
            Staff.name,
            ProposalPerson.role,
            ProposalPerson.answer,
        )
        .join(Staff, Staff.id == ProposalPerson.staff_id)
        .where(ProposalPerson.proposal_id == proposal_id)
        .order_by(ProposalPerson.id)
    )
    return [Person(*row) for row in rows]


def proposers(everyone: list[Person]) -> list[Person]:
    return [p for p in everyone if p.role == "proposer"]


def seconders(everyone: list[Person], answer: str = "accepted") -> list[Person]:
    return [p for p in everyone if p.role == "seconder" and p.answer == answer]


async def history(store: Store, proposal_id: int) -> list[tuple[ProposalEvent, str | None]]:
    rows = await store.session.execute(
        select(ProposalEvent, Staff.name)
        .outerjoin(Staff, Staff.id == ProposalEvent.actor_id)
        .where(ProposalEvent.proposal_id == proposal_id)
        .order_by(ProposalEvent.at, ProposalEvent.id)
    )
    return [(event, name) for event, name in rows]


async def can_see(
    store: Store, proposal: Proposal, staff_id: int, *, overseer: bool, departments: set[str]
) -> bool:
    """Accepted proposals are public; drafts and pending ones only to the people on them,
    the committee and officers (not drafts), and the departments handling them."""
    if proposal.status in PUBLIC:
        return True
    on_it = await store.session.scalar(
        select(func.count())
        .select_from(ProposalPerson)
        .where(ProposalPerson.proposal_id == proposal.id, ProposalPerson.staff_id == staff_id)
    )
    if on_it or proposal.proposer_id == staff_id:
        return True
    if proposal.status == Status.DRAFT:
        return False
    return overseer or bool(departments & {proposal.lead_department or ""})


# ---------------------------------------------------------------- changing


async def _move(store: Store, proposal: Proposal, action: Action, **detail: Any) -> Status:
    before = proposal.status
    after = next_state(before, action)
    proposal.status = after
    proposal.updated_at = utcnow()
    store.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            at=proposal.updated_at,
            actor_id=store.actor.staff_id,
            action=action.value,
            from_status=before,
            to_status=after.value,
            detail=detail,
        )
    )
    await audit.record(
        store,
        f"proposal.{action.value}",
        "proposal",
        proposal.id,
        from_status=before,
        to_status=after.value,
        **detail,
    )
    return after


def _require_owner(proposal: Proposal, staff_id: int) -> None:
    if proposal.proposer_id != staff_id:
        raise ProposalError("proposals.error.not_yours", id=proposal.id)


async def create(
    store: Store, *, proposer_id: int, is_delegate: bool, today: date, fields: dict[str, Any]
) -> Proposal:
    """A new draft. A delegate inside the collection window files a proposal; anyone else,
    or a delegate outside the window, files a suggestion (意见建议)."""
    session = await current_session(store)
    kind = "proposal" if is_delegate and window_open(session, today) else "suggestion"
    now = utcnow()
    proposal = Proposal(
        session_id=session.id if session else None,
        kind=kind,
        status=Status.DRAFT,
        title=fields["title"],
        reasons=fields.get("reasons") or "",
        measures=fields.get("measures") or "",
        category=fields["category"],
        suggested_department=fields.get("department"),
        proposer_id=proposer_id,
        created_at=now,
        updated_at=now,
        supporting_departments=[],
    )
    store.session.add(proposal)
    await store.session.flush()
    store.session.add(
        ProposalPerson(
            proposal_id=proposal.id,
            staff_id=proposer_id,
            role="proposer",
            answer="accepted",
            invited_at=now,
            answered_at=now,
        )
    )
    store.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            at=now,
            actor_id=store.actor.staff_id,
            action="create",
            from_status="",
            to_status=Status.DRAFT,
            detail={"kind": kind},
        )
    )
    await audit.record(store, "proposal.create", "proposal", proposal.id, kind=kind)
    return proposal


async def edit(store: Store, proposal: Proposal, staff_id: int, fields: dict[str, Any]) -> None:
    _require_owner(proposal, staff_id)
    await _move(store, proposal, Action.EDIT, fields=sorted(fields))
    proposal.title = fields["title"]
    proposal.reasons = fields.get("reasons") or ""
    proposal.measures = fields.get("measures") or ""
    proposal.category = fields["category"]
    proposal.suggested_department = fields.get("department")


async def delete_draft(store: Store, proposal: Proposal, staff_id: int) -> None:
    _require_owner(proposal, staff_id)
    if proposal.status != Status.DRAFT:
        raise ProposalError("proposals.error.only_drafts", id=proposal.id)
    await audit.record(store, "proposal.delete", "proposal", proposal.id, title=proposal.title)
    await store.session.delete(proposal)


async def invite(
    store: Store, proposal: Proposal, staff_id: int, staff_nos: list[str]
) -> tuple[list[Person], list[str]]:
    """Invite delegates to second; returns who was invited and what was refused (with why)."""
    _require_owner(proposal, staff_id)
    if proposal.kind != "proposal":
        raise ProposalError("proposals.error.suggestion_no_seconders")
    rows = {
        row.staff_no: row
        for row in await store.session.execute(
            select(Staff.id, Staff.staff_no, Staff.name, Staff.delegate).where(
                Staff.staff_no.in_(staff_nos), Staff.active.is_(True)
            )
        )
    }
    existing = {p.staff_id: p for p in await people(store, proposal.id)}
    invited: list[Person] = []
    refused: list[str] = []
    now = utcnow()
    for staff_no in dict.fromkeys(staff_nos):
        row = rows.get(staff_no)
        if row is None:
            refused.append(f"{staff_no}:unknown")
        elif not row.delegate:
            refused.append(f"{staff_no}:not_delegate")
        elif row.id in existing and existing[row.id].answer != "declined":
            refused.append(f"{staff_no}:already")
        else:
            if row.id in existing:
                person = await store.session.scalar(
                    select(ProposalPerson).where(
                        ProposalPerson.proposal_id == proposal.id, ProposalPerson.staff_id == row.id
                    )
                )
                assert person is not None
                person.answer, person.invited_at, person.answered_at = "invited", now, None
            else:
                store.session.add(
                    ProposalPerson(
                        proposal_id=proposal.id,
                        staff_id=row.id,
                        role="seconder",
                        answer="invited",
                        invited_at=now,
                    )
                )
            invited.append(Person(row.id, row.staff_no, row.name, "seconder", "invited"))
    if invited:
        await _move(store, proposal, Action.INVITE, invited=[p.staff_no for p in invited])
    return invited, refused


async def answer_seconding(store: Store, proposal: Proposal, staff_id: int, answer: str) -> None:
    """A seconder accepts, declines, or takes back an acceptance (only before submission)."""
    person = await store.session.scalar(
        select(ProposalPerson).where(
            ProposalPerson.proposal_id == proposal.id,
            ProposalPerson.staff_id == staff_id,
            ProposalPerson.role == "seconder",
        )
    )
    if person is None:
        raise ProposalError("proposals.error.not_invited", id=proposal.id)
    if answer == "withdrawn" and person.answer != "accepted":
        raise ProposalError("proposals.error.not_seconded", id=proposal.id)
    await _move(store, proposal, Action.SECOND, answer=answer)
    person.answer, person.answered_at = answer, utcnow()


async def _make_proposer(store: Store, proposal_id: int, staff_id: int) -> None:
    """Add this person as a (joint) proposer, or turn their seconding into that."""
    row = await store.session.scalar(
        select(ProposalPerson).where(
            ProposalPerson.proposal_id == proposal_id, ProposalPerson.staff_id == staff_id
        )
    )
    now = utcnow()
    if row is None:
        store.session.add(
            ProposalPerson(
                proposal_id=proposal_id,
                staff_id=staff_id,
                role="proposer",
                answer="accepted",
                invited_at=now,
                answered_at=now,
            )
        )
    else:
        row.role, row.answer, row.answered_at = "proposer", "accepted", now


async def file_jointly(store: Store, proposal: Proposal, head_id: int, delegation: str) -> int:
    """A delegation files jointly: every member becomes a proposer; no seconders needed."""
    _require_owner(proposal, head_id)
    members = list(
        await store.session.scalars(
            select(Staff.id).where(
                Staff.delegation == delegation, Staff.delegate.is_(True), Staff.active.is_(True)
            )
        )
    )
    for member in members:
        await _make_proposer(store, proposal.id, member)
    proposal.joint_delegation = delegation
    await _move(store, proposal, Action.EDIT, joint=delegation)
    return len(members)


async def submit(store: Store, proposal: Proposal, staff_id: int, rules: ProposalRules) -> None:
    _require_owner(proposal, staff_id)
    if proposal.kind == "proposal" and not proposal.joint_delegation:
        accepted = len(seconders(await people(store, proposal.id)))
        missing = rules.seconders_required - accepted
        if missing > 0 and proposal.status in (Status.DRAFT, Status.SECONDING):
            raise ProposalError(
                "proposals.error.seconders_missing",
                missing=missing,
                required=rules.seconders_required,
                accepted=accepted,
            )
    await _move(store, proposal, Action.SUBMIT)
    proposal.submitted_at = utcnow()


async def withdraw(store: Store, proposal: Proposal, staff_id: int) -> None:
    _require_owner(proposal, staff_id)
    await _move(store, proposal, Action.WITHDRAW)
    proposal.closed_at = utcnow()


async def _next_case_no(store: Store, proposal: Proposal, today: date) -> str:
    count = await store.session.scalar(
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.session_id == proposal.session_id, Proposal.case_no.is_not(None))
    )
    return f"{today.year}-{int(count or 0) + 1:03d}"


async def accept(store: Store, proposal: Proposal, today: date) -> str:
    await _move(store, proposal, Action.ACCEPT)
    proposal.case_no = await _next_case_no(store, proposal, today)
    return proposal.case_no


async def reject(store: Store, proposal: Proposal, reason: str) -> None:
    await _move(store, proposal, Action.REJECT, reason=reason)
    proposal.review_note = reason
    proposal.closed_at = utcnow()


async def convert(store: Store, proposal: Proposal) -> None:
    await _move(store, proposal, Action.CONVERT)
    proposal.kind = "suggestion"
    proposal.closed_at = utcnow()


async def merge(store: Store, proposal: Proposal, target: Proposal) -> list[int]:
    """并案: this proposal's proposers become joint proposers of the target."""
    if target.id == proposal.id:
        raise ProposalError("proposals.error.merge_self")
    if target.status not in (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED):
        raise ProposalError("proposals.error.merge_target", id=target.id, status=target.status)
    await _move(store, proposal, Action.MERGE, into=target.id)
    proposal.merged_into_id = target.id
    proposal.closed_at = utcnow()
    target_people = {p.staff_id: p for p in await people(store, target.id)}
    added = []
    now = utcnow()
    for person in proposers(await people(store, proposal.id)):
        if person.staff_id in target_people and target_people[person.staff_id].role == "proposer":
            continue
        await _make_proposer(store, target.id, person.staff_id)
        added.append(person.staff_id)
    store.session.add(
        ProposalEvent(
            proposal_id=target.id,
            at=now,
            actor_id=store.actor.staff_id,
            action="merged_in",
            from_status=target.status,
            to_status=target.status,
            detail={"from": proposal.id},
        )
    )
    return added


async def assign(
    store: Store, proposal: Proposal, lead: str, supporting: list[str], due: date
) -> None:
    await _move(
        store, proposal, Action.ASSIGN, lead=lead, supporting=supporting, due=due.isoformat()
    )
    proposal.lead_department = lead
    proposal.supporting_departments = [d for d in supporting if d != lead]
    proposal.assigned_at = utcnow()
    proposal.due_date = due


async def reply(
    store: Store, proposal: Proposal, grade: str, text: str, rules: ProposalRules, today: date
) -> None:
    await _move(store, proposal, Action.REPLY, grade=grade, round=proposal.rounds)
    proposal.reply_grade, proposal.reply_text = grade, text
    proposal.replied_at = utcnow()
    proposal.rating_due = today + timedelta(days=rules.rating_days)


async def rate(
    store: Store, proposal: Proposal, staff_id: int, satisfaction: str, comment: str | None
) -> Status:
    _require_owner(proposal, staff_id)
    action = Action.RATE_UNSATISFIED if satisfaction == "unsatisfied" else Action.RATE_SATISFIED
    after = await _move(store, proposal, action, satisfaction=satisfaction, comment=comment)
    proposal.satisfaction, proposal.rating_comment = satisfaction, comment
    if after == Status.REOPENED:
        proposal.rounds += 1
        proposal.rating_due = None
    else:
        proposal.closed_at = utcnow()
    return after


async def expire_ratings(store: Store, today: date) -> list[int]:
    """Answered proposals whose rating window passed close as they are."""
    due = list(
        await store.session.scalars(
            select(Proposal).where(Proposal.status == Status.ANSWERED, Proposal.rating_due < today)
        )
    )
    for proposal in due:
        await _move(store, proposal, Action.RATING_EXPIRED)
        proposal.closed_at = utcnow()
    return [p.id for p in due]


def is_overdue(proposal: Proposal, today: date) -> bool:
    """With a department past its due date; or sent back and not answered again."""
    if proposal.status == Status.REOPENED:
        return True
    return (
        proposal.status == Status.ASSIGNED
        and proposal.due_date is not None
        and proposal.due_date < today
    )


async def overdue(store: Store, today: date) -> list[Proposal]:
    rows = await store.session.scalars(
        select(Proposal)
        .where(
            or_(
                Proposal.status == Status.REOPENED,
                and_(Proposal.status == Status.ASSIGNED, Proposal.due_date < today),
            )
        )
        .order_by(Proposal.due_date, Proposal.id)
    )
    return list(rows)


async def urge(store: Store, proposal: Proposal, today: date) -> int:
    if not is_overdue(proposal, today):
        raise ProposalError("proposals.error.not_overdue", id=proposal.id)
    await _move(store, proposal, Action.URGE, lead=proposal.lead_department)
    proposal.urges += 1
    return proposal.urges


# ---------------------------------------------------------------- who to tell


async def staff_with_role(store: Store, role: str, scope: str | None = None) -> list[int]:
    query = (
        select(StaffRole.staff_id)
        .join(Staff, Staff.id == StaffRole.staff_id)
        .where(StaffRole.role == role, Staff.active.is_(True))
    )
    if scope is not None:
        query = query.where(StaffRole.scope == scope)
    return list(dict.fromkeys(await store.session.scalars(query)))


async def handlers_of(store: Store, departments: list[str]) -> list[int]:
    found: list[int] = []
    for department in departments:
        found.extend(await staff_with_role(store, "handler", department))
    return list(dict.fromkeys(found))


async def known_departments(store: Store) -> set[str]:
    handled = await store.session.scalars(
        select(StaffRole.scope).where(StaffRole.role == "handler")
    )
    staffed = await store.session.scalars(select(Staff.department).distinct())
    return {d for d in [*handled, *staffed] if d}


# ---------------------------------------------------------------- lists, search, stats


async def list_for(
    store: Store,
    *,
    scope: str,
    staff_id: int,
    overseer: bool,
    departments: set[str],
    today: date,
    status: str | None = None,
    category: str | None = None,
    words: list[str] | None = None,
    limit: int = 50,
) -> list[Proposal]:
    query = select(Proposal)
    mine = select(ProposalPerson.proposal_id).where(ProposalPerson.staff_id == staff_id)
    if scope == "mine":
        query = query.where(
            or_(
                Proposal.proposer_id == staff_id,
                Proposal.id.in_(mine.where(ProposalPerson.role == "proposer")),  # joint ones
            )
        )
    elif scope == "seconding":
        query = query.where(Proposal.id.in_(mine.where(ProposalPerson.role == "seconder")))
    elif scope == "to-review":
        query = query.where(Proposal.status == Status.SUBMITTED)
    elif scope == "assigned-to-me":
        query = query.where(
            Proposal.status.in_(list(WITH_DEPARTMENT)),
            Proposal.lead_department.in_(sorted(departments)),
        )
    elif scope == "overdue":
        query = query.where(
            or_(
                Proposal.status == Status.REOPENED,
                and_(Proposal.status == Status.ASSIGNED, Proposal.due_date < today),
            )
        )
    visible = [
        Proposal.status.in_(list(PUBLIC)),
        Proposal.proposer_id == staff_id,
        Proposal.id.in_(mine),
    ]
    if overseer:
        visible.append(Proposal.status != Status.DRAFT)
    if departments:
        visible.append(Proposal.lead_department.in_(sorted(departments)))
    query = query.where(or_(*visible))
    if status:
        query = query.where(Proposal.status == status)
    if category:
        query = query.where(Proposal.category == category)
    for word in words or []:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Proposal.title.ilike(pattern, escape="\\"),
                Proposal.reasons.ilike(pattern, escape="\\"),
                Proposal.measures.ilike(pattern, escape="\\"),
                Proposal.case_no.ilike(pattern, escape="\\"),
            )
        )
    return list(await store.session.scalars(query.order_by(Proposal.id.desc()).limit(limit)))


@dataclass
class Stats:
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_department: dict[str, int]
    reviewed: int
    accepted: int
    replied: int
    replied_on_time: int
    overdue: int
    rated: int
    satisfied: int

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def acceptance_rate(self) -> float | None:
        return self.rate(self.accepted, self.reviewed)

    @property
    def on_time_rate(self) -> float | None:
        return self.rate(self.replied_on_time, self.replied + self.overdue)

    @property
    def satisfaction_rate(self) -> float | None:
        return self.rate(self.satisfied, self.rated)


async def in_session(store: Store, session_id: int | None) -> list[Proposal]:
    query = select(Proposal).where(Proposal.status.not_in(list(NOT_COUNTED)))
    if session_id is not None:
        query = query.where(Proposal.session_id == session_id)
    return list(await store.session.scalars(query.order_by(Proposal.id)))


def first_reply_dates(events: list[ProposalEvent]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for event in events:
        if event.action == Action.REPLY and event.proposal_id not in found:
            found[event.proposal_id] = event.at
    return found


async def stats(store: Store, session_id: int | None, today: date, tz: Any) -> Stats:
    proposals = await in_session(store, session_id)
    events = list(
        await store.session.scalars(
            select(ProposalEvent)
            .where(
                ProposalEvent.proposal_id.in_([p.id for p in proposals]),
                ProposalEvent.action == Action.REPLY,
            )
            .order_by(ProposalEvent.at)
        )
    )
    first_reply = first_reply_dates(events)
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    by_department: dict[str, int] = {}
    reviewed = accepted = replied = on_time = late_open = rated = satisfied = 0
    accepted_states = {
        Status.ACCEPTED,
        Status.ASSIGNED,
        Status.ANSWERED,
        Status.REOPENED,
        Status.CLOSED,
    }
    for p in proposals:
        by_status[p.status] = by_status.get(p.status, 0) + 1
        by_category[p.category] = by_category.get(p.category, 0) + 1
        if p.lead_department:
            by_department[p.lead_department] = by_department.get(p.lead_department, 0) + 1
        if p.status != Status.SUBMITTED:
            reviewed += 1
            accepted += p.status in accepted_states
        if p.id in first_reply:
            replied += 1
            answered_on = first_reply[p.id].astimezone(tz).date()
            on_time += p.due_date is None or answered_on <= p.due_date
        elif p.status == Status.ASSIGNED and p.due_date and p.due_date < today:
            late_open += 1
        if p.satisfaction:
            rated += 1
            satisfied += p.satisfaction in ("satisfied", "basic")
    return Stats(
        len(proposals),
        by_status,
        by_category,
        by_department,
        reviewed,
        accepted,
        replied,
        on_time,
        late_open,
        rated,
        satisfied,
    )
