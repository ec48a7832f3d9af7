"""Votes at a meeting: preparing, opening with the quorum, casting, closing, tallying, the
scrutineers' confirmation and the announcement.

Secret means the choice passes through no table that names the person: the ballot's
buttons carry it (the confirmation step is a reply, not a stored state), casting writes
"has voted" and an anonymous ballot in one transaction, the audit log records who opened,
closed and confirmed, never who chose what, and closing rewrites the ballots and the
voters in random order (`storage.anonymity`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.sql import Select

from storage import anonymity, audit, groups, outbox
from storage.clock import utcnow
from storage.errors import VoteError
from storage.meetings import quorum
from storage.meetings import service as meetings
from storage.models import (
    Attendance,
    Ballot,
    BallotMark,
    Meeting,
    Staff,
    Vote,
    VoteCandidate,
    VoteVoter,
)
from storage.store import Store
from storage.upsert import insert_ignore
from storage.votes import rules

KINDS = ("resolution", "election", "evaluation")
RESOLUTION_CHOICES = ("yes", "no", "abstain")  # 赞成 / 反对 / 弃权
# 民主评议's grades, best first (优秀 / 称职 / 基本称职 / 不称职), a letter each on a ballot.
GRADES = {"a": "excellent", "b": "competent", "c": "basic", "d": "incompetent"}
MIN_GROUP = 5  # a voter category is shown (and kept) only with at least this many ballots


async def get(store: Store, vote_id: int) -> Vote:
    found = await store.session.get(Vote, vote_id)
    if found is None:
        raise VoteError("votes.error.not_found", id=vote_id)
    return found


async def candidates(store: Store, vote_id: int) -> list[VoteCandidate]:
    return list(
        await store.session.scalars(
            select(VoteCandidate)
            .where(VoteCandidate.vote_id == vote_id)
            .order_by(VoteCandidate.position)
        )
    )


async def create(
    store: Store,
    meeting: Meeting,
    *,
    kind: str,
    title: str,
    text: str = "",
    secret: bool = True,
    seats: int = 1,
    candidate_nos: list[str] | None = None,
    posts: dict[str, str] | None = None,
    base: str = rules.Base.EXPECTED,
    share: str = "1/2",
    scrutineer_nos: list[str] | None = None,
    runoff_of: int | None = None,
    signed_in_only: bool = True,
    minutes: int | None = None,
    categories: dict[str, str] | None = None,
    weights: dict[str, float] | None = None,
) -> Vote:
    """A vote prepared for a meeting. An election is always secret, needs more candidates
    than nobody and at least as many as its seats; two scrutineers are named for a secret
    vote."""
    if kind not in KINDS:
        raise VoteError("votes.error.kind", allowed=", ".join(KINDS))
    if meeting.status != "scheduled":
        raise VoteError("votes.error.meeting_cancelled", id=meeting.id)
    if base not in {b.value for b in rules.Base}:
        raise VoteError("votes.error.base")
    if share not in ("1/2", "2/3"):
        raise VoteError("votes.error.share")
    if (categories or weights) and kind != "evaluation":
        raise VoteError("votes.error.categories_evaluation_only")
    if weights and set(weights) - set((categories or {}).values()):
        raise VoteError("votes.error.weights")
    staff_of = await _staff(
        store, [*(candidate_nos or []), *(scrutineer_nos or []), *(categories or {})]
    )
    vote = Vote(
        meeting_id=meeting.id,
        kind=kind,
        title=title,
        text=text,
        secret=secret or kind != "resolution",  # elections and evaluations: always secret
        choices=list(RESOLUTION_CHOICES)
        if kind == "resolution"
        else list(GRADES.values())
        if kind == "evaluation"
        else ["yes"],
        seats=seats,
        base=base,
        share=share,
        status="draft",
        scrutineers=[staff_of[no][0] for no in scrutineer_nos or []],
        confirmed_by=[],
        runoff_of=runoff_of,
        signed_in_only=signed_in_only,
        minutes=minutes,
        categories={str(staff_of[no][0]): c for no, c in (categories or {}).items()},
        weights=dict(weights or {}),
        created_by=store.actor.staff_id,
        created_at=utcnow(),
    )
    if vote.secret and len(set(vote.scrutineers)) < 2:
        raise VoteError("votes.error.scrutineers")
    if kind == "election" and (not candidate_nos or len(candidate_nos) < seats or seats < 1):
        raise VoteError("votes.error.candidates", seats=seats)
    if kind == "evaluation" and not candidate_nos:
        raise VoteError("votes.error.evaluated")
    store.session.add(vote)
    await store.session.flush()
    for position, no in enumerate(candidate_nos or [], start=1):
        staff_id, name = staff_of[no]
        store.session.add(
            VoteCandidate(
                vote_id=vote.id,
                position=position,
                staff_id=staff_id,
                name=name,
                post=(posts or {}).get(no, ""),
            )
        )
    await audit.record(store, "vote.create", "vote", vote.id, meeting=meeting.id, kind=kind)
    return vote


async def _staff(store: Store, numbers: list[str]) -> dict[str, tuple[int, str]]:
    found = {
        no: (staff_id, name)
        for no, staff_id, name in await store.session.execute(
            select(Staff.staff_no, Staff.id, Staff.name).where(Staff.staff_no.in_(numbers))
        )
    }
    missing = [no for no in numbers if no not in found]
    if missing:
        raise VoteError("votes.error.unknown_staff", numbers=", ".join(missing))
    return found


async def scrutineer_names(store: Store, vote: Vote) -> list[str]:
    if not vote.scrutineers:
        return []
    return list(
        await store.session.scalars(
            select(Staff.name).where(Staff.id.in_(vote.scrutineers)).order_by(Staff.staff_no)
        )
    )


def share_of(vote: Vote) -> Fraction:
    return rules.TWO_THIRDS if vote.share == "2/3" else rules.HALF


async def counts(store: Store, vote: Vote, meeting: Meeting) -> rules.Counts:
    roll = await meetings.roll(store, meeting)
    cast = int(
        await store.session.scalar(select(func.count()).where(Ballot.vote_id == vote.id)) or 0
    )
    return rules.Counts(roll.total.expected, roll.total.checked_in, cast)


def _may_vote(vote: Vote) -> ColumnElement[bool]:
    """The one rule of who may vote, on an invitation joined to its meeting: the meeting's
    delegates (at a college's congress, everyone invited: all count toward its quorum), who
    are signed in, or all of them where the vote says so."""
    condition = (Attendance.meeting_id == vote.meeting_id) & (
        Attendance.delegate.is_(True) | (Meeting.kind == "college")
    )
    if vote.signed_in_only:
        condition = condition & Attendance.checked_in_at.is_not(None)
    return condition


def _eligible(vote: Vote) -> Select[int]:
    return (
        select(Attendance.staff_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(_may_vote(vote))
    )


async def open_vote(store: Store, vote: Vote) -> int:
    """Open it while more than two thirds of the delegates expected are signed in; the
    ballot goes at once to everyone signed in. Returns how many were sent one."""
    if vote.status != "draft":
        raise VoteError("votes.error.not_draft", id=vote.id)
    meeting = await meetings.get(store, vote.meeting_id)
    figures = await counts(store, vote, meeting)
    if not rules.may_open(figures.present, figures.expected):
        raise VoteError(
            "votes.error.no_quorum",
            present=figures.present,
            expected=figures.expected,
            needed=quorum.needed(figures.expected),
        )
    vote.status = "open"
    vote.opened_at = utcnow()
    if vote.minutes:
        vote.closes_at = vote.opened_at + timedelta(minutes=vote.minutes)
    await audit.record(store, "vote.open", "vote", vote.id)
    return await outbox.enqueue_select(
        store,
        _eligible(vote),
        reason=f"vote:{vote.id}:ballot",
        message_key="votes.notify.ballot",
        why_key="votes.why.signed_in" if vote.signed_in_only else "votes.why.delegate",
        params=outbox.with_buttons(
            params(vote, meeting), [outbox.Button("votes.button.ballot", f"/vote ballot {vote.id}")]
        ),
        urgent=True,
    )


def params(vote: Vote, meeting: Meeting) -> dict[str, object]:
    return {"id": vote.id, "title": vote.title, "meeting": meeting.title}


async def offer_open(store: Store, meeting: Meeting, staff_id: int) -> int:
    """Someone who signed in late gets the ballots still open."""
    offered = 0
    for vote in await store.session.scalars(
        select(Vote).where(Vote.meeting_id == meeting.id, Vote.status == "open")
    ):
        offered += await outbox.enqueue(
            store,
            reason=f"vote:{vote.id}:ballot",
            recipient_id=staff_id,
            message_key="votes.notify.ballot",
            why_key="votes.why.signed_in",
            params=outbox.with_buttons(
                params(vote, meeting),
                [outbox.Button("votes.button.ballot", f"/vote ballot {vote.id}")],
            ),
            urgent=True,
        )
    return offered


async def may_vote(store: Store, vote: Vote, staff_id: int) -> None:
    """Refuses a closed vote, someone not signed in (or not a delegate), and a second ballot:
    one query, since hundreds press at once."""
    if vote.status != "open":
        raise VoteError("votes.error.not_open", id=vote.id, status=vote.status)
    voted = (
        select(VoteVoter.id)
        .where(VoteVoter.vote_id == vote.id, VoteVoter.staff_id == staff_id)
        .exists()
    )
    found = (
        await store.session.execute(
            select(voted)
            .select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(_may_vote(vote), Attendance.staff_id == staff_id)
        )
    ).first()
    if found is None:
        raise VoteError("votes.error.not_signed_in", id=vote.id, meeting=vote.meeting_id)
    if found[0]:
        raise VoteError("votes.error.already_voted", id=vote.id)


def marks_for(vote: Vote, choice: str, candidate_count: int) -> list[tuple[int, str]]:
    """The marks a choice makes: "yes" on a resolution, "1,3" (positions) in an election.
    Refuses what the ballot cannot say."""
    if vote.kind == "resolution":
        if choice not in RESOLUTION_CHOICES:
            raise VoteError("votes.error.choice")
        return [(0, choice)]
    if vote.kind == "evaluation":
        graded = evaluation_marks(choice)
        if sorted(graded) != list(range(1, candidate_count + 1)):
            raise VoteError("votes.error.grade_everyone", count=candidate_count)
        return [(p, GRADES[g]) for p, g in sorted(graded.items())]
    picked = sorted({int(p) for p in choice.split(",") if p.isdigit()}) if choice != "none" else []
    if any(not 1 <= p <= candidate_count for p in picked) or (choice != "none" and not picked):
        raise VoteError("votes.error.choice")
    if len(picked) > vote.seats:
        raise VoteError("votes.error.too_many", seats=vote.seats)
    return [(p, "yes") for p in picked]


def evaluation_marks(choice: str) -> dict[int, str]:
    """ "1a,2b,3a": a grade letter for each person's position. Refuses anything else."""
    found: dict[int, str] = {}
    for part in (p for p in choice.split(",") if p):
        position, grade = part[:-1], part[-1:]
        if not position.isdigit() or grade not in GRADES or int(position) in found:
            raise VoteError("votes.error.choice")
        found[int(position)] = grade
    return found


async def cast(store: Store, vote: Vote, staff_id: int, choice: str) -> None:
    """Cast a ballot, final like paper: "has voted" and the ballot in one unit of work, the
    ballot with a random key and no person. Two presses at once count once: the second
    finds the first's row and is told it voted already."""
    await may_vote(store, vote, staff_id)
    count = 0 if vote.kind == "resolution" else len(await candidates(store, vote.id))
    marks = marks_for(vote, choice, count)
    first = await insert_ignore(
        store.session,
        VoteVoter,
        [{"vote_id": vote.id, "staff_id": staff_id}],
        conflict=("vote_id", "staff_id"),
    )
    if not first:
        raise VoteError("votes.error.already_voted", id=vote.id)
    key = secrets.token_hex(16).upper()
    store.session.add(Ballot(key=key, vote_id=vote.id, category=vote.categories.get(str(staff_id))))
    store.session.add_all(BallotMark(ballot_key=key, item=i, value=v) for i, v in marks)
    await store.session.flush()  # the ballot, then its marks: one flush


async def status(store: Store, vote: Vote) -> tuple[int, int]:
    """How many have voted and how many may: never who."""
    voted = int(
        await store.session.scalar(select(func.count()).where(VoteVoter.vote_id == vote.id)) or 0
    )
    eligible = int(
        await store.session.scalar(select(func.count()).select_from(_eligible(vote).subquery()))
        or 0
    )
    return voted, eligible


async def close(store: Store, vote: Vote) -> None:
    """No more ballots; the counts of the meeting are kept with it; ballots and voters are
    rewritten in random order. The result waits for the scrutineers."""
    if vote.status != "open":
        raise VoteError("votes.error.not_open", id=vote.id, status=vote.status)
    meeting = await meetings.get(store, vote.meeting_id)
    figures = await counts(store, vote, meeting)
    vote.expected, vote.present = figures.expected, figures.present
    vote.status = "closed"
    vote.closed_at = utcnow()
    await outbox.cancel_pending(store, f"vote:{vote.id}:ballot")
    if vote.categories:  # a category too small to show could point at its few voters
        small = (
            select(Ballot.category)
            .where(Ballot.vote_id == vote.id, Ballot.category.is_not(None))
            .group_by(Ballot.category)
            .having(func.count() < MIN_GROUP)
        )
        await store.session.execute(
            update(Ballot)
            .where(Ballot.vote_id == vote.id, Ballot.category.in_(small))
            .values(category=None)
        )
    if vote.secret:
        await anonymity.reshuffle_vote(store, vote.id)
    await audit.record(store, "vote.close", "vote", vote.id)


@dataclass(kw_only=True)
class Tally:
    vote: Vote
    cast: int
    counts: dict[int, dict[str, int]]  # item -> value -> ballots
    verdict: rules.Verdict | None = None
    election: rules.Election | None = None
    # An evaluation's voter categories of at least MIN_GROUP ballots: category -> ballots,
    # and category -> item -> value -> ballots.
    categories: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)

    def of(self, item: int, value: str) -> int:
        return self.counts.get(item, {}).get(value, 0)

    def share(self, item: int, best: int, category: str | None = None) -> float:
        """The share of ballots that gave `item` one of the `best` grades (1: 优秀; 2: 称职
        or better), overall or within a category."""
        counts = self.counts if category is None else self.by_category.get(category, {})
        given = counts.get(item, {})
        graded = sum(given.values())
        top = sum(given.get(grade, 0) for grade in list(GRADES.values())[:best])
        return top / graded if graded else 0.0

    def weighted(self, item: int, best: int) -> float | None:
        """The categories' shares weighted as the vote says (None without weights, or when
        a weighted category is too small to show)."""
        weights = self.vote.weights
        if not weights or any(c not in self.categories for c in weights):
            return None
        total = sum(weights.values())
        return sum(w * self.share(item, best, c) for c, w in weights.items()) / total


