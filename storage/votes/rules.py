"""The arithmetic of a congress vote, as data with the law's defaults.

The national rules for school congresses (教育部令第32号) and each school's own 实施办法 fix
the thresholds; here they are values a vote carries, shown before it opens:

- a vote may open only while more than two thirds of the delegates expected are signed in
  (the meeting's quorum, `storage.meetings.quorum`);
- a resolution passes with more than half of a base: all the delegates expected (the
  default), those present, or the ballots cast; a statute change needs two thirds;
- a candidate is elected with more than half of the ballots cast, highest first up to the
  seats; a tie at the last seat, or fewer elected than seats, is reported as such, for a
  further round (另行选举) among the named candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from storage.meetings import quorum


class Base(StrEnum):
    """What a resolution's majority is counted against."""

    EXPECTED = "expected"  # every delegate expected at the meeting
    PRESENT = "present"  # those signed in
    CAST = "cast"  # the ballots cast


HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)


def more_than(share: Fraction, of: int) -> int:
    """The smallest whole number of votes that is more than `share` of `of`."""
    return int(share * of) + 1 if of > 0 else 1


def may_open(present: int, expected: int) -> bool:
    """More than two thirds of the delegates expected are signed in."""
    return quorum.reached(present, expected)


@dataclass(frozen=True, slots=True)
class Counts:
    expected: int
    present: int
    cast: int


def base_of(base: Base, counts: Counts) -> int:
    return {Base.EXPECTED: counts.expected, Base.PRESENT: counts.present, Base.CAST: counts.cast}[
        base
    ]


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    needed: int  # votes in favour needed
    base: int  # what they were counted against


def resolution(yes: int, counts: Counts, base: Base, share: Fraction = HALF) -> Verdict:
    """Passed when those in favour are more than `share` of the base."""
    whole = base_of(base, counts)
    needed = more_than(share, whole)
    return Verdict(passed=yes >= needed and whole > 0, needed=needed, base=whole)


@dataclass(frozen=True, slots=True)
class Election:
    elected: list[int]  # candidate ids, highest first
    tied: list[int]  # tied for the last seat(s): a further round among them
    short: int  # seats left unfilled (fewer reached the majority)
    needed: int  # votes a candidate needed

    @property
    def complete(self) -> bool:
        return not self.tied and not self.short


def election(votes: dict[int, int], seats: int, cast: int) -> Election:
    """Candidates with more than half of the ballots cast, highest first, up to `seats`.

    When the candidates at the edge of the seats have the same count, none of them is
    elected: they are `tied`, and the seats they compete for stay open for a further round.
    """
    needed = more_than(HALF, cast)
    qualified = sorted((c for c, n in votes.items() if n >= needed), key=lambda c: (-votes[c], c))
    if len(qualified) <= seats:
        return Election(qualified, [], seats - len(qualified), needed)
    edge = votes[qualified[seats - 1]]
    above = [c for c in qualified if votes[c] > edge]
    at_edge = [c for c in qualified if votes[c] == edge]
    if len(above) + len(at_edge) == seats:
        return Election(above + at_edge, [], 0, needed)
    return Election(above, at_edge, seats - len(above), needed)
