"""Enqueueing what the bot says on its own, and the deliveries' life: claim, send, record.

One outbox row per (reason, recipient), one delivery per linked platform identity;
both unique, so enqueueing twice tells a person once. A delivery is claimed with a
lease: if the sender dies, the lease runs out and another sender takes it again.
That means a message the platform accepted just before a crash may be sent twice
(at-least-once); we prefer a rare repeat to a lost reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from storage.clock import utcnow
from storage.models import Delivery, Identity, OutboxMessage, Staff
from storage.store import Store
from storage.upsert import insert_ignore

PENDING, SENT, FAILED = "pending", "sent", "failed"


async def enqueue(
    store: Store,
    *,
    reason: str,
    recipient_id: int,
    message_key: str,
    why_key: str,
    params: dict[str, Any] | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message for every platform the recipient linked; False if it was queued before."""
    now = utcnow()
    when = not_before or now
    inserted = await insert_ignore(
        store.session,
        OutboxMessage,
        [
            {
                "reason": reason,
                "recipient_id": recipient_id,
                "message_key": message_key,
                "why_key": why_key,
                "params": params or {},
                "urgent": urgent,
                "created_at": now,
                "not_before": when,
            }
        ],
        conflict=("reason", "recipient_id"),
    )
    outbox_id = await store.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.reason == reason, OutboxMessage.recipient_id == recipient_id
        )
    )
    identities = list(
        await store.session.execute(
            select(Identity.platform, Identity.platform_user_id, Identity.address).where(
                Identity.staff_id == recipient_id
            )
        )
    )
    await insert_ignore(
        store.session,
        Delivery,
        [
            {
                "outbox_id": outbox_id,
                "platform": row.platform,
                "platform_user_id": row.platform_user_id,
                "address": row.address,
                "status": PENDING,
                "attempts": 0,
                "due_at": when,
            }
            for row in identities
        ],
        conflict=("outbox_id", "platform", "platform_user_id"),
    )
    return inserted == 1


BACKFILL_WINDOW = timedelta(days=7)


async def backfill(
    store: Store, staff_id: int, platform: str, platform_user_id: str, address: str | None
) -> int:
    """A newly linked platform gets what this person was sent lately and has not seen anywhere."""
    since = utcnow() - BACKFILL_WINDOW
    delivered = select(Delivery.outbox_id).where(Delivery.status == SENT)
    missed = list(
        await store.session.execute(
            select(OutboxMessage.id, OutboxMessage.not_before).where(
                OutboxMessage.recipient_id == staff_id,
                OutboxMessage.created_at > since,
                OutboxMessage.id.not_in(delivered),
            )
        )
    )
    return await insert_ignore(
        store.session,
        Delivery,
        [
            {
                "outbox_id": row.id,
                "platform": platform,
                "platform_user_id": platform_user_id,
                "address": address,
                "status": PENDING,
                "attempts": 0,
                "due_at": row.not_before,
            }
            for row in missed
        ],
        conflict=("outbox_id", "platform", "platform_user_id"),
    )


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    delivery_id: int
    platform: str
    platform_user_id: str
    address: str | None
    message_key: str
    why_key: str
    params: dict[str, Any]
    language: str | None
    timezone: str | None
    attempts: int


async def claim_due(
    store: Store,
    *,
    platforms: list[str],
    lease: timedelta,
    limit: int = 100,
    platform_user_id: str | None = None,
) -> list[DeliveryJob]:
    """Take up to `limit` due deliveries for these platforms under a lease (committed by caller)."""
    now = utcnow()
    claimable = and_(
        Delivery.status == PENDING,
        Delivery.due_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    )
    query = (
        select(Delivery.id)
        .where(claimable, Delivery.platform.in_(platforms))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if platform_user_id is not None:
        query = query.where(Delivery.platform_user_id == platform_user_id)
    candidates = list(await store.session.scalars(query))
    claimed: list[int] = []
    for delivery_id in candidates:
        result = await store.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, claimable)
            .values(lease_until=now + lease, attempts=Delivery.attempts + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = await store.session.execute(
        select(
            Delivery.id,
            Delivery.platform,
            Delivery.platform_user_id,
            Delivery.address,
            Delivery.attempts,
            OutboxMessage.message_key,
            OutboxMessage.why_key,
            OutboxMessage.params,
            Staff.language,
            Staff.timezone,
        )
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
        .join(Staff, Staff.id == OutboxMessage.recipient_id)
        .where(Delivery.id.in_(claimed))
        .order_by(Delivery.due_at, Delivery.id)
    )
    return [
        DeliveryJob(
            delivery_id=row.id,
            platform=row.platform,
            platform_user_id=row.platform_user_id,
            address=row.address,
            message_key=row.message_key,
            why_key=row.why_key,
            params=dict(row.params or {}),
            language=row.language,
            timezone=row.timezone,
            attempts=row.attempts,
        )
        for row in rows
    ]


async def mark_sent(store: Store, delivery_id: int, message_id: str | None) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=SENT, sent_at=utcnow(), platform_message_id=message_id, lease_until=None)
    )


async def mark_retry(store: Store, delivery_id: int, after: timedelta, reason: str) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(due_at=utcnow() + after, lease_until=None, last_error=reason[:2000])
    )


async def mark_failed(store: Store, delivery_id: int, reason: str) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=FAILED, lease_until=None, last_error=reason[:2000])
    )


async def counts_by_status(store: Store) -> dict[str, int]:
    rows = await store.session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status)
    )
    return {status: count for status, count in rows}
