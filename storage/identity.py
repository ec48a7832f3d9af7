"""Who is who: chat identities, one-time invite codes, linking with throttling, preferences.

`lookup()` is on every message's path, so it is one query: the identity, its staff
row, and the staff member's roles, joined.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased

from storage import audit, outbox
from storage.clock import utcnow
from storage.db import Database
from storage.errors import LinkRefused
from storage.models import Identity, InviteCode, LinkAttempt, Staff, StaffRole
from storage.store import Store
from storage.upsert import insert_ignore

# No 0/O, 1/I/L: codes are read off paper and phone screens.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


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


def _view(rows: list[Any], with_form: bool) -> StaffView | None:
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
_LOOKUP = (
    select(
        *_STAFF_COLUMNS,
        Identity.form_state,
        StaffRole.role,
        StaffRole.scope,
        _LINKED.platform.label("linked"),
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
        _LOOKUP.where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
    )
    return _view(list(result), with_form=True)


_IDENTIFY = _LOOKUP.where(
    Identity.platform == bindparam("platform"),
    Identity.platform_user_id == bindparam("platform_user_id"),
)
_IDENTIFY_KEYS = [str(column.key) for column in _IDENTIFY.selected_columns]
_COMPILED: dict[str, tuple[str, list[str] | None]] = {}


def _compiled(dialect: Dialect) -> tuple[str, list[str] | None]:
    """The lookup's SQL (and its positional parameter order), compiled once per dialect:
    SQLAlchemy's per-execution cache key and result adaptation cost more than the query."""
    found = _COMPILED.get(dialect.name)
    if found is None:
        compiled = _IDENTIFY.compile(dialect=dialect)
        order = list(compiled.positiontup or []) if dialect.positional else None
        found = _COMPILED[dialect.name] = (str(compiled), order)
    return found


class _RawRow:
    """A driver row with the column types the ORM would have given (SQLite stores
    booleans as integers, dates as text and JSON as text)."""

    def __init__(self, keys: list[str], values: tuple[Any, ...]) -> None:
        data = dict(zip(keys, values, strict=True))
        for name in ("union_member", "delegate"):
            data[name] = bool(data[name])
        for name in ("birth_date", "hire_date"):
            if isinstance(data[name], str):
                data[name] = date.fromisoformat(data[name])
        if isinstance(data["form_state"], str):
            data["form_state"] = json.loads(data["form_state"])
        self.__dict__.update(data)


async def identify(database: Database, platform: str, platform_user_id: str) -> StaffView | None:
    """`lookup` outside any transaction, precompiled: the one round trip every message pays."""
    async with database.reader.connect() as connection:
        sql, order = _compiled(connection.dialect)
        params: Any = {"platform": platform, "platform_user_id": platform_user_id}
        if order is not None:
            params = tuple(params[name] for name in order)
        # The driver's own connection: one trip to aiosqlite's thread (execute and fetch
        # together) or one psycopg round trip, without SQLAlchemy's greenlet hops.
        raw: Any = (await connection.get_raw_connection()).driver_connection
        if database.sqlite:
            rows = list(await raw.execute_fetchall(sql, params))
        else:
            cursor = await raw.execute(sql, params)
            rows = await cursor.fetchall()
        return _view([_RawRow(_IDENTIFY_KEYS, tuple(row)) for row in rows], with_form=True)


async def staff_by_no(store: Store, staff_no: str) -> StaffView | None:
    result = await store.session.execute(
        select(*_STAFF_COLUMNS, StaffRole.role, StaffRole.scope)
        .outerjoin(StaffRole, StaffRole.staff_id == Staff.id)
        .where(Staff.staff_no == staff_no)
    )
    return _view(list(result), with_form=False)


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
                }
            ],
            conflict=("platform", "platform_user_id"),
        )
        identity = await store.session.scalar(which)
        assert identity is not None
        if not inserted and identity.staff_id == staff_id:
            return identity  # linked a moment ago by the same person's other message
    if identity.staff_id != staff_id:
        identity.staff_id = staff_id
        identity.linked_at = utcnow()
        identity.form_state = None
    await store.session.flush()
    await audit.record(
        store, "identity.link", "identity", identity.id, platform=platform, staff_id=staff_id
    )
    await outbox.backfill(store, staff_id, platform, platform_user_id, address)
    return identity


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


