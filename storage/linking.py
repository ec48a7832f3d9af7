"""Linking a chat account to a person on the roster: one-time invite codes, with a
throttle on wrong guesses, and first contact vouched for by the platform (a verified
email, a mobile number, an account id that is the staff number)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from storage import audit
from storage.clock import utcnow
from storage.errors import LinkRefused
from storage.identity import StaffView, ensure_identity, lookup
from storage.models import InviteCode, LinkAttempt, Staff
from storage.store import Store

# No 0/O, 1/I/L: codes are read off paper and phone screens.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


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
        store, platform, platform_user_id, invite.staff_id, display_name=display_name, via="code"
    )
    invite.used_by = identity.id
    store.session.add(
        LinkAttempt(platform=platform, platform_user_id=platform_user_id, at=now, success=True)
    )
    view = await lookup(store, platform, platform_user_id)
    assert view is not None
    return view


# What a platform may vouch for, and how the roster's value is compared with it.
ROSTER_FIELDS = ("staff_no", "email", "mobile")


def normalise_mobile(value: str) -> str:
    """A Chinese mobile number as digits, without the country code: rosters and platforms
    write it as 138-0013-8000, +86 138 0013 8000 or 13800138000."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


async def link_by_roster(
    store: Store,
    platform: str,
    platform_user_id: str,
    field: str,
    value: str,
    *,
    display_name: str = "",
) -> StaffView | None:
    """Link on first contact when the platform vouches for a roster value of this person
    (a verified email, the mobile number, or an account id that is the staff number);
    and re-link, ending the old link on the record, when the roster now gives that value
    to someone else (checked on each first contact after a start). None when no one
    active on the roster has it, or more than one has."""
    if field not in ROSTER_FIELDS:
        raise ValueError(f"cannot link by {field!r}: one of {', '.join(ROSTER_FIELDS)}")
    value = normalise_mobile(value) if field == "mobile" else value.strip()
    if not value:
        return None
    if field == "staff_no":
        match = Staff.staff_no == value
    elif field == "email":
        match = func.lower(Staff.email) == value.lower()
    else:
        phones = select(Staff.id, Staff.phone).where(
            Staff.active.is_(True), Staff.phone.is_not(None), Staff.phone.contains(value[-4:])
        )
        ids = [
            row.id
            for row in await store.session.execute(phones)
            if row.phone and normalise_mobile(row.phone) == value
        ]
        match = Staff.id.in_(ids)
    found = list(
        await store.session.scalars(select(Staff.id).where(match, Staff.active.is_(True)).limit(2))
    )
    if len(found) != 1:
        return None
    await ensure_identity(
        store, platform, platform_user_id, found[0], display_name=display_name, via=field
    )
    return await lookup(store, platform, platform_user_id)
