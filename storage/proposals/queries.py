"""Reading proposals: one proposal and its people, who may see what, lists and search.

Who may see a proposal is written once, as `visible_to`, a SQL condition; both the check
for one proposal (`get_visible`) and every list come from it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, func, literal_column, or_, select, table

from storage.errors import ProposalError
from storage.models import Proposal, ProposalEvent, ProposalPerson, Staff
from storage.proposals.state import PUBLIC, WITH_DEPARTMENT, Status
from storage.store import Store


async def get(store: Store, proposal_id: int) -> Proposal:
    """The proposal, whoever asks: for changes, whose own rules say who may make them.
    Refuses an unknown number."""
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


async def titles(store: Store, ids: list[int]) -> dict[int, str]:
    """The titles of proposals a history points to (merged into, merged from)."""
    if not ids:
        return {}
    rows = await store.session.execute(
        select(Proposal.id, Proposal.title).where(Proposal.id.in_(ids))
    )
    return {proposal_id: title for proposal_id, title in rows}


async def history(store: Store, proposal_id: int) -> list[tuple[ProposalEvent, str | None]]:
    rows = await store.session.execute(
        select(ProposalEvent, Staff.name)
        .outerjoin(Staff, Staff.id == ProposalEvent.actor_id)
        .where(ProposalEvent.proposal_id == proposal_id)
        .order_by(ProposalEvent.at, ProposalEvent.id)
    )
    return [(event, name) for event, name in rows]


# ---------------------------------------------------------------- who may see what


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whoever reads: their staff id, whether they oversee proposals (the committee,
    officers, administrators) and the departments they answer proposals for."""

    staff_id: int
    overseer: bool = False
    departments: frozenset[str] = field(default_factory=frozenset)


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The one rule of who may see a proposal: accepted ones are public (公开); a draft
    only to the people on it; anything filed also to overseers and to the department
    handling it."""
    on_it = Proposal.id.in_(
        select(ProposalPerson.proposal_id).where(ProposalPerson.staff_id == viewer.staff_id)
    )
    filed = Proposal.status != Status.DRAFT
    return or_(
        Proposal.status.in_(sorted(PUBLIC)),
        Proposal.proposer_id == viewer.staff_id,
        on_it,
        filed if viewer.overseer else false(),
        and_(filed, Proposal.lead_department.in_(sorted(viewer.departments)))
        if viewer.departments
        else false(),
    )


async def get_visible(store: Store, viewer: Viewer, proposal_id: int) -> Proposal:
    """The proposal if this viewer may see it. Refuses one they may not see exactly as a
    missing one, so nobody learns that a number exists."""
    proposal = await store.session.scalar(
        select(Proposal).where(Proposal.id == proposal_id, visible_to(viewer))
    )
    if proposal is None:
        raise ProposalError("proposals.error.not_found", id=proposal_id)
    return proposal


# ---------------------------------------------------------------- supervision (督办)


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Overdue: with a department (first time, or sent back to be handled again) past its
    due date. A proposal sent back gets a new due date; it is not overdue before it."""
    return and_(Proposal.status.in_(sorted(WITH_DEPARTMENT)), Proposal.due_date < today)