# ---------------------------------------------------------------- invite codes


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def normalise_code(code: str) -> str:
    """Codes are typed by hand: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    staff_no: str
    name: str
    code: str
    expires_at: datetime


async def issue_codes(
    store: Store, staff_nos: list[str], ttl: timedelta
) -> tuple[list[IssuedCode], list[str]]:
    """One fresh code per staff member (earlier unused ones stop working); unknown numbers back."""
    rows = list(
        await store.session.execute(
            select(Staff.id, Staff.staff_no, Staff.name).where(
                Staff.staff_no.in_(staff_nos), Staff.active.is_(True)
            )
        )
    )
    found = {row.staff_no: row for row in rows}
    unknown = [no for no in staff_nos if no not in found]
    now = utcnow()
    if rows:
        await store.session.execute(
            update(InviteCode)
            .where(
                InviteCode.staff_id.in_([row.id for row in rows]),
                InviteCode.used_at.is_(None),
                InviteCode.expires_at > now,
            )
            .values(expires_at=now)
        )
    issued = []
    for staff_no in dict.fromkeys(staff_nos):
        row = found.get(staff_no)
        if row is None:
            continue
        code = new_code()
        store.session.add(
            InviteCode(
                code_hash=_hash(code),
                staff_id=row.id,
                created_by=store.actor.staff_id,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        await audit.record(
            store, "invite.issue", "staff", staff_no, expires_at=(now + ttl).isoformat()
        )
        issued.append(IssuedCode(staff_no, row.name, code, now + ttl))
    await store.session.flush()
    return issued, unknown


async def link_with_code(
    store: Store,
    platform: str,
    platform_user_id: str,
    code: str,
    *,
    display_name: str,
    max_failures: int,
    window: timedelta,
) -> StaffView:
    """Redeem a code for this chat identity; wrong codes count toward a throttle."""
    now = utcnow()
    since = now - window
    failures = list(
        await store.session.scalars(
            select(LinkAttempt.at)
            .where(
                LinkAttempt.platform == platform,
                LinkAttempt.platform_user_id == platform_user_id,
                LinkAttempt.success.is_(False),
                LinkAttempt.at > since,
            )
            .order_by(LinkAttempt.at)
        )
    )
    if len(failures) >= max_failures:
        await audit.record(
            store, "identity.link_throttled", "identity", f"{platform}:{platform_user_id}"
        )
        raise LinkRefused("throttled", retry_after=failures[-max_failures] + window - now)

    invite = await store.session.scalar(
        select(InviteCode).where(InviteCode.code_hash == _hash(code)).with_for_update()
    )
    reason = None
    if invite is None:
        reason = "invalid"
    elif invite.used_at is not None:
        reason = "used"
    elif invite.expires_at <= now:
        reason = "expired"
    if reason is not None or invite is None:
        store.session.add(
            LinkAttempt(platform=platform, platform_user_id=platform_user_id, at=now, success=False)
        )
        await audit.record(
            store,
            "identity.link_failed",
            "identity",
            f"{platform}:{platform_user_id}",
            reason=reason,
        )
        raise LinkRefused(reason or "invalid")
    claimed = await store.session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused("used")
    identity = await ensure_identity(
        store, platform, platform_user_id, invite.staff_id, display_name=display_name
    )
    invite.used_by = identity.id
    store.session.add(
        LinkAttempt(platform=platform, platform_user_id=platform_user_id, at=now, success=True)
    )
    view = await lookup(store, platform, platform_user_id)
    assert view is not None
    return view


async def link_by_email(
    store: Store, platform: str, platform_user_id: str, email: str, *, display_name: str = ""
) -> StaffView | None:
    """Link on first contact when the platform vouches for an email that is on the roster."""
    staff_id = await store.session.scalar(
        select(Staff.id).where(
            func.lower(Staff.email) == email.strip().lower(), Staff.active.is_(True)
        )
    )
    if staff_id is None:
        return None
    await ensure_identity(store, platform, platform_user_id, staff_id, display_name=display_name)
    return await lookup(store, platform, platform_user_id)


async def active_staff_nos(store: Store) -> list[str]:
    return list(
        await store.session.scalars(
            select(Staff.staff_no).where(Staff.active.is_(True)).order_by(Staff.staff_no)
        )
    )
