"""Benefit applications and their review: the applicant's sub-union officer first, then a
school-level officer (or the one level an item declares), then the payment.

Every refusal is a `BenefitError` raised here; every step is in the application's history,
in the audit log, and told to the applicant and to whoever must act next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage import audit, outbox
from storage.benefits.eligibility import Person, Verdict, check, claim_window, same_event
from storage.benefits.policy import Item, Pack
from storage.clock import utcnow
from storage.errors import BenefitError, Term
from storage.files import FileStore
from storage.identity import StaffView, officers, staff_by_id
from storage.models import BenefitApplication, EvidenceFile, Staff
from storage.outbox import Button
from storage.store import Store

PENDING, RETURNED, REJECTED, APPROVED, PAID = "pending", "returned", "rejected", "approved", "paid"
GRANTED = (APPROVED, PAID)
OPEN = (PENDING, RETURNED)


@dataclass(frozen=True, slots=True)
class Reviewer:
    """An officer as the review rules see them: school level, and/or the sub-unions they
    serve."""

    staff_id: int
    school: bool = False
    sub_unions: frozenset[str] = field(default_factory=frozenset)


def person_of(view: StaffView) -> Person:
    return Person(
        employment_type=view.employment_type,
        union_member=view.union_member,
        delegate=view.delegate,
        birth_date=view.birth_date,
        hire_date=view.hire_date,
    )


def refuse(verdict: Verdict, item: Item) -> None:
    if not verdict.eligible:
        raise BenefitError(f"benefits.reason.{verdict.reason}", item=item.code, **verdict.params)


def item_of(pack: Pack, code: str) -> Item:
    """The item by code or name. Refuses one the pack does not have."""
    item = pack.item(code)
    if item is None:
        raise BenefitError("benefits.error.no_item", item=code)
    return item


async def granted_dates(store: Store, staff_id: int, item: str) -> list[date]:
    """When this person was granted this item (the event, or the day they applied)."""
    rows = await store.session.execute(
        select(BenefitApplication.event_date, BenefitApplication.created_at).where(
            BenefitApplication.staff_id == staff_id,
            BenefitApplication.item == item,
            BenefitApplication.status.in_(GRANTED),
        )
    )
    return [event or created.date() for event, created in rows]


async def claimed_events(store: Store, staff_id: int, item: str) -> list[date]:
    rows = await store.session.scalars(
        select(BenefitApplication.event_date).where(
            BenefitApplication.staff_id == staff_id,
            BenefitApplication.item == item,
            BenefitApplication.status != REJECTED,
            BenefitApplication.event_date.is_not(None),
        )
    )
    return [d for d in rows if d is not None]


async def may_apply(store: Store, pack: Pack, applicant: StaffView, code: str, on: date) -> Item:
    """The item, if this person may apply for it on `on`. Refuses an unknown item, one that
    is not applied for (the union arranges it), and a person not eligible, with the reason:
    asked before a form opens, and again when it is submitted."""
    item = item_of(pack, code)
    if not item.apply:
        raise BenefitError("benefits.error.not_applied_for", item=item.code)
    granted = await granted_dates(store, applicant.id, item.code)
    refuse(check(person_of(applicant), item, on, granted), item)
    return item


async def apply(
    store: Store,
    pack: Pack,
    applicant: StaffView,
    code: str,
    *,
    today: date,
    event_date: date | None = None,
    description: str = "",
    amount_claimed: int | None = None,
) -> BenefitApplication:
    """File an application. Refuses, before anything is saved: an item one does not apply
    for, a person not eligible (with the reason), a claim outside the item's window, and a
    second claim for the same event."""
    item = await may_apply(store, pack, applicant, code, event_date or today)
    refuse(claim_window(item, event_date, today), item)
    refuse(same_event(item, event_date, await claimed_events(store, applicant.id, item.code)), item)
    now = utcnow()
    application = BenefitApplication(
        staff_id=applicant.id,
        item=item.code,
        status=PENDING,
        stage=0,
        event_date=event_date,
        description=description,
        amount_claimed=amount_claimed,
        history=[_step(now, applicant.id, "submit")],
        created_at=now,
        updated_at=now,
    )
    store.session.add(application)
    await store.session.flush()
    await audit.record(
        store, "benefit.apply", "benefit_application", application.id, item=item.code
    )
    await _tell_reviewers(store, pack, application, applicant.sub_union)
    return application


def _step(at: datetime, actor: int | None, action: str, **detail: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "actor": actor, "action": action, **detail}


def level(pack: Pack, application: BenefitApplication) -> str:
    """Who acts now: "sub_union" or "school" (the item's chain at the current stage)."""
    chain = item_of(pack, application.item).review or ("school",)
    return chain[min(application.stage, len(chain) - 1)]


def may_review(reviewer: Reviewer, level_: str, sub_union: str) -> bool:
    """School officers act at every level (a sub-union may have no officer of its own);
    a sub-union officer only at the first level, for their own sub-union."""
    return reviewer.school or (level_ == "sub_union" and sub_union in reviewer.sub_unions)


async def get(store: Store, application_id: int) -> tuple[BenefitApplication, StaffView]:
    """The application and its applicant. Refuses an unknown number."""
    application = await store.session.get(BenefitApplication, application_id)
    if application is None:
        raise BenefitError("benefits.error.no_application", id=application_id)
    applicant = await staff_by_id(store, application.staff_id)
    assert applicant is not None
    return application, applicant


async def read(
    store: Store, pack: Pack, application_id: int, reader: Reviewer
) -> tuple[BenefitApplication, StaffView]:
    """An application for its applicant or an officer who reviews it; the read is audited
    (it may hold medical details). Refuses anyone else exactly as a missing one."""
    application, applicant = await get(store, application_id)
    own = application.staff_id == reader.staff_id
    if not own and not (reader.school or applicant.sub_union in reader.sub_unions):
        raise BenefitError("benefits.error.no_application", id=application_id)
    purpose = "own application" if own else "review"
    await audit.record(
        store, "benefit.read", "benefit_application", application.id, purpose=purpose
    )
    return application, applicant


async def _acting(
    store: Store, pack: Pack, reviewer: Reviewer, application_id: int
) -> tuple[BenefitApplication, StaffView, str]:
    application, applicant = await get(store, application_id)
    if application.status != PENDING:
        raise BenefitError(
            "benefits.error.not_pending",
            id=application.id,
            status=Term(f"benefits.status.{application.status}"),
        )
    now_level = level(pack, application)
    if not may_review(reviewer, now_level, applicant.sub_union):
        raise BenefitError(
            "benefits.error.not_your_level",
            id=application.id,
            level=Term(f"benefits.level.{now_level}"),
        )
    if application.staff_id == reviewer.staff_id:
        raise BenefitError("benefits.error.own_application", id=application.id)
    approved_before = {s["actor"] for s in application.history if s["action"] == "approve"}
    if reviewer.staff_id in approved_before:
        raise BenefitError("benefits.error.second_level_by_another", id=application.id)
    return application, applicant, now_level


async def approve(
    store: Store, pack: Pack, reviewer: Reviewer, application_id: int, amount: int | None
) -> BenefitApplication:
    """Approve at the current level, with an amount (default: what the item pays, or the
    claim). Refuses what is not waiting for review, a reviewer of the wrong level or
    sub-union, one's own application, and the same officer approving two levels."""
    application, applicant, now_level = await _acting(store, pack, reviewer, application_id)
    item = item_of(pack, application.item)
    chosen = (
        amount
        if amount is not None
        else (application.amount_approved or item.amount or application.amount_claimed or 0)
    )
    application.amount_approved = chosen
    now = utcnow()
    application.history = [
        *application.history,
        _step(now, reviewer.staff_id, "approve", level=now_level, amount=chosen),
    ]
    chain = item.review or ("school",)
    if application.stage + 1 < len(chain):
        application.stage += 1
        await _tell_reviewers(store, pack, application, applicant.sub_union)
        told = "approved_level"
    else:
        application.status = APPROVED
        told = "approved"
    application.updated_at = now
    await audit.record(
        store,
        "benefit.approve",
        "benefit_application",
        application.id,
        level=now_level,
        amount=chosen,
    )
    await _tell_applicant(store, pack, application, told, amount=chosen, level=now_level)
    return application


async def send_back(
    store: Store, pack: Pack, reviewer: Reviewer, application_id: int, note: str
) -> BenefitApplication:
    """Return for more evidence, with a note the applicant can act on; review starts again
    from the first level when they resubmit. Refuses as `approve` does."""
    return await _decide_with_note(
        store, pack, reviewer, application_id, note, status=RETURNED, action="return"
    )


async def reject(
    store: Store, pack: Pack, reviewer: Reviewer, application_id: int, reason: str
) -> BenefitApplication:
    """Reject with a reason. Refuses as `approve` does."""
    return await _decide_with_note(
        store, pack, reviewer, application_id, reason, status=REJECTED, action="reject"
    )


async def _decide_with_note(
    store: Store,
    pack: Pack,
    reviewer: Reviewer,
    application_id: int,
    note: str,
    *,
    status: str,
    action: str,
) -> BenefitApplication:
    application, _, now_level = await _acting(store, pack, reviewer, application_id)
    now = utcnow()
    application.status, application.note = status, note
    if status == RETURNED:
        application.stage = 0
    application.history = [
        *application.history,
        _step(now, reviewer.staff_id, action, level=now_level, note=note),
    ]
    application.updated_at = now
    await audit.record(store, f"benefit.{action}", "benefit_application", application.id)
    await _tell_applicant(store, pack, application, status, note=note)
    return application


async def resubmit(
    store: Store, pack: Pack, staff_id: int, application_id: int, note: str
) -> BenefitApplication:
    """The applicant answers a return (with what was missing): review starts again. Refuses
    anyone but the applicant, and an application that was not returned."""
    application, applicant = await get(store, application_id)
    if application.staff_id != staff_id:
        raise BenefitError("benefits.error.no_application", id=application_id)
    if application.status != RETURNED:
        raise BenefitError("benefits.error.not_returned", id=application.id)
    now = utcnow()
    application.status, application.stage = PENDING, 0
    if note:
        application.description = f"{application.description}\n{note}".strip()
    application.history = [*application.history, _step(now, staff_id, "resubmit", note=note)]
    application.updated_at = now
    await audit.record(store, "benefit.resubmit", "benefit_application", application.id)
    await _tell_reviewers(store, pack, application, applicant.sub_union)
    return application


async def record_payment(
    store: Store, pack: Pack, reviewer: Reviewer, application_id: int, amount: int, paid_on: date
) -> BenefitApplication:
    """A school-level officer records what was paid. Refuses others, and an application
    that is not approved (or already paid)."""
    if not reviewer.school:
        raise BenefitError("benefits.error.school_only")
    application, _ = await get(store, application_id)
    if application.status != APPROVED:
        raise BenefitError(
            "benefits.error.not_approved",
            id=application.id,
            status=Term(f"benefits.status.{application.status}"),
        )
    now = utcnow()
    application.status, application.amount_paid, application.paid_on = PAID, amount, paid_on
    application.history = [
        *application.history,
        _step(now, reviewer.staff_id, "paid", amount=amount),
    ]
    application.updated_at = now
    await audit.record(store, "benefit.paid", "benefit_application", application.id, amount=amount)
    await _tell_applicant(
        store, pack, application, "paid", amount=amount, paid_on=paid_on.isoformat()
    )
    return application


async def mine(store: Store, staff_id: int) -> list[BenefitApplication]:
    rows = await store.session.scalars(
        select(BenefitApplication)
        .where(BenefitApplication.staff_id == staff_id)
        .order_by(BenefitApplication.id.desc())
    )
    return list(rows)


async def waiting_for(
    store: Store, pack: Pack, reviewer: Reviewer
) -> list[tuple[BenefitApplication, str]]:
    """Applications at a level this reviewer acts on, oldest first, with the applicant's
    name."""
    query = (
        select(BenefitApplication, Staff.name, Staff.sub_union)
        .join(Staff, Staff.id == BenefitApplication.staff_id)
        .where(BenefitApplication.status == PENDING)
        .order_by(BenefitApplication.created_at)
    )
    if not reviewer.school:
        query = query.where(Staff.sub_union.in_(sorted(reviewer.sub_unions)))
    found = []
    for application, name, sub_union in await store.session.execute(query):
        if application.staff_id == reviewer.staff_id:
            continue
        if pack.item(application.item) is None:
            continue  # an item dropped from the pack: an officer handles it by number
        if may_review(reviewer, level(pack, application), sub_union):
            found.append((application, name))
    return found


async def stale(store: Store, pack: Pack, now: datetime) -> list[tuple[BenefitApplication, str]]:
    """Pending applications untouched for the pack's reminder days, with the applicant's
    sub-union."""
    cutoff = now - timedelta(days=pack.review_reminder_days)
    rows = await store.session.execute(
        select(BenefitApplication, Staff.sub_union)
        .join(Staff, Staff.id == BenefitApplication.staff_id)
        .where(BenefitApplication.status == PENDING, BenefitApplication.updated_at < cutoff)
    )
    return [(application, sub_union or "") for application, sub_union in rows]


# ---------------------------------------------------------------- evidence


async def attach(
    store: Store,
    files: FileStore,
    staff_id: int,
    application_id: int | None,
    *,
    name: str,
    mime_type: str,
    content: bytes,
) -> tuple[EvidenceFile, BenefitApplication]:
    """Attach a file to one's own open application: the one named, or the newest open one.
    Refuses someone else's application, a decided one, and having none open."""
    if application_id is not None:
        application, _ = await get(store, application_id)
        if application.staff_id != staff_id:
            raise BenefitError("benefits.error.no_application", id=application_id)
    else:
        found = await store.session.scalar(
            select(BenefitApplication)
            .where(BenefitApplication.staff_id == staff_id, BenefitApplication.status.in_(OPEN))
            .order_by(BenefitApplication.id.desc())
            .limit(1)
        )
        if found is None:
            raise BenefitError("benefits.error.nothing_to_attach_to")
        application = found
    if application.status not in OPEN:
        raise BenefitError("benefits.error.decided", id=application.id)
    key = files.put(content)
    evidence = EvidenceFile(
        application_id=application.id,
        name=name[:200] or "file",
        size=len(content),
        mime_type=mime_type[:100],
        sha256=key,
        created_at=utcnow(),
    )
    store.session.add(evidence)
    await store.session.flush()
    await audit.record(
        store, "benefit.attach", "benefit_application", application.id, file=evidence.id
    )
    return evidence, application


async def evidence_of(store: Store, application_id: int) -> list[EvidenceFile]:
    rows = await store.session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.application_id == application_id, EvidenceFile.deleted_at.is_(None))
        .order_by(EvidenceFile.id)
    )
    return list(rows)


