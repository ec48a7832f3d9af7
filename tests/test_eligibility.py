"""Eligibility is a pure function of (person, item, date, what was granted before): a table."""

from __future__ import annotations

from datetime import date

import pytest

from storage.benefits.eligibility import (
    Person,
    check,
    claim_window,
    full_years,
    same_event,
)
from storage.benefits.policy import Band, Item

ON = date(2026, 6, 15)
MEMBER = Person("establishment", True, birth_date=date(1980, 6, 15), hire_date=date(2006, 6, 15))
AGENCY = Person("agency", True, birth_date=date(1990, 1, 1), hire_date=date(2020, 1, 1))
NON_EST_MEMBER = Person("non_establishment", True, birth_date=date(1995, 1, 1))
NON_EST = Person("non_establishment", False, birth_date=date(1995, 1, 1))
NON_MEMBER = Person("establishment", False, birth_date=date(1980, 1, 1))
DELEGATE = Person("establishment", True, delegate=True)

EXAM = Item("exam", "体检", "Exam", frequency="yearly", members_only=False)
UNION = Item("hosp", "住院", "Hosp", union_funded=True)
SCHOOL = Item("ill", "大病", "Ill")  # members only, not union-funded
RETIRE = Item(
    "ret", "退休", "Ret", frequency="once", union_funded=True, min_age=46, min_service_years=20
)
YOUNG = Item("young", "青年", "Young", max_age=45)
DELEGATES = Item("del", "代表", "Del", delegates_only=True)
ESTAB = Item("est", "编内", "Est", employment=("establishment",))
BANDED = Item(
    "banded",
    "分龄",
    "Banded",
    frequency="every_n_years",
    every_years=3,
    bands=(Band(0, 39, 2), Band(40, 200, 1)),
)


@pytest.mark.parametrize(
    ("person", "item", "on", "granted", "eligible", "reason"),
    [
        # membership and employment type
        (MEMBER, EXAM, ON, [], True, "ok"),
        (NON_MEMBER, EXAM, ON, [], True, "ok"),  # the exam is every staff member's
        (NON_MEMBER, SCHOOL, ON, [], False, "members_only"),
        (NON_EST_MEMBER, UNION, ON, [], True, "ok"),
        (NON_EST_MEMBER, SCHOOL, ON, [], False, "not_union_funded"),
        (NON_EST, UNION, ON, [], False, "join_first"),
        (NON_EST, EXAM, ON, [], False, "join_first"),
        (AGENCY, ESTAB, ON, [], False, "employment"),
        (MEMBER, ESTAB, ON, [], True, "ok"),
        (MEMBER, DELEGATES, ON, [], False, "delegates_only"),
        (DELEGATE, DELEGATES, ON, [], True, "ok"),
        # age at its edges: on the birthday itself the new age counts
        (MEMBER, RETIRE, date(2026, 6, 14), [], False, "too_young"),  # 45 the day before
        (MEMBER, RETIRE, date(2026, 6, 15), [], True, "ok"),  # 46 on the birthday
        (MEMBER, YOUNG, date(2026, 6, 14), [], True, "ok"),
        (MEMBER, YOUNG, date(2026, 6, 15), [], False, "too_old"),
        (Person("establishment", True), YOUNG, ON, [], False, "too_old"),  # no birth date
        # years of service from hire_date
        (
            Person("establishment", True, birth_date=date(1970, 1, 1), hire_date=date(2006, 6, 16)),
            RETIRE,
            ON,
            [],
            False,
            "service_years",
        ),
        # frequency
        (MEMBER, EXAM, ON, [date(2026, 1, 5)], False, "already_this_year"),
        (MEMBER, EXAM, ON, [date(2025, 12, 31)], True, "ok"),
        (MEMBER, RETIRE, ON, [date(2020, 1, 1)], False, "already_once"),
        (MEMBER, UNION, ON, [date(2026, 1, 1), date(2026, 3, 1)], True, "ok"),  # per event
        (AGENCY, BANDED, ON, [date(2025, 3, 1)], False, "not_due"),  # 36: every 2 years
        (AGENCY, BANDED, ON, [date(2024, 3, 1)], True, "ok"),
        (MEMBER, BANDED, ON, [date(2025, 3, 1)], True, "ok"),  # 46: every year
    ],
)
def test_eligibility_table(
    person: Person, item: Item, on: date, granted: list[date], eligible: bool, reason: str
) -> None:
    verdict = check(person, item, on, granted)
    assert (verdict.eligible, verdict.reason) == (eligible, reason)


def test_full_years_counts_the_anniversary() -> None:
    assert full_years(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert full_years(date(2000, 2, 29), date(2026, 3, 1)) == 26
    assert full_years(date(1980, 6, 15), date(2026, 6, 15)) == 46


def test_claim_window_and_once_per_event() -> None:
    item = Item("hosp", "住院", "Hosp", claim_within_days=180)
    assert claim_window(item, date(2026, 1, 1), date(2026, 6, 30)).eligible  # day 180
    late = claim_window(item, date(2026, 1, 1), date(2026, 7, 1))
    assert (
        not late.eligible and late.reason == "too_late" and late.params["deadline"] == "2026-06-30"
    )
    assert claim_window(item, date(2026, 7, 2), date(2026, 7, 1)).reason == "event_in_future"
    assert same_event(item, date(2026, 1, 1), [date(2026, 1, 1)]).reason == "same_event"
    assert same_event(item, date(2026, 1, 2), [date(2026, 1, 1)]).eligible
