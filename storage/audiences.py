"""Who a survey or an activity is for, as one SQL condition on the roster.

Everyone active; all delegates; one sub-union; one employment type (a survey of agency
staff); or one club's members (a club's own activity). Meetings invite their own way
(delegations, the committee, a list of staff numbers): `storage.meetings.service`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from storage.models import ClubMember, Staff


def condition(audience: str, scope: str = "", club_id: int | None = None) -> ColumnElement[bool]:
    active = Staff.active.is_(True)
    match audience:
        case "delegates":
            return active & Staff.delegate.is_(True)
        case "sub_union":
            return active & (Staff.sub_union == scope)
        case "employment":
            return active & (Staff.employment_type == scope)
        case "club":
            return active & Staff.id.in_(
                select(ClubMember.staff_id).where(ClubMember.club_id == club_id)
            )
    return active