async def evidence_file(
    store: Store, files: FileStore, pack: Pack, reader: Reviewer, application_id: int, number: int
) -> tuple[EvidenceFile, bytes]:
    """The n-th file of an application, for whoever may read the application; audited.
    Refuses a file that does not exist (or was deleted after the retention period)."""
    await read(store, pack, application_id, reader)
    found = await evidence_of(store, application_id)
    if not 1 <= number <= len(found):
        raise BenefitError("benefits.error.no_file", id=application_id, n=number)
    evidence = found[number - 1]
    await audit.record(
        store, "benefit.read_file", "benefit_application", application_id, file=evidence.id
    )
    return evidence, files.get(evidence.sha256)


async def purge_evidence(store: Store, files: FileStore, now: datetime, years: int) -> int:
    """Retention: the files of applications decided (rejected or paid) more than `years`
    ago are deleted; the record of what they were stays."""
    cutoff = now - timedelta(days=365 * years)
    rows = await store.session.scalars(
        select(EvidenceFile)
        .join(BenefitApplication, BenefitApplication.id == EvidenceFile.application_id)
        .where(
            EvidenceFile.deleted_at.is_(None),
            BenefitApplication.status.in_((REJECTED, PAID)),
            BenefitApplication.updated_at < cutoff,
        )
    )
    purged = 0
    for evidence in rows:
        still_used = await store.session.scalar(
            select(EvidenceFile.id).where(
                EvidenceFile.sha256 == evidence.sha256,
                EvidenceFile.id != evidence.id,
                EvidenceFile.deleted_at.is_(None),
            )
        )
        if still_used is None:
            files.delete(evidence.sha256)
        evidence.deleted_at = now
        purged += 1
    if purged:
        await audit.record(store, "benefit.purge", "evidence_files", "*", count=purged)
    return purged


