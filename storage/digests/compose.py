"""What a digest window holds, for many readers at once: a few statements in all.

Every section lists what *happened* in the reader's window (a proposal filed, a due
date passed, a reply rated 不满意, a leave request, an alert sent...), newest first,
with the command that acts on it; its title also says how many are open in all, so
nothing is repeated from one digest to the next and nothing open is forgotten. Each
section's records are read once for every reader (the union of their windows) and
sorted out per reader in Python: composing 500 digests costs the same statements as one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, select

from storage.benefits import applications
from storage.benefits.policy import Pack
from storage.digests.readers import Reader
from storage.meetings import quorum
from storage.meetings.service import RollLine, bucket
from storage.models import (
    Attendance,
    BenefitApplication,
    Delivery,
    HardshipRecord,
    Meeting,
    OutboxMessage,
    Proposal,
    ProposalEvent,
    Staff,
)
from storage.outbox import BUTTONS_PARAM, FAILED, MISSED, Line, Section
from storage.proposals.queries import is_overdue
from storage.proposals.state import WITH_DEPARTMENT, Action, Status
from storage.store import Store

HORIZON = timedelta(days=7)  # meetings and due dates this close are worth a line
# A first digest reaches back to the beginning: its reader was never told of what is open.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
MAX_LINES = 15  # per section; the rest are counted and one command lists them
MORE = {
    "review": "/proposal list to-review",
    "overdue": "/proposal overdue",
    "unsatisfied": "/proposal overdue",
    "meetings": "/meetings",
    "benefits": "/applications",
    "hardship": "/hardship list",
    "deliveries": "/deliveries",
}
SECTIONS = (
    "alerts",
    "review",
    "overdue",
    "unsatisfied",
    "leave",
    "meetings",
    "benefits",
    "hardship",
    "deliveries",
)


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end): everything since the reader's last digest, up to this one's moment."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass(slots=True)
class Digest:
    reader: Reader
    window: Window
    sections: list[Section] = field(default_factory=list)
    covered: dict[str, list[int]] = field(default_factory=dict)

    @property
    def first(self) -> bool:
        return self.window.start <= BEGINNING

    @property
    def lines(self) -> int:
        """How many things it tells of (also those past a section's shown lines)."""
        return sum(len(ids) for ids in self.covered.values())

    @property
    def empty(self) -> bool:
        return self.lines == 0


@dataclass(frozen=True, slots=True)
class Entry:
    """A line before it is placed: when it happened, the record it is about."""

    at: datetime
    record: int
    line: Line


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


class _Builder:
    """Collects each reader's entries per section, then orders and titles them."""

    def __init__(self, requests: Sequence[tuple[Reader, Window]]) -> None:
        self.requests = list(requests)
        self.entries: dict[int, dict[str, list[Entry]]] = defaultdict(lambda: defaultdict(list))
        self.totals: dict[int, dict[str, int]] = defaultdict(dict)

    def add(self, index: int, section: str, entry: Entry) -> None:
        self.entries[index][section].append(entry)

    def total(self, index: int, section: str, count: int) -> None:
        self.totals[index][section] = count

    def digests(self) -> list[Digest]:
        out = []
        for index, (reader, window) in enumerate(self.requests):
            digest = Digest(reader, window)
            for name in SECTIONS:
                found = sorted(
                    self.entries[index].get(name, []), key=lambda e: (e.at, e.record), reverse=True
                )
                if not found:
                    continue
                params = {"new": len(found), "total": self.totals[index].get(name, len(found))}
                shown = [e.line for e in found[:MAX_LINES]]
                if len(found) > MAX_LINES:
                    more = {"more": len(found) - MAX_LINES}
                    shown.append(Line("digests.line.more", more, MORE.get(name)))
                digest.sections.append(Section(f"digests.section.{name}", params, tuple(shown)))
                digest.covered[name] = [e.record for e in found]
            out.append(digest)
        return out


async def compose(
    store: Store,
    requests: Sequence[tuple[Reader, Window]],
    tz: tzinfo,
    pack: Pack | None = None,
) -> list[Digest]:
    """The digests of these (reader, window) pairs, in their order. `tz` is the union's
    zone, in which due dates are days; `pack` the benefits in force (None: no section)."""
    if not requests:
        return []
    build = _Builder(requests)
    lo = min(w.start for _, w in requests)
    hi = max(w.end for _, w in requests)
    await _alerts(store, build, lo, hi)
    await _proposals(store, build, lo, hi, tz)
    await _meetings(store, build, lo, hi)
    if pack is not None:
        await _benefits(store, build, pack)
    await _hardship(store, build, lo, hi, tz)
    await _deliveries(store, build, lo, hi)
    return build.digests()


# ---------------------------------------------------------------- alerts


async def _alerts(store: Store, build: _Builder, lo: datetime, hi: datetime) -> None:
    """What was alerted at once is repeated: the digest holds all the reader was told."""
    index_of: dict[int, list[int]] = defaultdict(list)
    for index, (reader, _w) in enumerate(build.requests):
        index_of[reader.staff_id].append(index)
    rows = await store.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient_id,
            OutboxMessage.message_key,
            OutboxMessage.params,
            OutboxMessage.created_at,
        ).where(
            OutboxMessage.alert.is_(True),
            OutboxMessage.created_at >= lo,
            OutboxMessage.created_at < hi,
            OutboxMessage.recipient_id.in_(list(index_of)),
        )
    )
    for message_id, recipient, key, params, created in rows:
        shown = {k: v for k, v in dict(params or {}).items() if k != BUTTONS_PARAM}
        for index in index_of[recipient]:
            if build.requests[index][1].holds(created):
                build.add(index, "alerts", Entry(created, message_id, Line(key, shown)))


