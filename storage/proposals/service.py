"""Changing proposals: filing, seconding, review, assignment, replies, rating, supervision.

Every change goes through `_move` (the state machine, the history row and the audit
log together). Every refusal is a `ProposalError` with a catalogue key, raised here and
nowhere else; the chat layer only says it in the person's language. Reading lives in
`queries`, the congress sessions in `congress`, the figures in `statistics`, and who is
told in `notify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from storage import audit
from storage.clock import utcnow
from storage.errors import InvalidTransition, ProposalError, Term
from storage.models import (
    Proposal,
    ProposalEvent,
    ProposalPerson,
    Staff,
)
from storage.proposals.congress import current_session, window_open
from storage.proposals.queries import Person, is_overdue, people, proposers, seconders
from storage.proposals.rules import ProposalRules
from storage.proposals.state import (
    Action,
    Status,
    next_state,
)
from storage.store import Store


def _history(
    store: Store, proposal: Proposal, action: str, before: str, detail: dict[str, Any]
) -> None:
    """One line of the proposal's history (now, by the person acting)."""
    proposal.updated_at = utcnow()
    store.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            at=proposal.updated_at,
            actor_id=store.actor.staff_id,
            action=action,
            from_status=before,
            to_status=proposal.status,
            detail=detail,
        )
    )


async def _move(store: Store, proposal: Proposal, action: Action, **detail: Any) -> Status:
    before = proposal.status
    try:
        after = next_state(before, action)
    except InvalidTransition as exc:
        exc.proposer_id, exc.lead_department = proposal.proposer_id, proposal.lead_department
        raise
    proposal.status = after
    _history(store, proposal, action.value, before, detail)
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


EDITABLE = frozenset({Status.DRAFT, Status.SECONDING})


def check_editable(proposal: Proposal, staff_id: int) -> None:
    """Only its proposer edits a proposal, and only before it is submitted: refuses
    anyone else, and anything already with the committee."""
    _require_owner(proposal, staff_id)
    if proposal.status not in EDITABLE:
        raise ProposalError("proposals.error.only_drafts", id=proposal.id)


def _check_fields(fields: dict[str, Any], rules: ProposalRules) -> None:
    """The deployment's rules for what a proposal says: refuses a category it does not
    use and a title over its length."""
    if fields["category"] not in rules.categories:
        raise ProposalError("proposals.error.category")
    if len(fields["title"]) > rules.title_max:
        raise ProposalError(
            "proposals.error.title_too_long", max=rules.title_max, length=len(fields["title"])
        )


async def create(
    store: Store,
    *,
    proposer_id: int,
    is_delegate: bool,
    today: date,
    fields: dict[str, Any],
    rules: ProposalRules,
) -> Proposal:
    """A new draft. A delegate inside the collection window files a proposal; anyone else,
    or a delegate outside the window, files a suggestion (意见建议). Refuses fields the
    rules do not allow (`_check_fields`)."""
    _check_fields(fields, rules)
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


async def edit(
    store: Store, proposal: Proposal, staff_id: int, fields: dict[str, Any], rules: ProposalRules
) -> None:
    """New text for a draft: refuses what `check_editable` and `_check_fields` refuse."""
    check_editable(proposal, staff_id)
    _check_fields(fields, rules)
    await _move(store, proposal, Action.EDIT, fields=sorted(fields))
    proposal.title = fields["title"]
    proposal.reasons = fields.get("reasons") or ""
    proposal.measures = fields.get("measures") or ""
    proposal.category = fields["category"]
    proposal.suggested_department = fields.get("department")


async def delete_draft(store: Store, proposal: Proposal, staff_id: int) -> None:
    """Delete a draft for good. Refuses anyone but its proposer, and anything no longer a
    draft: once others have been invited or it was submitted, it is part of the record."""
    _require_owner(proposal, staff_id)
    if proposal.status != Status.DRAFT:
        raise ProposalError("proposals.error.only_drafts", id=proposal.id)
    await audit.record(store, "proposal.delete", "proposal", proposal.id, title=proposal.title)
    await store.session.delete(proposal)


class NotInvitedBecause(StrEnum):
    UNKNOWN = "unknown"  # no such staff number on the roster (or no longer active)
    NOT_DELEGATE = "not_delegate"  # only delegates second proposals
    ALREADY = "already"  # invited before and has not declined


@dataclass(frozen=True, slots=True)
class NotInvited:
    staff_no: str
    because: NotInvitedBecause


async def invite(
    store: Store, proposal: Proposal, staff_id: int, staff_nos: list[str]
) -> tuple[list[Person], list[NotInvited]]:
    """Invite delegates to second; returns who was invited and who was not, and why.
    Refuses anyone but the proposer, and suggestions (they need no seconders)."""
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
    refused: list[NotInvited] = []
    now = utcnow()
    for staff_no in dict.fromkeys(staff_nos):
        row = rows.get(staff_no)
        if row is None:
            refused.append(NotInvited(staff_no, NotInvitedBecause.UNKNOWN))
        elif not row.delegate:
            refused.append(NotInvited(staff_no, NotInvitedBecause.NOT_DELEGATE))
        elif row.id in existing and existing[row.id].answer != "declined":
            refused.append(NotInvited(staff_no, NotInvitedBecause.ALREADY))
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