# ---------------------------------------------------------------- who to tell


async def reviewers_now(
    store: Store,
    pack: Pack,
    application: BenefitApplication,
    sub_union: str,
    known: dict[str | None, list[int]] | None = None,
) -> list[int]:
    """Who must act on the application now (school officers when a sub-union has none).
    `known` keeps the officers already looked up, for a loop over many applications."""
    cache = known if known is not None else {}

    async def of(scope: str | None) -> list[int]:
        if scope not in cache:
            cache[scope] = await officers(store, scope)
        return cache[scope]

    if level(pack, application) == "sub_union" and sub_union:
        found = await of(sub_union)
        if found:
            return found
    return await of(None)


def notice_params(pack: Pack, application: BenefitApplication, **extra: Any) -> dict[str, Any]:
    """What a notice says: the item's name in both languages (the pack is not in the
    catalogue), so each recipient reads it in their own (`item` in the message)."""
    item = pack.item(application.item)
    return {
        "id": application.id,
        "item_zh": item.name_zh if item else application.item,
        "item_en": item.name_en if item else application.item,
        **extra,
    }


async def _tell_reviewers(
    store: Store, pack: Pack, application: BenefitApplication, sub_union: str
) -> None:
    await outbox.tell_each(
        store,
        await reviewers_now(store, pack, application, sub_union),
        reason=f"benefit:{application.id}:review:{len(application.history)}",
        message_key="benefits.notify.review",
        why_key="benefits.why.reviewer",
        alert=item_of(pack, application.item).alert,
        params=outbox.with_buttons(
            notice_params(pack, application),
            [Button("benefits.button.show", f"/application show {application.id}")],
        ),
    )


async def _tell_applicant(
    store: Store, pack: Pack, application: BenefitApplication, what: str, **params: Any
) -> None:
    await outbox.tell_each(
        store,
        [application.staff_id],
        reason=f"benefit:{application.id}:{what}:{len(application.history)}",
        message_key=f"benefits.notify.{what}",
        why_key="benefits.why.applicant",
        params=outbox.with_buttons(
            notice_params(pack, application, **params),
            [Button("benefits.button.show", f"/application show {application.id}")],
        ),
    )