# ---------------------------------------------------------------- proposals


@dataclass(frozen=True, slots=True)
class _Open:
    """An open proposal as the digest reads it: plain values, read once for all readers."""

    id: int
    title: str
    status: str
    proposer: str
    department: str
    due_date: date | None
    submitted_at: datetime | None
    overdue_from: datetime | None  # the start of the day after its due date
    soon_from: datetime | None  # when it came within HORIZON of its due date (or was assigned)
    rated_at: datetime | None  # sent back (rated 不满意) at


class _Proposals:
    """Open proposals indexed by what scopes them, and by the moment of each event, so each
    reader's share costs a few lookups and a bisection, not a pass over every proposal."""

    def __init__(self, rows: Sequence[_Open], keys: dict[int, set[str]]) -> None:
        self.all = list(rows)
        self.by_key: dict[str, list[_Open]] = defaultdict(list)
        for row in rows:
            for key in keys[row.id]:
                self.by_key[key].append(row)
        self.events: dict[str, list[tuple[datetime, _Open]]] = {
            "review": sorted(
                (
                    (r.submitted_at, r)
                    for r in rows
                    if r.status == Status.SUBMITTED and r.submitted_at
                ),
                key=lambda pair: pair[0],
            ),
            "overdue": sorted(
                (
                    (r.overdue_from, r)
                    for r in rows
                    if r.status == Status.ASSIGNED and r.overdue_from
                ),
                key=lambda pair: pair[0],
            ),
            "due_soon": sorted(
                ((r.soon_from, r) for r in rows if r.status in WITH_DEPARTMENT and r.soon_from),
                key=lambda pair: pair[0],
            ),
            "unsatisfied": sorted(
                ((r.rated_at, r) for r in rows if r.status == Status.REOPENED and r.rated_at),
                key=lambda pair: pair[0],
            ),
        }
        self._totals: dict[tuple[str, date], dict[str, int]] = {}

    @staticmethod
    def keys_of(reader: Reader) -> list[str]:
        return [
            *(f"s:{s}" for s in reader.sub_unions),
            *(f"d:{d}" for d in reader.departments),
            *(f"g:{g}" for g in reader.delegations),
        ]

    def scope(self, reader: Reader) -> set[int] | None:
        """The ids in the reader's scope; None for all of them."""
        if reader.all_proposals:
            return None
        return {row.id for key in self.keys_of(reader) for row in self.by_key.get(key, [])}

    def in_window(self, event: str, window: Window) -> list[tuple[datetime, _Open]]:
        found = self.events[event]
        start = bisect_left(found, window.start, key=lambda pair: pair[0])
        end = bisect_left(found, window.end, key=lambda pair: pair[0])
        return found[start:end]

    def totals(self, reader: Reader, scope: set[int] | None, today: date) -> dict[str, int]:
        """How many are open in the reader's scope: waiting for review, overdue (sent back
        ones have their own count), sent back."""
        cache_key = ("*" if scope is None else ",".join(sorted(self.keys_of(reader))), today)
        if cache_key not in self._totals:
            rows = self.all if scope is None else [r for r in self.all if r.id in scope]
            self._totals[cache_key] = {
                "review": sum(r.status == Status.SUBMITTED for r in rows),
                "overdue": sum(is_overdue(r, today) for r in rows),
                "unsatisfied": sum(r.status == Status.REOPENED for r in rows),
            }
        return self._totals[cache_key]