async def tally(store: Store, vote: Vote) -> Tally:
    """Counted by the database (GROUP BY), with the rule's verdict."""
    cast = int(
        await store.session.scalar(select(func.count()).where(Ballot.vote_id == vote.id)) or 0
    )
    found: dict[int, dict[str, int]] = {}
    for item, value, n in await store.session.execute(
        select(BallotMark.item, BallotMark.value, func.count())
        .join(Ballot, Ballot.key == BallotMark.ballot_key)
        .where(Ballot.vote_id == vote.id)
        .group_by(BallotMark.item, BallotMark.value)
    ):
        found.setdefault(int(item), {})[str(value)] = int(n)
    result = Tally(vote=vote, cast=cast, counts=found)
    numbers = rules.Counts(vote.expected, vote.present, cast)
    if vote.kind == "evaluation":
        if vote.categories:
            sizes = {
                str(c): int(n)
                for c, n in await store.session.execute(
                    select(Ballot.category, func.count())
                    .where(Ballot.vote_id == vote.id, Ballot.category.is_not(None))
                    .group_by(Ballot.category)
                )
            }
            result.categories = {c: n for c, n in sizes.items() if n >= MIN_GROUP}
            for category, item, value, n in await store.session.execute(
                select(Ballot.category, BallotMark.item, BallotMark.value, func.count())
                .join(Ballot, Ballot.key == BallotMark.ballot_key)
                .where(Ballot.vote_id == vote.id, Ballot.category.in_(list(result.categories)))
                .group_by(Ballot.category, BallotMark.item, BallotMark.value)
            ):
                result.by_category.setdefault(str(category), {}).setdefault(int(item), {})[
                    str(value)
                ] = int(n)
        return result
    if vote.kind == "resolution":
        result.verdict = rules.resolution(
            found.get(0, {}).get("yes", 0), numbers, rules.Base(vote.base), share_of(vote)
        )
    else:
        votes = {
            c.position: found.get(c.position, {}).get("yes", 0)
            for c in await candidates(store, vote.id)
        }
        result.election = rules.election(votes, vote.seats, cast)
    return result


