"""Who is who: chat identities, one-time invite codes, linking with throttling, preferences.

`lookup()` is on every message's path, so it is one query: the identity, its staff
row, and the staff member's roles, joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import aliased

from storage import audit, outbox
from storage.clock import utcnow
from storage.models import Identity, Staff, StaffRole
from storage.store import Store
from storage.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class StaffView:
    """A staff member as the rest of the program needs them, with derived roles."""

    id: int
    staff_no: str
    name: str
    department: str
    sub_union: str
    employment_type: str
    union_member: bool
    delegate: bool
    delegation: str | None
    email: str | None
    phone: str | None
    birth_date: date | None
    hire_date: date | None
    language: str | None
    timezone: str | None
    roles: tuple[tuple[str, str | None], ...]
    form_state: dict[str, Any] | None = field(default=None, compare=False)
    platforms: tuple[str, ...] = ()  # every platform this person linked


def derived_roles(
    staff_delegate: bool, union_member: bool, stored: list[tuple[str, str]]
) -> tuple[tuple[str, str | None], ...]:
    """Roles from the roster flags plus the stored ones; `staff` is everyone's."""
    roles: list[tuple[str, str | None]] = [("staff", None)]
    if union_member:
        roles.append(("member", None))
    if staff_delegate:
        roles.append(("delegate", None))
    roles.extend((role, scope or None) for role, scope in stored)
    return tuple(dict.fromkeys(roles))


_STAFF_COLUMNS = (
    Staff.id,
    Staff.staff_no,
    Staff.name,
    Staff.department,
    Staff.sub_union,
    Staff.employment_type,
    Staff.union_member,
    Staff.delegate,
    Staff.delegation,
    Staff.email,
    Staff.phone,
    Staff.birth_date,
    Staff.hire_date,
    Staff.language,
    Staff.timezone,
)


def view_from_rows(rows: list[Any], with_form: bool) -> StaffView | None:
    """A `StaffView` from the rows of `LOOKUP` (one per role and linked platform)."""
    if not rows:
        return None
    first = rows[0]
    stored = list(dict.fromkeys((row.role, row.scope) for row in rows if row.role is not None))
    platforms = tuple(dict.fromkeys(row.linked for row in rows if getattr(row, "linked", None)))
    return StaffView(
        id=first.id,
        staff_no=first.staff_no,
        name=first.name,
        department=first.department,
        sub_union=first.sub_union,
        employment_type=first.employment_type,
        union_member=first.union_member,
        delegate=first.delegate,
        delegation=first.delegation,
        email=first.email,
        phone=first.phone,
        birth_date=first.birth_date,
        hire_date=first.hire_date,
        language=first.language,
        timezone=first.timezone,
        roles=derived_roles(first.delegate, first.union_member, stored),
        form_state=first.form_state if with_form else None,
        platforms=platforms,
    )


_LINKED = aliased(Identity)
# One round trip per message: the person, their roles and their linked platforms
# (a few rows: roles x platforms), and the form they are filling in, if any.
LOOKUP = (
    select(
        *_STAFF_COLUMNS,
        Identity.form_state,
        StaffRole.role,
        StaffRole.scope,
        _LINKED.platform.label("linked"),
        _LINKED.id.label("linked_id"),  # the order of the platforms, also when nested
    )
    .join(Staff, Staff.id == Identity.staff_id)
    .join(_LINKED, _LINKED.staff_id == Staff.id)
    .outerjoin(StaffRole, StaffRole.staff_id == Staff.id)
    .where(Staff.active.is_(True))
    .order_by(_LINKED.id)
)


async def lookup(store: Store, platform: str, platform_user_id: str) -> StaffView | None:
    """The linked staff member for a chat identity, or None."""
    result = await store.session.execute(
        LOOKUP.where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
    )
    return view_from_rows(list(result), with_form=True)


async def _staff_where(store: Store, condition: ColumnElement[bool]) -> StaffView | None:
    result = await store.session.execute(
        select(*_STAFF_COLUMNS, StaffRole.role, StaffRole.scope)
        .outerjoin(StaffRole, StaffRole.staff_id == Staff.id)
        .where(condition)
    )
    return view_from_rows(list(result), with_form=False)


async def staff_by_no(store: Store, staff_no: str) -> StaffView | None:
    return await _staff_where(store, Staff.staff_no == staff_no)


async def staff_by_id(store: Store, staff_id: int) -> StaffView | None:
    return await _staff_where(store, Staff.id == staff_id)


