"""Writing the audit log: every change, and every read of sensitive data, leaves a row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.clock import utcnow
from storage.models import AuditEntry
from storage.store import Store


async def record(
    store: Store, action: str, target_type: str, target_id: object, **detail: Any
) -> None:
    store.session.add(
        AuditEntry(
            at=utcnow(),
            actor_id=store.actor.staff_id,
            platform=store.actor.platform,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail,
        )
    )


async def entries_for(store: Store, target_type: str, target_id: object) -> list[AuditEntry]:
    result = await store.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(result)