async def _open_proposals(store: Store, lo: datetime, hi: datetime, tz: tzinfo) -> _Proposals:
    rated: dict[int, datetime] = {}
    for proposal_id, at in await store.session.execute(
        select(ProposalEvent.proposal_id, ProposalEvent.at).where(
            ProposalEvent.action == Action.RATE_UNSATISFIED,
            ProposalEvent.at >= lo,
            ProposalEvent.at < hi,
        )
    ):
        rated[proposal_id] = max(at, rated.get(proposal_id, at))
    rows: list[_Open] = []
    keys: dict[int, set[str]] = {}
    for p in await store.session.execute(
        select(
            Proposal.id,
            Proposal.title,
            Proposal.status,
            Proposal.lead_department,
            Proposal.joint_delegation,
            Proposal.due_date,
            Proposal.assigned_at,
            Proposal.submitted_at,
            Staff.name,
            Staff.sub_union,
            Staff.delegation,
        )
        .join(Staff, Staff.id == Proposal.proposer_id)
        .where(Proposal.status.in_([Status.SUBMITTED, Status.ASSIGNED, Status.REOPENED]))
    ):
        overdue_from = soon_from = None
        if p.due_date is not None:
            overdue_from = _start_of(p.due_date + timedelta(days=1), tz)
            soon_from = max(_start_of(p.due_date - HORIZON, tz), p.assigned_at or overdue_from)
        rows.append(
            _Open(
                id=p.id,
                title=p.title,
                status=p.status,
                proposer=p.name,
                department=p.lead_department or "—",
                due_date=p.due_date,
                submitted_at=p.submitted_at,
                overdue_from=overdue_from,
                soon_from=soon_from,
                rated_at=rated.get(p.id),
            )
        )
        keys[p.id] = {
            f"s:{p.sub_union}",
            f"d:{p.lead_department or ''}",
            f"g:{p.delegation or ''}",
            f"g:{p.joint_delegation or ''}",
        }
    return _Proposals(rows, keys)


async def _proposals(store: Store, build: _Builder, lo: datetime, hi: datetime, tz: tzinfo) -> None:
    """New in the window: filed and waiting for review (for those who may review), gone
    overdue or come within 7 days of the due date (督办), sent back as 不满意."""
    found = await _open_proposals(store, lo, hi, tz)
    for index, (reader, window) in enumerate(build.requests):
        today = window.end.astimezone(tz).date()
        scope = found.scope(reader)

        def mine(row: _Open, scope: set[int] | None = scope) -> bool:
            return scope is None or row.id in scope

        for name, count in found.totals(reader, scope, today).items():
            if name != "review" or reader.overseer:
                build.total(index, name, count)
        if reader.overseer:
            for at, row in found.in_window("review", window):
                if mine(row):
                    params = {"id": row.id, "title": row.title, "name": row.proposer}
                    line = Line("digests.line.review", params | {"_at": at.isoformat()}, _show(row))
                    build.add(index, "review", Entry(at, row.id, line))
        overdue_now: set[int] = set()
        for at, row in found.in_window("overdue", window):
            if mine(row) and row.due_date is not None:
                overdue_now.add(row.id)
                params = _params(row) | {"days": (today - row.due_date).days}
                build.add(
                    index,
                    "overdue",
                    Entry(at, row.id, Line("digests.line.overdue", params, _show(row))),
                )
        for at, row in found.in_window("due_soon", window):
            if (
                mine(row)
                and row.due_date is not None
                and row.due_date >= today
                and row.id not in overdue_now
            ):
                key = "digests.line.due_soon" if row.due_date > today else "digests.line.due_today"
                params = _params(row) | {"days": (row.due_date - today).days}
                build.add(index, "overdue", Entry(at, row.id, Line(key, params, _show(row))))
        for at, row in found.in_window("unsatisfied", window):
            if mine(row):
                params = _params(row) | {"_at": at.isoformat()}
                build.add(
                    index,
                    "unsatisfied",
                    Entry(at, row.id, Line("digests.line.unsatisfied", params, _show(row))),
                )