def evaluation_lines(found: Tally, everyone: list[VoteCandidate]) -> list[str]:
    """Per person, language-neutral: name, the count of each grade (best first), and the
    shares of 优秀 and of 称职 or better among the ballots that graded them."""
    lines = []
    for c in everyone:
        counts = [found.of(c.position, grade) for grade in GRADES.values()]
        graded = sum(counts)
        excellent = counts[0] / graded if graded else 0.0
        competent = (counts[0] + counts[1]) / graded if graded else 0.0
        lines.append(f"{c.name} {'/'.join(map(str, counts))} ({excellent:.0%} / {competent:.0%})")
    return lines


async def confirm(store: Store, vote: Vote, staff_id: int) -> bool:
    """A scrutineer confirms the tally; when all have, the result is announced (True)."""
    if vote.status != "closed":
        raise VoteError("votes.error.not_closed", id=vote.id, status=vote.status)
    if staff_id not in vote.scrutineers:
        raise VoteError("votes.error.not_scrutineer", id=vote.id)
    if staff_id not in vote.confirmed_by:
        vote.confirmed_by = [*vote.confirmed_by, staff_id]
        await audit.record(store, "vote.confirm", "vote", vote.id)
    if set(vote.scrutineers) <= set(vote.confirmed_by):
        vote.status = "announced"
        await _announce(store, vote)
        return True
    return False


