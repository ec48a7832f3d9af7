"""Telling each person when it becomes their turn, through the outbox.

The reason string makes each notice unique per person and occasion, so a retried
command never tells anyone twice. Keys name catalogue messages; `buttons` run the
command the person would otherwise type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from storage import outbox
from storage.models import Proposal, Staff, StaffRole
from storage.outbox import Button, with_buttons
from storage.proposals.state import SATISFACTION
from storage.store import Store


def rating_buttons(proposal_id: int) -> list[Button]:
    """满意 / 基本满意 / 不满意: what a proposer may answer to a reply."""
    return [
        Button(f"proposals.satisfaction.{s}", f"/proposal rate {proposal_id} {s}")
        for s in SATISFACTION
    ]


def _params(proposal: Proposal, **extra: Any) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "title": proposal.title,
        "case_no": proposal.case_no or "—",
        "due": proposal.due_date.isoformat() if proposal.due_date else "—",
        **extra,
    }


async def tell(
    store: Store,
    proposal: Proposal,
    occasion: str,
    recipients: list[int],
    *,
    why: str,
    buttons: Sequence[Button] = (),
    **extra: Any,
) -> None:
    """Tell each recipient (but not the person acting) about `occasion`, once each."""
    await outbox.tell_each(
        store,
        recipients,
        reason=f"proposal:{proposal.id}:{occasion}",
        message_key=f"proposals.notify.{occasion.split(':')[0]}",
        why_key=f"proposals.why.{why}",
        params=with_buttons(_params(proposal, **extra), buttons),
    )


# ---------------------------------------------------------------- who to tell


async def staff_with_role(store: Store, role: str, scope: str | None = None) -> list[int]:
    query = (
        select(StaffRole.staff_id)
        .join(Staff, Staff.id == StaffRole.staff_id)
        .where(StaffRole.role == role, Staff.active.is_(True))
    )
    if scope is not None:
        query = query.where(StaffRole.scope == scope)
    return list(dict.fromkeys(await store.session.scalars(query)))


async def handlers_of(store: Store, departments: list[str]) -> list[int]:
    found: list[int] = []
    for department in departments:
        found.extend(await staff_with_role(store, "handler", department))
    return list(dict.fromkeys(found))


async def known_departments(store: Store) -> set[str]:
    handled = await store.session.scalars(
        select(StaffRole.scope).where(StaffRole.role == "handler")
    )
    staffed = await store.session.scalars(select(Staff.department).distinct())
    return {d for d in [*handled, *staffed] if d}