def _params(row: _Open) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "department": row.department}


def _show(row: _Open) -> str:
    return f"/proposal show {row.id}"


# ---------------------------------------------------------------- meetings


async def _meetings(store: Store, build: _Builder, lo: datetime, hi: datetime) -> None:
    meetings = list(
        await store.session.scalars(
            select(Meeting).where(
                Meeting.status == "scheduled",
                Meeting.starts_at >= lo,
                Meeting.starts_at < hi + HORIZON,
            )
        )
    )
    if not meetings:
        return
    people = list(
        await store.session.execute(
            select(
                Attendance.meeting_id,
                Attendance.delegation,
                Attendance.delegate,
                Attendance.answer,
                Attendance.leave_status,
                Attendance.answered_at,
                Attendance.checked_in_at,
                Staff.staff_no,
                Staff.name,
            )
            .join(Staff, Staff.id == Attendance.staff_id)
            .where(Attendance.meeting_id.in_([m.id for m in meetings]))
        )
    )
    by_meeting: dict[int, list[Any]] = defaultdict(list)
    by_delegation: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for row in people:
        by_meeting[row.meeting_id].append(row)
        if row.delegation:
            by_delegation[row.meeting_id, row.delegation].append(row)
    lines: dict[tuple[int, tuple[str, ...]], Line] = {}  # one figure per meeting and scope
    for index, (reader, window) in enumerate(build.requests):
        pending_total = 0
        for meeting in meetings:
            if meeting.starts_at < window.end and not reader.delegations:
                continue
            everything = reader.school or (
                meeting.audience == "sub_union" and meeting.audience_scope in reader.sub_unions
            )
            mine = (
                by_meeting[meeting.id]
                if everything
                else [r for g in sorted(reader.delegations) for r in by_delegation[meeting.id, g]]
            )
            if not mine:
                continue
            for row in mine if reader.delegations else []:
                if row.answer == "leave" and row.leave_status == "pending":
                    pending_total += 1
                    if window.holds(row.answered_at) and meeting.starts_at >= window.end:
                        line = Line(
                            "digests.line.leave",
                            {
                                "id": meeting.id,
                                "title": meeting.title,
                                "name": row.name,
                                "staff_no": row.staff_no,
                                "_at": meeting.starts_at.isoformat(),
                            },
                            f"/meeting approve {meeting.id} {row.staff_no}",
                        )
                        build.add(index, "leave", Entry(row.answered_at, meeting.id, line))
            if not window.end <= meeting.starts_at < window.end + HORIZON:
                continue
            news = (
                window.holds(meeting.created_at)
                or window.holds(meeting.starts_at - HORIZON)
                or any(window.holds(row.answered_at) for row in mine)
            )
            if news:
                key = (meeting.id, ("*",) if everything else tuple(sorted(reader.delegations)))
                if key not in lines:
                    lines[key] = _meeting_line(meeting, mine)
                build.add(index, "meetings", Entry(meeting.starts_at, meeting.id, lines[key]))
        if reader.delegations:
            build.total(index, "leave", pending_total)


def _meeting_line(meeting: Meeting, rows: list[Any]) -> Line:
    """The roll's buckets for the reader's share of the meeting, and the quorum warning."""
    figures = RollLine()
    for r in rows:
        if quorum.counts(meeting.kind, r.delegate):
            figures.add(bucket(r.answer, r.leave_status, r.checked_in_at is not None, False))
    coming = figures.confirmed + figures.checked_in
    params = {
        "id": meeting.id,
        "title": meeting.title,
        "_at": meeting.starts_at.isoformat(),
        "expected": figures.expected,
        "confirmed": coming,
        "on_leave": figures.on_leave,
        "unanswered": figures.unanswered,
        "needed": quorum.needed(figures.expected),
    }
    at_risk = quorum.applies(meeting.kind) and not quorum.reached(coming, figures.expected)
    key = "digests.line.meeting_at_risk" if at_risk and figures.expected else "digests.line.meeting"
    return Line(key, params, f"/meeting roll {meeting.id}")


# ---------------------------------------------------------------- benefits


def _last_step(application: BenefitApplication) -> datetime | None:
    if not application.history:
        return None
    return datetime.fromisoformat(str(application.history[-1]["at"]))


