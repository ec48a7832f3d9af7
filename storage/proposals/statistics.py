"""The figures of a session's proposals: acceptance, on-time replies, satisfaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Protocol

from sqlalchemy import ColumnElement, Select, func, select

from storage.models import Proposal, ProposalEvent
from storage.proposals.state import ACCEPTED, NOT_COUNTED, Action, Status
from storage.store import Store

SATISFIED = ("satisfied", "basic")  # 满意 and 基本满意 both count as satisfied


@dataclass(kw_only=True)
class Month:
    """Replies first given in a month (in the reader's zone), and how they fared."""

    replied: int = 0
    replied_on_time: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return Stats.rate(self.replied_on_time, self.replied)

    @property
    def satisfaction_rate(self) -> float | None:
        return Stats.rate(self.satisfied, self.rated)


@dataclass(kw_only=True)
class Stats:
    total: int = 0  # proposals (提案), converted ones included; 意见建议 are counted apart
    suggestions: int = 0  # filed as 意见建议
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_department: dict[str, int] = field(default_factory=dict)
    # Per lead department, how many are in each status (the chart's bars).
    by_department_status: dict[str, dict[str, int]] = field(default_factory=dict)
    by_month: dict[str, Month] = field(default_factory=dict)  # "2026-11": replies that month
    reviewed: int = 0  # the committee decided (anything past "submitted")
    accepted: int = 0  # 立案, and everything that follows it
    replied: int = 0
    replied_on_time: int = 0
    overdue: int = 0  # still with a department past the due date, never answered
    rated: int = 0
    satisfied: int = 0

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


def counted(session_id: int | None) -> list[ColumnElement[bool]]:
    """The proposals that count (not drafts, not withdrawn), of one session or of all."""
    conditions: list[ColumnElement[bool]] = [Proposal.status.not_in(sorted(NOT_COUNTED))]
    if session_id is not None:
        conditions.append(Proposal.session_id == session_id)
    return conditions


def counted_ids(session_id: int | None) -> Select[int]:
    """Their ids as a subquery: related rows are read with it, not with every id bound as
    a parameter (PostgreSQL takes at most 65,535)."""
    return select(Proposal.id).where(*counted(session_id))


async def in_session(store: Store, session_id: int | None) -> list[Proposal]:
    query = select(Proposal).where(*counted(session_id))
    return list(await store.session.scalars(query.order_by(Proposal.id)))


async def first_replies(store: Store, session_id: int | None) -> dict[int, datetime]:
    """When each counted proposal was first answered (its earliest reply)."""
    rows = await store.session.execute(
        select(ProposalEvent.proposal_id, func.min(ProposalEvent.at))
        .where(
            ProposalEvent.proposal_id.in_(counted_ids(session_id)),
            ProposalEvent.action == Action.REPLY,
        )
        .group_by(ProposalEvent.proposal_id)
    )
    return {proposal_id: at for proposal_id, at in rows}


class Kinded(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...


def is_suggestion(proposal: Kinded) -> bool:
    """Filed as an 意见建议 (not a proposal the committee converted into one)."""
    return proposal.kind == "suggestion" and proposal.status != Status.CONVERTED


# What the figures read of a proposal: a few short columns, not whole rows with their texts
# (at 100,000 proposals loading whole rows took 12 s of the statistics' 12.5).
_COUNTED_COLUMNS = (
    Proposal.id,
    Proposal.kind,
    Proposal.status,
    Proposal.category,
    Proposal.lead_department,
    Proposal.due_date,
    Proposal.satisfaction,
)


async def stats(store: Store, session_id: int | None, today: date, tz: tzinfo) -> Stats:
    """A session's figures; a reply is on time when it came on or before the due date,
    in the union's zone."""
    everything = list(
        await store.session.execute(select(*_COUNTED_COLUMNS).where(*counted(session_id)))
    )
    first_reply = await first_replies(store, session_id)
    suggestions = [p for p in everything if is_suggestion(p)]
    proposals = [p for p in everything if not is_suggestion(p)]
    figures = Stats(
        suggestions=len(suggestions),
        total=len(proposals),
        by_status=dict(Counter(p.status for p in proposals)),
        by_category=dict(Counter(p.category for p in proposals)),
        by_department=dict(Counter(p.lead_department for p in proposals if p.lead_department)),
    )
    for p in proposals:
        if p.lead_department:
            statuses = figures.by_department_status.setdefault(p.lead_department, {})
            statuses[p.status] = statuses.get(p.status, 0) + 1
        month = None
        if p.id in first_reply:
            month = figures.by_month.setdefault(
                first_reply[p.id].astimezone(tz).strftime("%Y-%m"), Month()
            )
        if p.status != Status.SUBMITTED:
            figures.reviewed += 1
            figures.accepted += p.status in ACCEPTED
        if p.id in first_reply:
            figures.replied += 1
            answered_on = first_reply[p.id].astimezone(tz).date()
            on_time = p.due_date is None or answered_on <= p.due_date
            figures.replied_on_time += on_time
            assert month is not None
            month.replied += 1
            month.replied_on_time += on_time
        elif p.status == Status.ASSIGNED and p.due_date and p.due_date < today:
            figures.overdue += 1
        if p.satisfaction:
            figures.rated += 1
            figures.satisfied += p.satisfaction in SATISFIED
            if month is not None:  # rated replies always have one; an import may not
                month.rated += 1
                month.satisfied += p.satisfaction in SATISFIED
    figures.by_month = dict(sorted(figures.by_month.items()))
    return figures
