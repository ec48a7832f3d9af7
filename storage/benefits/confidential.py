"""The confidential registers: hardship (困难职工档案), labour-dispute mediation (劳动争议调解)
and membership applications (入会).

Sensitive personal information (PIPL §28): school-level officers see every hardship
record, a sub-union officer only their sub-union's; mediation requests go only to the
`mediator` role, never to the person's own department. Every read and every change is in
the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, case, select, update

from storage import audit, outbox
from storage.benefits.applications import Reviewer
from storage.clock import utcnow
from storage.errors import BenefitError
from storage.identity import StaffView, officers, staff_by_id, staff_by_no
from storage.models import ConfidentialRequest, HardshipRecord, Staff, StaffRole
from storage.outbox import Button
from storage.store import Store

CATEGORIES = ("dibao", "near_dibao", "accident", "other")  # 低保 / 低保边缘 / 意外致困 / 其他
MEDIATION, MEMBERSHIP = "mediation", "membership"


@dataclass(frozen=True, slots=True)
class HardshipEntry:
    record: HardshipRecord
    staff_no: str
    name: str
    sub_union: str


def _purpose(reader: Reviewer) -> str:
    """Why this officer may read the register: what the audit log says of each read."""
    if reader.school:
        return "school officer"
    return "officer of " + ", ".join(sorted(reader.sub_unions))


def _in_scope(reader: Reviewer, sub_union: str) -> bool:
    return reader.school or sub_union in reader.sub_unions


async def report_self(store: Store, person: StaffView, text: str) -> HardshipRecord:
    """A person reports their own hardship; their sub-union's officers (or the school's)
    are told to follow it up. A record that already exists keeps what officers wrote."""
    now = utcnow()
    record = await store.session.scalar(
        select(HardshipRecord).where(HardshipRecord.staff_id == person.id)
    )
    if record is None:
        record = HardshipRecord(
            staff_id=person.id,
            category="other",
            causes=text,
            self_reported=True,
            status="reported",
            created_at=now,
            updated_at=now,
        )
        store.session.add(record)
    else:
        record.causes = f"{record.causes}\n{text}".strip()
        record.updated_at = now
    await store.session.flush()
    await audit.record(store, "hardship.report", "hardship", record.id, staff_id=person.id)
    told = await officers(store, person.sub_union) if person.sub_union else []
    await outbox.tell_each(
        store,
        told or await officers(store, None),
        reason=f"hardship:{record.id}:report:{now.isoformat()}",
        message_key="benefits.notify.hardship_reported",
        why_key="benefits.why.officer",
        params=outbox.with_buttons(
            {"id": record.id, "name": person.name},
            [Button("benefits.button.show", f"/hardship show {record.id}")],
        ),
    )
    return record


async def register(
    store: Store,
    reader: Reviewer,
    staff_no: str,
    *,
    category: str,
    household_size: int | None,
    income_per_head: int | None,
    causes: str,
    support: str,
    next_review: date | None,
    today: date,
) -> HardshipRecord:
    """An officer records or updates a person's file (next review: the date given, else a
    year on). Refuses an unknown staff number, a person outside the officer's sub-union, and
    a category the register does not use."""
    if category not in CATEGORIES:
        raise BenefitError("benefits.error.hardship_category")
    person = await staff_by_no(store, staff_no)
    if person is None:
        raise BenefitError("benefits.error.unknown_staff", staff_no=staff_no)
    if not _in_scope(reader, person.sub_union):
        raise BenefitError("benefits.error.not_your_sub_union", staff_no=staff_no)
    now = utcnow()
    record = await store.session.scalar(
        select(HardshipRecord).where(HardshipRecord.staff_id == person.id)
    )
    if record is None:
        record = HardshipRecord(staff_id=person.id, created_at=now, category=category)
        store.session.add(record)
    record.category = category
    record.household_size = household_size
    record.income_per_head = income_per_head
    record.causes = causes
    record.support = support
    # Reviewed yearly unless the officer chose a date (and whenever circumstances change).
    record.next_review = next_review or (today + timedelta(days=365))
    record.status = "open"
    record.updated_at = now
    await store.session.flush()
    await audit.record(store, "hardship.register", "hardship", record.id, staff_no=staff_no)
    return record


def _entries(reader: Reviewer) -> Select[HardshipRecord, str, str, str]:
    query = select(HardshipRecord, Staff.staff_no, Staff.name, Staff.sub_union).join(
        Staff, Staff.id == HardshipRecord.staff_id
    )
    if not reader.school:
        query = query.where(Staff.sub_union.in_(sorted(reader.sub_unions)))
    return query


async def register_for(store: Store, reader: Reviewer) -> list[HardshipEntry]:
    """The records this officer may see, most in need first; the read is audited."""
    severity = case({c: n for n, c in enumerate(CATEGORIES)}, value=HardshipRecord.category)
    rows = await store.session.execute(
        _entries(reader).where(HardshipRecord.status != "closed").order_by(severity, Staff.name)
    )
    found = [HardshipEntry(r, no, name, su) for r, no, name, su in rows]
    await audit.record(
        store, "hardship.list", "hardship", "*", count=len(found), purpose=_purpose(reader)
    )
    return found


async def show(store: Store, reader: Reviewer, record_id: int) -> HardshipEntry:
    """One record; the read is audited. Refuses one outside the officer's scope exactly
    as a missing one."""
    row = (
        await store.session.execute(_entries(reader).where(HardshipRecord.id == record_id))
    ).first()
    if row is None:
        raise BenefitError("benefits.error.no_hardship", id=record_id)
    await audit.record(store, "hardship.read", "hardship", record_id, purpose=_purpose(reader))
    record, staff_no, name, sub_union = row
    return HardshipEntry(record, staff_no, name, sub_union)


async def due_for_review(store: Store, today: date) -> list[tuple[HardshipRecord, str]]:
    """Open records whose review date has come, with the person's sub-union."""
    rows = await store.session.execute(
        select(HardshipRecord, Staff.sub_union)
        .join(Staff, Staff.id == HardshipRecord.staff_id)
        .where(HardshipRecord.status == "open", HardshipRecord.next_review <= today)
    )
    return [(record, sub_union or "") for record, sub_union in rows]