async def _benefits(store: Store, build: _Builder, pack: Pack) -> None:
    rows = list(
        await store.session.execute(
            select(BenefitApplication, Staff.name, Staff.sub_union)
            .join(Staff, Staff.id == BenefitApplication.staff_id)
            .where(BenefitApplication.status == applications.PENDING)
        )
    )
    for index, (reader, window) in enumerate(build.requests):
        if not (reader.school or reader.sub_unions):
            continue
        total = 0
        for application, name, sub_union in rows:
            item = pack.item(application.item)
            if item is None or application.staff_id == reader.staff_id:
                continue
            if not applications.may_review(
                reader.reviewer, applications.level(pack, application), sub_union
            ):
                continue
            total += 1
            at = _last_step(application)
            if window.holds(at):
                assert at is not None
                names = {f"item_{lang}": item.name(lang) for lang in ("zh", "en")}
                line = Line(
                    "digests.line.benefit",
                    {"id": application.id, "name": name, **names, "_at": at.isoformat()},
                    f"/application show {application.id}",
                )
                build.add(index, "benefits", Entry(at, application.id, line))
        build.total(index, "benefits", total)


async def _hardship(store: Store, build: _Builder, lo: datetime, hi: datetime, tz: tzinfo) -> None:
    """Hardship records whose yearly review came due: the number and the person's name
    only, never the causes (the register itself is read with /hardship show, audited)."""
    if not any(r.school or r.sub_unions for r, _w in build.requests):
        return
    rows = list(
        await store.session.execute(
            select(HardshipRecord.id, HardshipRecord.next_review, Staff.name, Staff.sub_union)
            .join(Staff, Staff.id == HardshipRecord.staff_id)
            .where(
                HardshipRecord.status == "open",
                HardshipRecord.next_review <= hi.astimezone(tz).date(),
            )
        )
    )
    for index, (reader, window) in enumerate(build.requests):
        if not (reader.school or reader.sub_unions):
            continue
        total = 0
        for record_id, review_on, name, sub_union in rows:
            if review_on is None or not (reader.school or sub_union in reader.sub_unions):
                continue
            at = _start_of(review_on, tz)
            if at >= window.end:
                continue
            total += 1
            if window.holds(at):
                line = Line(
                    "digests.line.hardship",
                    {"id": record_id, "name": name, "day": review_on.isoformat()},
                    f"/hardship show {record_id}",
                )
                build.add(index, "hardship", Entry(at, record_id, line))
        build.total(index, "hardship", total)


# ---------------------------------------------------------------- deliveries


async def _deliveries(store: Store, build: _Builder, lo: datetime, hi: datetime) -> None:
    """Messages that will never arrive: failed for good, past their time, or to someone
    with no linked account. For school officers and administrators."""
    if not any(r.school for r, _w in build.requests):
        return
    failed = list(
        await store.session.execute(
            select(Delivery.id, Delivery.status, Delivery.platform, Delivery.ended_at, Staff.name)
            .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
            .join(Staff, Staff.id == OutboxMessage.recipient_id)
            .where(
                Delivery.status.in_([FAILED, MISSED]),
                Delivery.ended_at >= lo,
                Delivery.ended_at < hi,
            )
        )
    )
    no_delivery = ~exists().where(Delivery.outbox_id == OutboxMessage.id)
    unlinked = list(
        await store.session.execute(
            select(OutboxMessage.id, OutboxMessage.created_at, Staff.name, Staff.staff_no)
            .join(Staff, Staff.id == OutboxMessage.recipient_id)
            .where(OutboxMessage.created_at >= lo, OutboxMessage.created_at < hi, no_delivery)
        )
    )
    for index, (reader, window) in enumerate(build.requests):
        if not reader.school:
            continue
        for delivery_id, status, platform, ended, name in failed:
            if ended is not None and window.holds(ended):
                line = Line(
                    f"digests.line.{status}", {"name": name, "platform": platform}, "/deliveries"
                )
                build.add(index, "deliveries", Entry(ended, delivery_id, line))
        # One line per person not linked, however many messages wait for them.
        latest: dict[str, tuple[datetime, int, str, int]] = {}
        for message_id, created, name, staff_no in unlinked:
            if window.holds(created):
                at, first, _name, count = latest.get(staff_no, (created, message_id, name, 0))
                latest[staff_no] = (max(at, created), first, name, count + 1)
        for staff_no, (at, first, name, count) in latest.items():
            line = Line(
                "digests.line.unlinked",
                {"name": name, "staff_no": staff_no, "count": count},
            )
            build.add(index, "deliveries", Entry(at, -first, line))