async def _announce(store: Store, vote: Vote) -> None:
    """To everyone invited to the meeting, and in its registered groups: the result only."""
    meeting = await meetings.get(store, vote.meeting_id)
    invited = select(Attendance.staff_id).where(Attendance.meeting_id == meeting.id)
    found = await tally(store, vote)
    message: dict[str, object] = {
        **params(vote, meeting),
        "cast": found.cast,
        "expected": vote.expected,
        "present": vote.present,
    }
    if found.verdict is not None:
        key = "votes.notify.result_passed" if found.verdict.passed else "votes.notify.result_failed"
        message |= {
            "yes": found.of(0, "yes"),
            "no": found.of(0, "no"),
            "abstain": found.of(0, "abstain"),
            "needed": found.verdict.needed,
        }
    elif vote.kind == "evaluation":
        key = "votes.notify.result_evaluation"
        message |= {"people": "; ".join(evaluation_lines(found, await candidates(store, vote.id)))}
    else:
        assert found.election is not None
        names = {c.position: c.name for c in await candidates(store, vote.id)}
        key = "votes.notify.result_election"
        message |= {
            "counts": ", ".join(f"{names[p]} {found.of(p, 'yes')}" for p in sorted(names)),
            "elected": ", ".join(names[p] for p in found.election.elected) or "-",
        }
    await outbox.enqueue_select(
        store,
        invited,
        reason=f"vote:{vote.id}:result",
        message_key=key,
        why_key="votes.why.invited",
        params=outbox.with_buttons(
            message, [outbox.Button("votes.button.results", f"/vote results {vote.id}")]
        ),
        urgent=True,
    )
    if meeting.audience in ("delegation", "sub_union"):
        chats = await groups.groups_for(store, meeting.audience, meeting.audience_scope)
    else:
        chats = [g for g in await groups.all_groups(store) if g.kind == "delegation"]
    for group in chats:
        await outbox.announce(
            store,
            group,
            reason=f"vote:{vote.id}:group_result",
            message_key=key,
            why_key="votes.why.group",
            params={**message, "group": group.scope},
        )
    await audit.record(store, "vote.announce", "vote", vote.id)


