"""Telling each person when it becomes their turn, through the outbox.

The reason string makes each notice unique per person and occasion, so a retried
command never tells anyone twice. Keys name catalogue messages; `_choices` become
buttons that run the command the person would otherwise type.
"""

from __future__ import annotations

from typing import Any

from storage import outbox
from storage.models import Proposal
from storage.store import Store


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
    choices: list[list[str]] | None = None,
    **extra: Any,
) -> None:
    params = _params(proposal, **extra)
    if choices:
        params["_choices"] = choices
    for staff_id in dict.fromkeys(recipients):
        if staff_id == store.actor.staff_id:
            continue  # nobody is told about what they just did themselves
        await outbox.enqueue(
            store,
            reason=f"proposal:{proposal.id}:{occasion}",
            recipient_id=staff_id,
            message_key=f"proposals.notify.{occasion.split(':')[0]}",
            why_key=f"proposals.why.{why}",
            params=params,
        )
