"""Who may have which benefit, on which day: a pure function of the person, the item, the
date and what they were granted before. No database, no clock: tested as a table.

The seed's rule for non-establishment staff (art. 12): once union members, they receive
the union-funded items; non-members receive none and are told how to join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from storage.benefits.policy import Item


@dataclass(frozen=True, slots=True)
class Person:
    employment_type: str
    union_member: bool
    delegate: bool = False
    birth_date: date | None = None
    hire_date: date | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """`reason` names the catalogue message (benefits.reason.<reason>) that says why."""

    eligible: bool
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


OK = Verdict(True, "ok")


def full_years(since: date, on: date) -> int:
    """Whole years from `since` to `on`: on the anniversary itself the new year counts."""
    years = on.year - since.year
    if (on.month, on.day) < (since.month, since.day):
        years -= 1
    return years


def _every(item: Item, age: int | None) -> int:
    for band in item.bands:
        if age is not None and band.min_age <= age <= band.max_age:
            return band.every_years
    return item.every_years


def check(person: Person, item: Item, on: date, granted: Sequence[date] = ()) -> Verdict:
    """May `person` have `item` on `on`, given the dates it was granted to them before?"""
    if person.employment_type == "non_establishment":
        if not person.union_member:
            return Verdict(False, "join_first")
        if not item.union_funded:
            return Verdict(False, "not_union_funded")
    elif item.members_only and not person.union_member:
        return Verdict(False, "members_only")
    if item.employment and person.employment_type not in item.employment:
        return Verdict(False, "employment")
    if item.delegates_only and not person.delegate:
        return Verdict(False, "delegates_only")
    age = full_years(person.birth_date, on) if person.birth_date else None
    if item.min_age is not None and (age is None or age < item.min_age):
        return Verdict(False, "too_young", {"min": item.min_age})
    if item.max_age is not None and (age is None or age > item.max_age):
        return Verdict(False, "too_old", {"max": item.max_age})
    if item.min_service_years:
        service = full_years(person.hire_date, on) if person.hire_date else 0
        if service < item.min_service_years:
            return Verdict(False, "service_years", {"min": item.min_service_years})
    return _frequency(item, on, list(granted), age)


def _frequency(item: Item, on: date, granted: list[date], age: int | None) -> Verdict:
    if not granted:
        return OK
    last = max(granted)
    if item.frequency == "once":
        return Verdict(False, "already_once", {"date": last.isoformat()})
    if item.frequency == "yearly" and any(g.year == on.year for g in granted):
        return Verdict(False, "already_this_year", {"year": on.year})
    if item.frequency == "every_n_years":
        every = _every(item, age)
        if on.year - last.year < every:
            return Verdict(False, "not_due", {"year": last.year + every})
    return OK


def claim_window(item: Item, event: date | None, today: date) -> Verdict:
    """A claim comes after its event and within the item's window (if it has one)."""
    if event is None:
        return OK
    if event > today:
        return Verdict(False, "event_in_future")
    if item.claim_within_days and today - event > timedelta(days=item.claim_within_days):
        deadline = event + timedelta(days=item.claim_within_days)
        return Verdict(
            False, "too_late", {"days": item.claim_within_days, "deadline": deadline.isoformat()}
        )
    return OK


def same_event(item: Item, event: date | None, claimed_events: list[date]) -> Verdict:
    """Once per event: a second claim for the same event date is refused."""
    if item.frequency == "once_per_event" and event is not None and event in claimed_events:
        return Verdict(False, "same_event", {"date": event.isoformat()})
    return OK