async def open_for(store: Store, staff_id: int) -> list[tuple[Vote, Meeting, bool]]:
    """Open votes of meetings I am signed in to, and whether I have voted."""
    rows = await store.session.execute(
        select(Vote, Meeting)
        .join(Meeting, Meeting.id == Vote.meeting_id)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(
            Vote.status == "open",
            Attendance.staff_id == staff_id,
            Attendance.checked_in_at.is_not(None) | Vote.signed_in_only.is_(False),
        )
        .order_by(Vote.id)
    )
    found = [(vote, meeting) for vote, meeting in rows]
    voted = set(
        await store.session.scalars(
            select(VoteVoter.vote_id).where(
                VoteVoter.staff_id == staff_id, VoteVoter.vote_id.in_([v.id for v, _ in found])
            )
        )
    )
    return [(vote, meeting, vote.id in voted) for vote, meeting in found]


async def runoff(store: Store, vote: Vote) -> Vote:
    """A further round (另行选举) for the seats an announced election left open: among the
    candidates tied for them, or else among all who were not elected. The same scrutineers
    count it."""
    if vote.kind != "election" or vote.status != "announced":
        raise VoteError("votes.error.no_runoff", id=vote.id)
    found = await tally(store, vote)
    election = found.election
    assert election is not None
    if election.complete:
        raise VoteError("votes.error.no_runoff", id=vote.id)
    everyone = await candidates(store, vote.id)
    pool = set(election.tied) or {
        c.position for c in everyone if c.position not in election.elected
    }
    staff_ids = [c.staff_id for c in everyone if c.position in pool and c.staff_id is not None]
    numbers = dict(
        (
            await store.session.execute(
                select(Staff.id, Staff.staff_no).where(
                    Staff.id.in_([*staff_ids, *vote.scrutineers])
                )
            )
        ).all()
    )
    meeting = await meetings.get(store, vote.meeting_id)
    rounds = 2
    earlier = vote.runoff_of
    while earlier is not None:
        rounds += 1
        earlier = (await get(store, earlier)).runoff_of
    return await create(
        store,
        meeting,
        kind="election",
        title=f"{vote.title.split(' #')[0]} #{rounds}",
        text=vote.text,
        seats=election.short,
        candidate_nos=[numbers[s] for s in staff_ids],
        scrutineer_nos=[numbers[s] for s in vote.scrutineers],
        runoff_of=vote.id,
    )


