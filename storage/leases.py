"""Leases: one holder at a time for a named job, taken over only after it expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, update

from storage.clock import utcnow
from storage.models.platform import Lease
from storage.store import Store
from storage.upsert import insert_ignore


async def acquire(store: Store, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another holder's lease is still running."""
    now = utcnow()
    if await insert_ignore(
        store.session, Lease, [{"name": name, "holder": holder, "expires_at": now + ttl}], ("name",)
    ):
        return True
    result = await store.session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(store: Store, name: str, holder: str) -> None:
    await store.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