class Dated(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...


def is_overdue(proposal: Dated, today: date) -> bool:
    """`overdue_condition` for a proposal already loaded (or its values, read as such)."""
    return (
        proposal.status in WITH_DEPARTMENT
        and proposal.due_date is not None
        and proposal.due_date < today
    )


async def overdue(store: Store, today: date) -> list[Proposal]:
    rows = await store.session.scalars(
        select(Proposal).where(overdue_condition(today)).order_by(Proposal.due_date, Proposal.id)
    )
    return list(rows)


# ---------------------------------------------------------------- lists and search


class Scope(StrEnum):
    """Which proposals a list is about (the viewer's visibility applies to every one)."""

    ALL = "all"
    MINE = "mine"  # filed by me, alone or jointly
    SECONDING = "seconding"  # I am asked to second, or did
    TO_REVIEW = "to-review"  # waiting for the committee
    ASSIGNED_TO_ME = "assigned-to-me"  # with my department
    OVERDUE = "overdue"


def _scope_condition(scope: Scope, viewer: Viewer, today: date) -> ColumnElement[bool] | None:
    mine = select(ProposalPerson.proposal_id).where(ProposalPerson.staff_id == viewer.staff_id)
    match scope:
        case Scope.MINE:
            return or_(
                Proposal.proposer_id == viewer.staff_id,
                Proposal.id.in_(mine.where(ProposalPerson.role == "proposer")),  # joint ones
            )
        case Scope.SECONDING:
            return Proposal.id.in_(mine.where(ProposalPerson.role == "seconder"))
        case Scope.TO_REVIEW:
            return Proposal.status == Status.SUBMITTED
        case Scope.ASSIGNED_TO_ME:
            return and_(
                Proposal.status.in_(sorted(WITH_DEPARTMENT)),
                Proposal.lead_department.in_(sorted(viewer.departments)),
            )
        case Scope.OVERDUE:
            return overdue_condition(today)
    return None


PAGE_SIZE = 50  # proposals a list shows at once
COUNT_AHEAD = 500  # rows counted past a page's end; beyond, a list says "more than"
INDEXED_LENGTH = 3  # a word this long is found through the index (trigrams), on both


def _contains(word: str, *, indexed: bool) -> ColumnElement[bool]:
    """The word anywhere in the title, reasons, measures or case number, ignoring case.

    On PostgreSQL the ILIKE itself uses the pg_trgm indexes once the word has three
    characters; on SQLite a word that long is looked up in the FTS5 trigram table instead,
    which finds the same rows. A shorter word has no trigram to look up: it is matched
    row by row, among the rows the other conditions leave.
    """
    if indexed:
        phrase = '"' + word.replace('"', '""') + '"'
        return Proposal.id.in_(
            select(literal_column("rowid"))
            .select_from(table("proposals_fts"))
            .where(literal_column("proposals_fts").op("MATCH")(phrase))
        )
    pattern = _like(word)
    return or_(
        Proposal.title.ilike(pattern, escape="\\"),
        Proposal.reasons.ilike(pattern, escape="\\"),
        Proposal.measures.ilike(pattern, escape="\\"),
        Proposal.case_no.ilike(pattern, escape="\\"),
    )


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, and how many there are in all (`exact`), or at least."""

    rows: list[Proposal]
    total: int
    number: int  # from 1
    size: int
    exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def more(self) -> bool:
        return self.number < self.pages or (not self.exact and len(self.rows) == self.size)


def _listed(
    viewer: Viewer,
    *,
    scope: Scope,
    today: date,
    status: str | None,
    category: str | None,
    words: list[str] | None,
    sqlite: bool,
) -> list[ColumnElement[bool]]:
    """The conditions of a list: what the viewer may see, in scope, with every word."""
    conditions = [visible_to(viewer)]
    condition = _scope_condition(scope, viewer, today)
    if condition is not None:
        conditions.append(condition)
    if status:
        conditions.append(Proposal.status == status)
    if category:
        conditions.append(Proposal.category == category)
    for word in words or []:
        conditions.append(_contains(word, indexed=sqlite and len(word) >= INDEXED_LENGTH))
    return conditions


async def page_for(
    store: Store,
    viewer: Viewer,
    *,
    scope: Scope = Scope.ALL,
    today: date,
    status: str | None = None,
    category: str | None = None,
    words: list[str] | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """Proposals in `scope` that the viewer may see, newest first, one page of them; every
    word must occur in the title, reasons, measures or case number."""
    sqlite = store.session.bind is not None and store.session.bind.dialect.name == "sqlite"
    conditions = _listed(
        viewer,
        scope=scope,
        today=today,
        status=status,
        category=category,
        words=words,
        sqlite=sqlite,
    )
    rows = list(
        await store.session.scalars(
            select(Proposal)
            .where(*conditions)
            .order_by(Proposal.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        )
    )
    if page == 1 and len(rows) < size:
        return Page(rows, len(rows), page, size)  # all of them fit: no count needed
    # Counting every visible row of a big archive costs more than the page: count to a few
    # pages past this one, and say "more than" beyond.
    cap = page * size + COUNT_AHEAD
    ahead = select(Proposal.id).where(*conditions).limit(cap + 1).subquery()
    total = int(await store.session.scalar(select(func.count()).select_from(ahead)) or 0)
    return Page(rows, min(total, cap), page, size, exact=total <= cap)
