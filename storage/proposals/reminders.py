"""Proposal deadlines on the clock: the collection window closing, reply due dates, ratings.

Each reminder fires at 09:00 in the union's zone on its day and is unique per
occasion, so however often the tick runs, each person is reminded once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select

from storage import outbox
from storage.models import CongressSession, Proposal, ProposalPerson, Staff
from storage.proposals import congress, notify
from storage.proposals.state import Status
from storage.store import Store

REMIND_AT = time(9, 0)
GRACE = timedelta(hours=12)
CLOSING_DAYS = (3, 1)
DUE_DAYS = (7, 0)
RATING_DAYS = (3,)


def _moment(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, REMIND_AT, tzinfo=tz)


async def due(store: Store, now: datetime, tz: tzinfo) -> int:
    queued = 0
    today = now.astimezone(tz).date()
    session = await congress.current_session(store)
    if session is not None and session.closed_at is None:
        queued += await _closing(store, session, now, tz)
    for proposal in await store.session.scalars(
        select(Proposal).where(
            Proposal.status.in_([Status.ASSIGNED, Status.REOPENED]),
            Proposal.due_date.is_not(None),
            Proposal.due_date >= today,
        )
    ):
        assert proposal.due_date is not None
        handlers = await notify.handlers_of(store, [proposal.lead_department or ""])
        for days in DUE_DAYS:
            fire = _moment(proposal.due_date - timedelta(days=days), tz)
            if fire <= now:
                for staff_id in handlers:
                    queued += await outbox.enqueue(
                        store,
                        reason=f"proposal:{proposal.id}:due:{days}:{proposal.due_date}",
                        recipient_id=staff_id,
                        message_key="proposals.notify.due_soon"
                        if days
                        else "proposals.notify.due_today",
                        why_key="proposals.why.handler",
                        not_before=fire,
                        grace=GRACE,
                        params={
                            "id": proposal.id,
                            "title": proposal.title,
                            "due": proposal.due_date.isoformat(),
                        },
                    )
    for proposal in await store.session.scalars(
        select(Proposal).where(Proposal.status == Status.ANSWERED, Proposal.rating_due.is_not(None))
    ):
        assert proposal.rating_due is not None
        for days in RATING_DAYS:
            fire = _moment(proposal.rating_due - timedelta(days=days), tz)
            if fire <= now:
                queued += await outbox.enqueue(
                    store,
                    reason=f"proposal:{proposal.id}:rate_reminder:{proposal.rounds}",
                    recipient_id=proposal.proposer_id,
                    message_key="proposals.notify.rate_reminder",
                    why_key="proposals.why.proposer",
                    not_before=fire,
                    grace=GRACE,
                    params=outbox.with_buttons(
                        {
                            "id": proposal.id,
                            "title": proposal.title,
                            "rating_due": proposal.rating_due.isoformat(),
                        },
                        notify.rating_buttons(proposal.id),
                    ),
                )
    return queued


async def _closing(store: Store, session: CongressSession, now: datetime, tz: tzinfo) -> int:
    """Delegates who have filed nothing yet hear that the window closes soon."""
    filed = (
        select(ProposalPerson.staff_id)
        .join(Proposal, Proposal.id == ProposalPerson.proposal_id)
        .where(
            Proposal.session_id == session.id,
            ProposalPerson.role == "proposer",
            Proposal.status.not_in([Status.DRAFT, Status.WITHDRAWN]),
        )
    )
    delegates = list(
        await store.session.scalars(
            select(Staff.id).where(
                Staff.delegate.is_(True), Staff.active.is_(True), Staff.id.not_in(filed)
            )
        )
    )
    queued = 0
    for days in CLOSING_DAYS:
        fire = _moment(session.closes_on - timedelta(days=days), tz)
        if fire <= now and now.astimezone(tz).date() <= session.closes_on:
            for staff_id in delegates:
                queued += await outbox.enqueue(
                    store,
                    reason=f"session:{session.id}:closing:{days}:{session.closes_on}",
                    recipient_id=staff_id,
                    message_key="proposals.notify.closing",
                    why_key="proposals.why.delegate",
                    not_before=fire,
                    grace=GRACE,
                    params={
                        "session": session.name,
                        "closes": session.closes_on.isoformat(),
                        "days": days,
                    },
                )
    return queued