# ---------------------------------------------------------------- mediation and membership


async def request(store: Store, person: StaffView, kind: str, text: str) -> ConfidentialRequest:
    """Ask for mediation (told only to mediators) or for membership (told to the sub-union's
    officers). Refuses a membership request from a member, or a second open one."""
    if kind == MEMBERSHIP and person.union_member:
        raise BenefitError("benefits.error.already_member")
    open_one = await store.session.scalar(
        select(ConfidentialRequest.id).where(
            ConfidentialRequest.staff_id == person.id,
            ConfidentialRequest.kind == kind,
            ConfidentialRequest.status == "open",
        )
    )
    if open_one is not None and kind == MEMBERSHIP:
        raise BenefitError("benefits.error.join_pending", id=open_one)
    now = utcnow()
    row = ConfidentialRequest(kind=kind, staff_id=person.id, text=text, created_at=now)
    store.session.add(row)
    await store.session.flush()
    await audit.record(store, f"{kind}.request", kind, row.id)
    if kind == MEDIATION:
        told = list(
            await store.session.scalars(
                select(StaffRole.staff_id).where(StaffRole.role == "mediator")
            )
        )
        button = Button("benefits.button.show", f"/mediation show {row.id}")
    else:
        told = (await officers(store, person.sub_union) if person.sub_union else []) or (
            await officers(store, None)
        )
        button = Button("benefits.button.approve", f"/join approve {row.id}")
    await outbox.tell_each(
        store,
        told,
        reason=f"{kind}:{row.id}:new",
        message_key=f"benefits.notify.{kind}",
        why_key="benefits.why.mediator" if kind == MEDIATION else "benefits.why.officer",
        alert=kind == MEDIATION,
        params=outbox.with_buttons({"id": row.id, "name": person.name}, [button]),
    )
    return row


async def requests(
    store: Store, kind: str, reader: Reviewer
) -> list[tuple[ConfidentialRequest, str]]:
    """Open requests of a kind, with the person's name (membership: in the officer's
    scope); the read is audited."""
    query = (
        select(ConfidentialRequest, Staff.name)
        .join(Staff, Staff.id == ConfidentialRequest.staff_id)
        .where(ConfidentialRequest.kind == kind, ConfidentialRequest.status == "open")
        .order_by(ConfidentialRequest.created_at)
    )
    if kind == MEMBERSHIP and not reader.school:
        query = query.where(Staff.sub_union.in_(sorted(reader.sub_unions)))
    found = [(row, name) for row, name in await store.session.execute(query)]
    await audit.record(store, f"{kind}.list", kind, "*", count=len(found))
    return found


async def read_request(
    store: Store, kind: str, request_id: int
) -> tuple[ConfidentialRequest, StaffView]:
    """One request and its person; the read is audited. Refuses an unknown number."""
    row = await store.session.get(ConfidentialRequest, request_id)
    if row is None or row.kind != kind:
        raise BenefitError("benefits.error.no_request", id=request_id)
    person = await staff_by_id(store, row.staff_id)
    assert person is not None
    await audit.record(store, f"{kind}.read", kind, request_id)
    return row, person


async def decide(
    store: Store, kind: str, reader: Reviewer, request_id: int, approve: bool
) -> tuple[ConfidentialRequest, StaffView]:
    """Close a mediation request, or decide a membership application (approving it makes
    the person a member on the roster). Refuses a closed request, and a membership
    outside the officer's sub-union."""
    row, person = await read_request(store, kind, request_id)
    if row.status != "open":
        raise BenefitError("benefits.error.request_closed", id=request_id)
    if kind == MEMBERSHIP and not _in_scope(reader, person.sub_union):
        raise BenefitError("benefits.error.not_your_sub_union", staff_no=person.staff_no)
    now = utcnow()
    row.status = ("approved" if approve else "rejected") if kind == MEMBERSHIP else "closed"
    row.decided_by, row.decided_at = reader.staff_id, now
    if kind == MEMBERSHIP and approve:
        await store.session.execute(
            update(Staff).where(Staff.id == person.id).values(union_member=True, updated_at=now)
        )
    await audit.record(store, f"{kind}.{row.status}", kind, request_id, staff_id=person.id)
    await outbox.tell_each(
        store,
        [person.id],
        reason=f"{kind}:{row.id}:{row.status}",
        message_key=f"benefits.notify.{kind}_{row.status}",
        why_key="benefits.why.applicant",
        params={"id": row.id},
    )
    return row, person
