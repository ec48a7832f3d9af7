"""What the clock says about benefits: applications left waiting, hardship files due for
their yearly review. Each reminder's reason is unique per period, so a tick that runs
twice, or on two instances, tells each person once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage import outbox
from storage.benefits import applications, exams
from storage.benefits.confidential import due_for_review
from storage.benefits.policy import PolicyHolder
from storage.files import FileStore
from storage.identity import officers
from storage.outbox import Button
from storage.store import Store


@dataclass(frozen=True, slots=True)
class BenefitsClock:
    """What the clock needs of the benefits: the pack in force (a reload is seen at the
    next tick), where evidence files are, and how long decided ones are kept."""

    policy: PolicyHolder
    files: FileStore
    retention_years: int


async def due(store: Store, clock: BenefitsClock, now: datetime, tz: tzinfo) -> int:
    """Remind reviewers of applications untouched for the pack's days (again every as many
    days), officers of hardship files whose review date has come, and everyone of their
    physical exam a week and a day before; delete evidence past its retention."""
    pack = clock.policy.pack
    await applications.purge_evidence(store, clock.files, now, clock.retention_years)
    told = await exams.due_reminders(store, now, tz)
    every = pack.review_reminder_days
    known: dict[str | None, list[int]] = {}  # officers by sub-union, looked up once a tick
    for application, sub_union in await applications.stale(store, pack, now):
        waited = (now - application.updated_at).days
        reviewers = await applications.reviewers_now(store, pack, application, sub_union, known)
        await outbox.tell_each(
            store,
            reviewers,
            reason=f"benefit:{application.id}:stale:{application.stage}:{waited // every}",
            message_key="benefits.notify.stale",
            why_key="benefits.why.reviewer",
            params=outbox.with_buttons(
                {**applications.notice_params(pack, application), "days": waited},
                [Button("benefits.button.show", f"/application show {application.id}")],
            ),
        )
        told += len(reviewers)
    today = now.astimezone(tz).date()
    for record, sub_union in await due_for_review(store, today):
        if sub_union not in known:
            known[sub_union] = await officers(store, sub_union or None)
        if None not in known:
            known[None] = await officers(store, None)
        told_now = known[sub_union] or known[None]
        assert record.next_review is not None
        await outbox.tell_each(
            store,
            told_now,
            reason=f"hardship:{record.id}:review:{record.next_review.isoformat()}",
            message_key="benefits.notify.hardship_review",
            why_key="benefits.why.officer",
            params=outbox.with_buttons(
                {"id": record.id, "due": record.next_review.isoformat()},
                [Button("benefits.button.show", f"/hardship show {record.id}")],
            ),
        )
        told += len(told_now)
    return told
