"""Alerts that cannot wait for the digest: a proposal long overdue.

Each is sent once per cause (the reason holds the proposal and its due date, so a
new due date is a new cause), marked as an alert so the next digest repeats it, and
held by quiet hours like any other notice: an overdue reply can wait for the morning.
Quorum alerts live with the meetings (`storage.meetings.service.quorum_alerts`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select

from storage import outbox
from storage.models import Proposal
from storage.proposals import notify
from storage.proposals.state import WITH_DEPARTMENT
from storage.store import Store


async def overdue(store: Store, now: datetime, tz: tzinfo, days: int) -> int:
    """Tell the school's officers, the committee and the lead department's handlers
    about every proposal overdue by more than `days` days."""
    today = now.astimezone(tz).date()
    late = list(
        await store.session.scalars(
            select(Proposal).where(
                Proposal.status.in_(sorted(WITH_DEPARTMENT)),
                Proposal.due_date < today - timedelta(days=days),
            )
        )
    )
    if not late:
        return 0
    overseers = [
        *await notify.staff_with_role(store, "officer", ""),
        *await notify.staff_with_role(store, "committee"),
    ]
    handlers: dict[str, list[int]] = {}
    queued = 0
    for proposal in late:
        assert proposal.due_date is not None
        department = proposal.lead_department or ""
        if department not in handlers:
            handlers[department] = await notify.handlers_of(store, [department])
        params = {
            "id": proposal.id,
            "title": proposal.title,
            "department": department or "—",
            "days": (today - proposal.due_date).days,
            "due": proposal.due_date.isoformat(),
        }
        buttons = [outbox.Button("digests.button.show", f"/proposal show {proposal.id}")]
        for who, why in ((overseers, "overseer"), (handlers[department], "handler")):
            for staff_id in dict.fromkeys(who):
                queued += await outbox.enqueue(
                    store,
                    reason=f"proposal:{proposal.id}:overdue_alert:{proposal.due_date}",
                    recipient_id=staff_id,
                    message_key="digests.notify.overdue_alert",
                    why_key=f"digests.why.alert_{why}",
                    alert=True,
                    params=outbox.with_buttons(params, buttons),
                )
    return queued