EXPORT_COLUMNS = (
    "vote",
    "title",
    "kind",
    "status",
    "choice",
    "count",
    "cast",
    "expected",
    "present",
    "outcome",
)


async def export_rows(store: Store, meeting_id: int) -> list[dict[str, object]]:
    """A meeting's closed votes, a row per choice or candidate, with the counts and the
    outcome (passed / failed; elected / tied / not elected). No person's choice: there is
    none to give."""
    rows: list[dict[str, object]] = []
    for vote in await store.session.scalars(
        select(Vote)
        .where(Vote.meeting_id == meeting_id, Vote.status.in_(("closed", "announced")))
        .order_by(Vote.id)
    ):
        found = await tally(store, vote)
        base = {
            "vote": vote.id,
            "title": vote.title,
            "kind": vote.kind,
            "status": vote.status,
            "cast": found.cast,
            "expected": vote.expected,
            "present": vote.present,
        }
        if found.verdict is not None:
            outcome = "passed" if found.verdict.passed else "failed"
            rows += [
                {**base, "choice": value, "count": found.of(0, value), "outcome": outcome}
                for value in RESOLUTION_CHOICES
            ]
            continue
        if vote.kind == "evaluation":
            for c in await candidates(store, vote.id):
                rows += [
                    {
                        **base,
                        "choice": f"{c.name}: {grade}",
                        "count": found.of(c.position, grade),
                        "outcome": "",
                    }
                    for grade in GRADES.values()
                ]
            continue
        assert found.election is not None
        for c in await candidates(store, vote.id):
            outcome = (
                "elected"
                if c.position in found.election.elected
                else "tied"
                if c.position in found.election.tied
                else "not elected"
            )
            rows.append(
                {**base, "choice": c.name, "count": found.of(c.position, "yes"), "outcome": outcome}
            )
    return rows


async def close_due(store: Store, now: datetime) -> int:
    """Close the votes whose time is up (the scrutineers are told the count waits for them)."""
    closed = 0
    for vote in list(
        await store.session.scalars(
            select(Vote).where(Vote.status == "open", Vote.closes_at <= now)
        )
    ):
        await close(store, vote)
        await outbox.tell_each(
            store,
            vote.scrutineers,
            reason=f"vote:{vote.id}:closed",
            message_key="votes.notify.closed",
            why_key="votes.why.scrutineer",
            params=outbox.with_buttons(
                {"id": vote.id, "title": vote.title},
                [outbox.Button("votes.button.results", f"/vote results {vote.id}")],
            ),
            urgent=True,
        )
        closed += 1
    return closed
