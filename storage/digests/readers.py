"""Who gets a digest, what their roles let them see, and when they want it.

Every officer, committee member, delegation head, handler and administrator has one
by default. Scope follows the role: a sub-union officer sees their sub-union, a
handler their department, a delegation head their delegation, school officers (and
administrators) everything, the committee every proposal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from storage import audit
from storage.benefits.applications import Reviewer
from storage.clock import utcnow
from storage.digests.schedule import BUILT_IN, CADENCES, Preference, parse_time
from storage.models import DigestDefault, DigestPreference, Staff, StaffRole
from storage.store import Store

ROLES = ("admin", "officer", "committee", "head", "handler")  # most to least reach


@dataclass(frozen=True, slots=True)
class Reader:
    staff_id: int
    staff_no: str
    name: str
    language: str | None
    timezone: str | None
    school: bool = False  # a school-level officer, or an administrator
    admin: bool = False
    committee: bool = False
    sub_unions: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)
    delegations: frozenset[str] = field(default_factory=frozenset)
    roles: tuple[str, ...] = ()

    @property
    def all_proposals(self) -> bool:
        return self.school or self.committee

    @property
    def overseer(self) -> bool:
        """Sees every filed proposal (the proposal visibility rule's overseers)."""
        return self.all_proposals or bool(self.sub_unions)

    @property
    def reviewer(self) -> Reviewer:
        return Reviewer(self.staff_id, school=self.school, sub_unions=self.sub_unions)

    def zone(self, default: tzinfo) -> tzinfo:
        if self.timezone:
            try:
                return ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return default


def reader_of(
    staff: tuple[int, str, str, str | None, str | None], held: Iterable[tuple[str, str]]
) -> Reader:
    staff_id, staff_no, name, language, timezone = staff
    held = list(held)
    scopes: dict[str, set[str]] = defaultdict(set)
    unscoped: set[str] = set()
    for role, scope in held:
        (scopes[role].add(scope) if scope else unscoped.add(role))
    held_roles = tuple(r for r in ROLES if r in unscoped or r in scopes)
    admin = "admin" in held_roles
    return Reader(
        staff_id=staff_id,
        staff_no=staff_no,
        name=name,
        language=language,
        timezone=timezone,
        school=admin or "officer" in unscoped,
        admin=admin,
        committee="committee" in held_roles,
        sub_unions=frozenset(scopes["officer"]),
        departments=frozenset(scopes["handler"]),
        delegations=frozenset(scopes["head"]),
        roles=held_roles,
    )


async def readers(store: Store, staff_ids: Iterable[int] | None = None) -> list[Reader]:
    """Everyone active with a digest role (or just these people), in two statements."""
    query = (
        select(Staff.id, Staff.staff_no, Staff.name, Staff.language, Staff.timezone)
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(Staff.active.is_(True), StaffRole.role.in_(ROLES))
        .distinct()
        .order_by(Staff.id)
    )
    wanted = list(staff_ids) if staff_ids is not None else None
    if wanted is not None:
        query = query.where(Staff.id.in_(wanted))
    people: list[tuple[int, str, str, str | None, str | None]] = [
        (row[0], row[1], row[2], row[3], row[4]) for row in await store.session.execute(query)
    ]
    held: dict[int, list[tuple[str, str]]] = defaultdict(list)
    roles = select(StaffRole.staff_id, StaffRole.role, StaffRole.scope)
    if wanted is not None:
        roles = roles.where(StaffRole.staff_id.in_(wanted))
    for staff_id, role, scope in await store.session.execute(roles):
        held[staff_id].append((role, scope or ""))
    return [reader_of(person, held[person[0]]) for person in people]


# ---------------------------------------------------------------- preferences


def _preference(cadence: str, at: str, weekday: int | None) -> Preference:
    return Preference(cadence, parse_time(at), weekday or 0)


async def defaults(store: Store) -> dict[str, Preference]:
    rows = await store.session.scalars(select(DigestDefault))
    return {row.role: _preference(row.cadence, row.at, row.weekday) for row in rows}


async def own_preferences(store: Store, staff_ids: Iterable[int]) -> dict[int, Preference]:
    rows = await store.session.scalars(
        select(DigestPreference).where(DigestPreference.staff_id.in_(list(staff_ids)))
    )
    return {row.staff_id: _preference(row.cadence, row.at, row.weekday) for row in rows}


def effective(
    reader: Reader, own: dict[int, Preference], by_role: dict[str, Preference]
) -> tuple[Preference, str]:
    """A person's own choice, else the default of their widest role, else daily 08:30;
    with where it came from ("own", the role, or "built_in")."""
    if reader.staff_id in own:
        return own[reader.staff_id], "own"
    for role in reader.roles:
        if role in by_role:
            return by_role[role], role
    return BUILT_IN, "built_in"


async def preference_of(store: Store, reader: Reader) -> tuple[Preference, str]:
    return effective(reader, await own_preferences(store, [reader.staff_id]), await defaults(store))


def _check(preference: Preference) -> None:
    if preference.cadence not in CADENCES or not 0 <= preference.weekday <= 6:
        raise ValueError(preference)


async def set_own(store: Store, staff_id: int, preference: Preference | None) -> None:
    """Choose one's own digest; None goes back to the role's default."""
    row = await store.session.get(DigestPreference, staff_id)
    if preference is None:
        if row is not None:
            await store.session.delete(row)
    else:
        _check(preference)
        if row is None:
            row = DigestPreference(staff_id=staff_id)
            store.session.add(row)
        row.cadence, row.at = preference.cadence, preference.at.strftime("%H:%M")
        row.weekday, row.updated_at = preference.weekday, utcnow()
    await audit.record(
        store,
        "digest.preference",
        "staff",
        staff_id,
        setting=preference.label if preference else "default",
    )


async def set_default(store: Store, role: str, preference: Preference) -> None:
    """An administrator's default for a role (people's own choices stay theirs)."""
    _check(preference)
    if role not in ROLES:
        raise ValueError(role)
    row = await store.session.get(DigestDefault, role)
    if row is None:
        row = DigestDefault(role=role)
        store.session.add(row)
    row.cadence, row.at = preference.cadence, preference.at.strftime("%H:%M")
    row.weekday, row.updated_at = preference.weekday, utcnow()
    await audit.record(store, "digest.default", "role", role, setting=preference.label)