async def staff_ids_by_no(store: Store, staff_nos: list[str]) -> dict[str, int]:
    rows = await store.session.execute(
        select(Staff.staff_no, Staff.id).where(Staff.staff_no.in_(staff_nos))
    )
    return {no: id_ for no, id_ in rows}


async def ensure_identity(
    store: Store,
    platform: str,
    platform_user_id: str,
    staff_id: int,
    *,
    display_name: str = "",
    address: str | None = None,
    via: str | None = None,
) -> Identity:
    """Link (or re-link) a chat identity to a staff member; audited when it changes anything.

    Race-free: the row is inserted if absent (ON CONFLICT DO NOTHING), then read, so two
    first messages of one person at once link them once and neither fails.
    """
    which = select(Identity).where(
        Identity.platform == platform, Identity.platform_user_id == platform_user_id
    )
    identity = await store.session.scalar(which)
    if identity is not None and identity.staff_id == staff_id:
        return identity
    if identity is None:
        inserted = await insert_ignore(
            store.session,
            Identity,
            [
                {
                    "platform": platform,
                    "platform_user_id": platform_user_id,
                    "staff_id": staff_id,
                    "display_name": display_name[:200],
                    "address": address,
                    "linked_at": utcnow(),
                    "linked_via": via,
                }
            ],
            conflict=("platform", "platform_user_id"),
        )
        identity = await store.session.scalar(which)
        assert identity is not None
        if not inserted and identity.staff_id == staff_id:
            return identity  # linked a moment ago by the same person's other message
    if identity.staff_id != staff_id:
        # The account was someone else's (the roster's emails changed, or a new code): that
        # link ends, on the record, before the new one begins.
        await audit.record(
            store,
            "identity.unlink",
            "identity",
            identity.id,
            platform=platform,
            staff_id=identity.staff_id,
            replaced_by=staff_id,
        )
        identity.staff_id = staff_id
        identity.linked_at = utcnow()
        identity.linked_via = via
        identity.form_state = None
    await store.session.flush()
    await audit.record(
        store,
        "identity.link",
        "identity",
        identity.id,
        platform=platform,
        staff_id=staff_id,
        via=via,
    )
    await outbox.backfill(store, staff_id, platform, platform_user_id, address)
    return identity


async def end_link(
    store: Store, platform: str, platform_user_id: str, reason: str, also: Sequence[int] = ()
) -> bool:
    """The platform no longer knows this account (it left the corp, or the app's visible
    range): the link ends, on the record with the reason, and what was waiting for it goes
    elsewhere or fails with that reason (`outbox.reroute_gone`). False if it was not linked."""
    found = await store.session.scalar(
        select(Identity).where(
            Identity.platform == platform, Identity.platform_user_id == platform_user_id
        )
    )
    await outbox.reroute_gone(store, platform, platform_user_id, reason, also)
    if found is None:
        return False
    await audit.record(
        store,
        "identity.unlink",
        "identity",
        found.id,
        platform=platform,
        staff_id=found.staff_id,
        via=found.linked_via,
        reason=reason,
    )
    await store.session.delete(found)
    return True


async def save_form_state(
    store: Store, platform: str, platform_user_id: str, state: dict[str, Any] | None
) -> None:
    await store.session.execute(
        update(Identity)
        .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
        .values(form_state=state)
    )


async def set_timezone(store: Store, staff_id: int, timezone: str) -> None:
    await store.session.execute(update(Staff).where(Staff.id == staff_id).values(timezone=timezone))
    await audit.record(store, "staff.timezone", "staff", staff_id, timezone=timezone)


async def set_language(store: Store, staff_id: int, language: str) -> None:
    await store.session.execute(update(Staff).where(Staff.id == staff_id).values(language=language))
    await audit.record(store, "staff.language", "staff", staff_id, language=language)


async def active_staff_nos(store: Store) -> list[str]:
    return list(
        await store.session.scalars(
            select(Staff.staff_no).where(Staff.active.is_(True)).order_by(Staff.staff_no)
        )
    )


async def officers(store: Store, sub_union: str | None) -> list[int]:
    """Officers of a sub-union, or (None) the school-level officers."""
    scope = (
        StaffRole.scope == sub_union
        if sub_union
        else or_(StaffRole.scope == "", StaffRole.scope.is_(None))
    )
    rows = await store.session.scalars(
        select(StaffRole.staff_id)
        .join(Staff, Staff.id == StaffRole.staff_id)
        .where(StaffRole.role == "officer", scope, Staff.active.is_(True))
    )
    return list(dict.fromkeys(rows))