def seconders_missing(proposal: Proposal, accepted: int, rules: ProposalRules) -> int:
    """How many more seconders a proposal needs before it may be submitted: none for an
    意见建议 or a delegation's joint proposal. (What offers a Submit button asks this too.)"""
    if proposal.kind != "proposal" or proposal.joint_delegation:
        return 0
    return max(0, rules.seconders_required - accepted)


async def submit(store: Store, proposal: Proposal, staff_id: int, rules: ProposalRules) -> None:
    """Hand the proposal to the committee. Refuses anyone but its proposer, and (unless a
    delegation filed it jointly) a proposal still short of the seconders the rules require."""
    _require_owner(proposal, staff_id)
    if proposal.kind == "proposal" and not proposal.joint_delegation:
        accepted = len(seconders(await people(store, proposal.id)))
        missing = seconders_missing(proposal, accepted, rules)
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
    """The proposer takes the proposal back. Refuses anyone else, and states the life cycle
    does not allow it from (`InvalidTransition`)."""
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
    """立案: the committee accepts it and it gets the next case number of its session.
    Refuses what is not waiting for review (`InvalidTransition`)."""
    await _move(store, proposal, Action.ACCEPT)
    proposal.case_no = await _next_case_no(store, proposal, today)
    return proposal.case_no


async def reject(store: Store, proposal: Proposal, reason: str) -> None:
    """不予立案, with the committee's reason kept on the proposal. Refuses what is not
    waiting for review (`InvalidTransition`)."""
    await _move(store, proposal, Action.REJECT, reason=reason)
    proposal.review_note = reason
    proposal.closed_at = utcnow()


async def convert(store: Store, proposal: Proposal) -> None:
    """转为意见建议: the committee turns it into a suggestion. Refuses what is not waiting
    for review (`InvalidTransition`)."""
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
    for person in proposers(await people(store, proposal.id)):
        if person.staff_id in target_people and target_people[person.staff_id].role == "proposer":
            continue
        await _make_proposer(store, target.id, person.staff_id)
        added.append(person.staff_id)
    _history(store, target, "merged_in", target.status, {"from": proposal.id})
    return added


async def assign(
    store: Store, proposal: Proposal, lead: str, supporting: list[str], due: date
) -> None:
    """交办: a lead department (and supporting ones) and a due date. Refuses what is not
    accepted (`InvalidTransition`)."""
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
    """The lead department's answer, graded A-D; the rating window opens. Refuses what is
    not with a department (`InvalidTransition`)."""
    await _move(store, proposal, Action.REPLY, grade=grade, round=proposal.rounds)
    proposal.reply_grade, proposal.reply_text = grade, text
    proposal.replied_at = utcnow()
    proposal.rating_due = today + timedelta(days=rules.rating_days)


async def rate(
    store: Store,
    proposal: Proposal,
    staff_id: int,
    satisfaction: str,
    comment: str | None,
    redo_due: date | None = None,
) -> Status:
    """The proposer rates the reply; 不满意 sends it back to the department, to be handled
    again by `redo_due`. Refuses anyone but the proposer, and a proposal with no reply to
    rate (`InvalidTransition`)."""
    _require_owner(proposal, staff_id)
    action = Action.RATE_UNSATISFIED if satisfaction == "unsatisfied" else Action.RATE_SATISFIED
    after = await _move(store, proposal, action, satisfaction=satisfaction, comment=comment)
    proposal.satisfaction, proposal.rating_comment = satisfaction, comment
    if after == Status.REOPENED:
        proposal.rounds += 1
        proposal.rating_due = None
        if redo_due is not None:
            proposal.due_date = redo_due
    else:
        proposal.closed_at = utcnow()
    return after


async def set_due(store: Store, proposal: Proposal, due: date) -> None:
    """A new due date for a proposal with a department (a reply sent back, more time
    granted, or an assignment recorded late). Refuses one that is not with a department."""
    if proposal.status not in (Status.ASSIGNED, Status.REOPENED):
        raise ProposalError(
            "proposals.error.no_due_date",
            id=proposal.id,
            status=Term(f"proposals.status.{proposal.status}"),
        )
    old = proposal.due_date
    proposal.due_date = due
    detail = {"due": due.isoformat(), "old": old.isoformat() if old else None}
    _history(store, proposal, "due_set", proposal.status, detail)
    await audit.record(
        store,
        "proposal.due_set",
        "proposal",
        proposal.id,
        due=due.isoformat(),
        old=old.isoformat() if old else None,
    )


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


async def urge(
    store: Store, proposal: Proposal, today: date, tz: tzinfo, every_days: int = 1
) -> int:
    """督办: remind the lead department. Refuses a proposal that is not overdue, so that
    departments are urged only when the rules say they are late; and a second urge within
    `every_days` days (in zone `tz`), so a handler is not flooded, saying when the next may
    be sent."""
    if not is_overdue(proposal, today):
        raise ProposalError("proposals.error.not_overdue", id=proposal.id)
    last = await store.session.scalar(
        select(func.max(ProposalEvent.at)).where(
            ProposalEvent.proposal_id == proposal.id, ProposalEvent.action == Action.URGE
        )
    )
    if last is not None:
        next_day = last.astimezone(tz).date() + timedelta(days=every_days)
        if today < next_day:
            raise ProposalError(
                "proposals.error.urged_recently", id=proposal.id, next=next_day.isoformat()
            )
    await _move(store, proposal, Action.URGE, lead=proposal.lead_department)
    proposal.urges += 1
    return proposal.urges
