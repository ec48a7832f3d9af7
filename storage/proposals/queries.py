"""Reading proposals: one proposal and its people, who may see what, lists and search.

Who may see a proposal is written once, as `visible_to`, a SQL condition; both the check
for one proposal (`get_visible`) and every list come from it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import load_only

from storage import grams
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
# What a list's line shows (and whether it is overdue): a page loads only these, not the
# long texts; reading any other attribute of a listed proposal raises.
LINE_COLUMNS = (
    Proposal.id,
    Proposal.case_no,
    Proposal.title,
    Proposal.kind,
    Proposal.status,
    Proposal.category,
    Proposal.due_date,
)
COUNT_AHEAD = 500  # rows counted past a page's end; beyond, a list says "more than"
INDEXED_LENGTH = 3  # a word this long has trigrams to look up


def _containing(
    words: list[str], *, sqlite: bool
) -> tuple[list[ColumnElement[bool]], list[tuple[str, str]]]:
    """Every word anywhere in the title, reasons, measures or case number, ignoring case:
    the conditions, and on SQLite the FTS5 tables to ask (table, query).

    What a case-insensitive substring match finds, read through an index where one serves:
    - a word of ideographs or ASCII letters and digits: its bigrams (`storage.grams`), on
      SQLite in an FTS5 table (migration 0011), on PostgreSQL in a stored column with a GIN
      index (migration 0015); this is how two-character Chinese words are found;
    - any other word of three or more characters: its trigrams (SQLite's FTS5 table; on
      PostgreSQL the pg_trgm indexes serve the ILIKE itself);
    - anything shorter (one character, or 2 with a symbol) is matched row by row, among the
      rows the other conditions leave.
    On SQLite the words that go to one FTS5 table are asked of it in one query, which
    intersects their lists itself.
    """
    conditions: list[ColumnElement[bool]] = []
    fts: dict[str, list[str]] = {"proposals_grams": [], "proposals_fts": []}
    for word in words:
        matched = _substring(word)
        if grams.searchable(word) and (not sqlite or len(word) < INDEXED_LENGTH):
            wanted = grams.bigrams(word)
            if sqlite:
                # Two characters have one bigram, found exactly when the word occurs.
                fts["proposals_grams"].append(f'"{wanted[0]}"')
                continue
            # The grams are written into the statement, not bound: with a parameter, the
            # plan psycopg prepares after five runs cannot see how rare they are and reads
            # every row instead (843 ms at 10,000). A gram is letters, digits or ideographs
            # only (`grams.searchable`), so it needs no quoting.
            listed = ", ".join(f"'{gram}'" for gram in wanted)
            narrowed: ColumnElement[bool] = literal_column(
                f"proposals.search_grams @> ARRAY[{listed}]::text[]"
            )
            # A longer word's bigrams may be found apart, so the match confirms.
            conditions.append(narrowed if len(word) == 2 else and_(narrowed, matched))
        elif sqlite and len(word) >= INDEXED_LENGTH:  # the trigram table finds exactly these
            fts["proposals_fts"].append('"' + word.replace('"', '""') + '"')
        else:
            conditions.append(matched)
    asked = [(name, " AND ".join(phrases)) for name, phrases in fts.items() if phrases]
    return conditions, asked


def _substring(word: str) -> ColumnElement[bool]:
    pattern = _like(word)
    return or_(
        Proposal.title.ilike(pattern, escape="\\"),
        Proposal.reasons.ilike(pattern, escape="\\"),
        Proposal.measures.ilike(pattern, escape="\\"),
        Proposal.case_no.ilike(pattern, escape="\\"),
    )


def _fts(table_name: str, query: str) -> ColumnElement[bool]:
    """Proposals whose row in an FTS5 table (migrations 0010, 0011) matches `query`."""
    return Proposal.id.in_(
        select(literal_column("rowid"))
        .select_from(table(table_name))
        .where(literal_column(table_name).op("MATCH")(query))
    )


def _reading(
    statement: Select[Any], conditions: list[ColumnElement[bool]], fts: list[tuple[str, str]]
) -> tuple[Select[Any], ColumnElement[Any]]:
    """The statement with its conditions, and the newest-first order to read it in.

    On SQLite the first FTS5 table drives: it hands its matches newest first (rowid
    descending) and the read stops at the page, where `id IN (its matches)` gathered all
    of them first (12,500 for a common word at 100,000: 8 ms instead of 1).
    """
    if not fts:
        return statement.where(*conditions), Proposal.id.desc()
    (name, query), others = fts[0], fts[1:]
    driving = table(name, column("rowid"))
    statement = statement.join(driving, driving.c.rowid == Proposal.id).where(
        literal_column(name).op("MATCH")(query),
        *conditions,
        *(_fts(other, asked) for other, asked in others),
    )
    return statement, driving.c.rowid.desc()


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
) -> tuple[list[ColumnElement[bool]], list[tuple[str, str]]]:
    """The conditions of a list (what the viewer may see, in scope, with every word), and
    the FTS5 tables to ask on SQLite."""
    visible = visible_to(viewer)
    if sqlite:
        # Hidden from SQLite's planner, which would otherwise gather every row of each
        # alternative through its own index and sort them all (473 ms at 100,000) instead
        # of reading newest first and stopping at the page; the other conditions still
        # choose their indexes.
        visible = func.coalesce(visible, false())
    conditions: list[ColumnElement[bool]] = [visible]
    condition = _scope_condition(scope, viewer, today)
    if condition is not None:
        conditions.append(condition)
    if status:
        conditions.append(Proposal.status == status)
    if category:
        conditions.append(Proposal.category == category)
    found, fts = _containing(words or [], sqlite=sqlite)
    return [*conditions, *found], fts


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
    conditions, fts = _listed(
        viewer,
        scope=scope,
        today=today,
        status=status,
        category=category,
        words=words,
        sqlite=sqlite,
    )
    lines = select(Proposal).options(load_only(*LINE_COLUMNS, raiseload=True))
    lines, newest_first = _reading(lines, conditions, fts)
    # A search reads one line past the page to know whether there is a next one, and says
    # "more than" instead of counting: counting 550 of a common word's 12,500 matches cost
    # more than the page itself (each match checked row by row, 4-20 ms at 100,000).
    searching = bool(words)
    rows = list(
        await store.session.scalars(
            lines.order_by(newest_first)
            .limit(size + 1 if searching else size)
            .offset((page - 1) * size)
        )
    )
    if searching and rows:
        before = (page - 1) * size
        return Page(rows[:size], before + len(rows[:size]), page, size, exact=len(rows) <= size)
    if page == 1 and len(rows) < size:
        return Page(rows, len(rows), page, size)  # all of them fit: no count needed
    # Counting every visible row of a big archive costs more than the page: count to a few
    # pages past this one, and say "more than" beyond.
    cap = page * size + COUNT_AHEAD
    ids, _ = _reading(select(Proposal.id), conditions, fts)
    ahead = ids.limit(cap + 1).subquery()
    total = int(await store.session.scalar(select(func.count()).select_from(ahead)) or 0)
    return Page(rows, min(total, cap), page, size, exact=total <= cap)
